/* negative_index: p[-1] is the int before the block. */
#include <stdlib.h>

int main(void)
{
    int *p = malloc(10 * sizeof(int));
    p[-1] = 7; /* <- error */
    free(p);
    return 0;
}
