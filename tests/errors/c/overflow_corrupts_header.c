/* overflow_corrupts_header: the overflow lands in the next chunk's header;
 * glibc notices at the next free() and aborts. */
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *name = malloc(8);
    char *other = malloc(8);
    strcpy(name, "a name much longer than eight bytes"); /* <- error */
    free(name); /* glibc: free(): invalid next size (fast) */
    free(other);
    return 0;
}
