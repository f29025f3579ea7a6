/* print_after_free: OSTEP homework — free an array of 100 ints, then print one. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *data = malloc(100 * sizeof(int));
    for (int i = 0; i < 100; i++)
        data[i] = i;
    free(data);
    printf("%d\n", data[42]); /* <- error */
    return 0;
}
