/* uninit_after_realloc: realloc keeps old bytes; the new ones are garbage. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *a = malloc(4 * sizeof(int));
    for (int i = 0; i < 4; i++)
        a[i] = i;
    a = realloc(a, 8 * sizeof(int));
    if (a[3] == 3)
        printf("kept\n");
    if (a[6] == 0) /* <- error */
        printf("zero?\n");
    free(a);
    return 0;
}
