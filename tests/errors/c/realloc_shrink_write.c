/* realloc_shrink_write: writing where the block used to be. */
#include <stdlib.h>

int main(void)
{
    char *p = malloc(100);
    p = realloc(p, 10);
    p[15] = 'x'; /* <- error */
    free(p);
    return 0;
}
