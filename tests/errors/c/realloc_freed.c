/* realloc_freed: realloc() of a block already freed. */
#include <stdlib.h>

int main(void)
{
    char *buf = malloc(32);
    free(buf);
    buf = realloc(buf, 64); /* <- error */
    free(buf);
    return 0;
}
