/* grow_uninit.c — realloc() keeps the old bytes, but what it adds is
 * garbage: summing the grown array reads it. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *a = malloc(4 * sizeof(int));
    for (int i = 0; i < 4; i++)
        a[i] = i + 1;
    a = realloc(a, 8 * sizeof(int));
    int sum = 0;
    for (int i = 0; i < 8; i++)
        sum += a[i]; /* <- error: a[4] was never written */
    printf("sum %s\n", sum > 0 ? "positive" : "not positive");
    free(a);
    return 0;
}
