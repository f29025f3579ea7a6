/* malloc_zero_write: malloc(0) gives a block of no bytes. */
#include <stdlib.h>

int main(void)
{
    char *p = malloc(0);
    p[0] = 'x'; /* <- error */
    free(p);
    return 0;
}
