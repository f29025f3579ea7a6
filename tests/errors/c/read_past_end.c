/* read_past_end: summing one element too many. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *a = malloc(10 * sizeof(int));
    for (int i = 0; i < 10; i++)
        a[i] = i;
    int sum = 0;
    for (int i = 0; i <= 10; i++)
        sum += a[i]; /* <- error */
    printf("%d\n", sum);
    free(a);
    return 0;
}
