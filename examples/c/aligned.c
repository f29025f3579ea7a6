/* aligned.c — alignments above 16 bytes: posix_memalign, aligned_alloc and
 * memalign give aligned blocks that free() takes back; one stays reachable
 * from a global at exit. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *cache_line;

int main(void)
{
    void *a = NULL;
    if (posix_memalign(&a, 64, 200) != 0) return 1;
    char *b = aligned_alloc(4096, 4096);
    char *c = memalign(256, 10);
    cache_line = aligned_alloc(128, 128);
    memset(a, 1, 200);
    memset(b, 2, 4096);
    memset(c, 3, 10);
    printf("%d %d %d %d\n", (int)((uintptr_t)a % 64), (int)((uintptr_t)b % 4096),
           (int)((uintptr_t)c % 256), (int)((uintptr_t)cache_line % 128));
    free(a);
    free(b);
    free(c);
    return 0;
}
