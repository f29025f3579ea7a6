/* print_freed.c — homework question 6: allocate an array, free it, then
 * print one of its elements. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *data = malloc(100 * sizeof(int));
    for (int i = 0; i < 100; i++)
        data[i] = i;
    free(data);
    printf("data[10] = %d\n", data[10]); /* <- error: read after free */
    return 0;
}
