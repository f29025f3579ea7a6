/* realloc_moved_old_pointer: keeping the pointer realloc() replaced. */
#include <stdlib.h>

int main(void)
{
    int *p = malloc(4 * sizeof(int));
    int *q = malloc(16); /* p cannot grow in place: q is in the way */
    int *bigger = realloc(p, 100 * sizeof(int));
    p[0] = 1; /* <- error */
    free(bigger);
    free(q);
    return 0;
}
