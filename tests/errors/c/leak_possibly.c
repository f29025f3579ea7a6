/* leak_possibly: only a pointer into the middle of the block survives. */
#include <stdlib.h>

char *cursor; /* a global: valgrind scans it */

int main(void)
{
    char *buf = malloc(100);
    cursor = buf + 10;
    buf = NULL;
    return 0;
}
