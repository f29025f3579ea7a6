/* data100.c — homework question 5: an array of 100 integers, then data[100]
 * set to zero: one past the end.  The program "works"; the write lands in
 * the allocator's footer, which heapviz shows (and, in strict mode, puts
 * back). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *data = malloc(100 * sizeof(int));
    for (int i = 0; i < 100; i++)
        data[i] = i;
    data[100] = 0; /* <- error: Invalid write of size 4, 0 bytes after */
    printf("data[99] = %d\n", data[99]);
    free(data);
    return 0;
}
