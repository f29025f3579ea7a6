/* memcpy_overlap: memcpy with overlapping regions (memmove is for that). */
#include <stdlib.h>
#include <string.h>

/* glibc's memcpy runs memmove's code, which valgrind cannot tell from memmove;
 * the checked __memcpy_chk (what -D_FORTIFY_SOURCE makes of memcpy) is
 * intercepted as a memcpy, so valgrind sees the overlap. */
extern void *__memcpy_chk(void *, const void *, size_t, size_t);
#define memcpy(d, s, n) __memcpy_chk((d), (s), (n), (size_t)-1)

int main(void)
{
    char *buf = malloc(64);
    memset(buf, 'x', 64);
    memcpy(buf + 8, buf, 32); /* <- error */
    free(buf);
    return 0;
}
