/* free_never_malloced: memory from mmap() is not malloc's to free. */
#include <stdlib.h>
#include <sys/mman.h>

int main(void)
{
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 'x';
    free(p); /* <- error */
    munmap(p, 4096);
    return 0;
}
