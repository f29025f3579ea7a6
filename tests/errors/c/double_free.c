/* double_free: freeing the same block twice. */
#include <stdlib.h>

int main(void)
{
    char *p = malloc(10);
    free(p);
    free(p); /* <- error */
    return 0;
}
