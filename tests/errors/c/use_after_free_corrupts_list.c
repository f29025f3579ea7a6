/* use_after_free_corrupts_list: a write through a dangling pointer
 * overwrites the free list's link kept inside the freed block. */
#include <stdlib.h>

int main(void)
{
    long *a = malloc(32);
    char *guard = malloc(32);
    free(a);
    a[0] = 0x4141414141414141; /* <- error */
    char *b = malloc(32);
    char *c = malloc(32); /* glibc follows the damaged link */
    (void)guard, (void)b, (void)c;
    return 0;
}
