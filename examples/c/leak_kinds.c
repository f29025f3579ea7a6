/* leak_kinds.c — one block of each of valgrind's four kinds at exit:
 * still reachable (a global points at it), possibly lost (only a pointer
 * into its middle remains), definitely lost (no pointer at all) with an
 * indirectly lost block it points to. */
#include <stdlib.h>
#include <string.h>

char *kept;         /* still reachable */
char *middle;       /* possibly lost: points inside its block */

struct pair {
    char *name;
};

static void lose(void)
{
    struct pair *p = malloc(sizeof *p); /* definitely lost */
    p->name = strdup("indirectly lost");
}

int main(void)
{
    kept = malloc(100);
    kept[0] = 0;
    middle = (char *)malloc(64) + 16;
    lose();
    return 0;
}
