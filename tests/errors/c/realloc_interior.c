/* realloc_interior: realloc() of a pointer into the middle of a block. */
#include <stdlib.h>

int main(void)
{
    char *buf = malloc(64);
    char *r = realloc(buf + 8, 128); /* <- error */
    (void)r;
    free(buf);
    return 0;
}
