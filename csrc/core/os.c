/* os.c — the only file that asks the kernel for memory: create the shared
 * mapping (a memfd, or anonymous shared memory where memfd_create is
 * missing), attach to another process's mapping, protect and release
 * pages.  Every function returns 0 or an errno value, as mimalloc's
 * prim.c does; the caller turns that into an hv_err_t. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t _hv_os_page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (uint64_t)p : 4096;
}

static int memfd(const char *name)
{
#if defined(__linux__) && defined(MFD_CLOEXEC)
    return memfd_create(name, MFD_CLOEXEC);
#else
    (void)name;
    errno = ENOSYS;
    return -1;
#endif
}

/* A fresh zero-filled shared mapping of `size` bytes.  *fd is the memfd,
 * or -1 when only an anonymous mapping was possible. */
int _hv_os_create(uint64_t size, int *fd, void **out)
{
    int f = memfd("heapviz");
    if (f >= 0 && ftruncate(f, (off_t)size) != 0) {
        int e = errno;
        close(f);
        return e;
    }
    int flags = f >= 0 ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, f, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        if (f >= 0) close(f);
        return e;
    }
    *fd = f;
    *out = p;
    return 0;
}

/* Map another process's arena; read-only readers cannot disturb it. */
int _hv_os_attach(int fd, bool readonly, void **out, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return errno;
    if (st.st_size <= 0) return EINVAL;
    int prot = readonly ? PROT_READ : PROT_READ | PROT_WRITE;
    void *p = mmap(NULL, (size_t)st.st_size, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return errno;
    *out = p;
    *size = (uint64_t)st.st_size;
    return 0;
}

int _hv_os_unmap(void *p, uint64_t size)
{
    return munmap(p, size) == 0 ? 0 : errno;
}

int _hv_os_protect(void *p, uint64_t size, bool accessible)
{
    int prot = accessible ? PROT_READ | PROT_WRITE : PROT_NONE;
    return mprotect(p, size, prot) == 0 ? 0 : errno;
}

/* Fault [p, p+size) in now, writable, in one call instead of one trap
 * per page (a hint: failure is harmless). */
int _hv_os_populate(void *p, uint64_t size)
{
#if defined(MADV_POPULATE_WRITE)
    return madvise(p, size, MADV_POPULATE_WRITE) == 0 ? 0 : errno;
#else
    (void)p;
    (void)size;
    return 0;
#endif
}

/* Give the pages of [p, p+size) back; they read as zeros afterwards.
 * `off` is their offset in the memfd. */
int _hv_os_release(int fd, void *p, uint64_t off, uint64_t size)
{
#if defined(FALLOC_FL_PUNCH_HOLE)
    if (fd >= 0 && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                             (off_t)off, (off_t)size) == 0)
        return 0;
#else
    (void)fd;
    (void)off;
#endif
#if defined(MADV_REMOVE)
    if (madvise(p, size, MADV_REMOVE) == 0) return 0;
#endif
    /* last resort: zero them ourselves */
    memset(p, 0, size);
    return 0;
}
