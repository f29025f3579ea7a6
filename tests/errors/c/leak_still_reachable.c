/* leak_still_reachable: never freed, but a pointer to it lives at exit. */
#include <stdlib.h>

char *config; /* a global: valgrind scans it */

int main(void)
{
    config = malloc(50);
    config[0] = 0;
    return 0;
}
