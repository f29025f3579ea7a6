/* leak_definitely: the only pointer to a block is overwritten. */
#include <stdlib.h>

int main(void)
{
    char *p = malloc(10);
    p = NULL; /* <- lost */
    (void)p;
    return 0;
}
