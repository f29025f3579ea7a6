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

/* Map [off, off+size) of the memfd at exactly `addr` (the C runtime's
 * pinned heap): never over an existing mapping (EEXIST), and refused
 * where the kernel placed it elsewhere (one that ignores the flag). */
int _hv_os_map_fixed(int fd, uint64_t off, uint64_t size, uint64_t addr,
                     bool accessible)
{
#if defined(MAP_FIXED_NOREPLACE)
    int flags = MAP_SHARED | MAP_FIXED_NOREPLACE;
#else
    int flags = MAP_SHARED;
#endif
    int prot = accessible ? PROT_READ | PROT_WRITE : PROT_NONE;
    void *want = (void *)(uintptr_t)addr;
    void *p = mmap(want, size, prot, flags, fd, (off_t)off);
    if (p == MAP_FAILED) return errno;
    if (p != want) {
        munmap(p, size);
        return EEXIST;
    }
    return 0;
}

/* Replace the mapping at p with [off, off+size) of another memfd, at the
 * same address (after fork: the child's own copy of the arena). */
int _hv_os_remap(int fd, uint64_t off, void *p, uint64_t size, bool accessible)
{
    int prot = accessible ? PROT_READ | PROT_WRITE : PROT_NONE;
    void *q = mmap(p, size, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)off);
    return q == MAP_FAILED ? errno : 0;
}

/* A fresh memfd of `size` bytes with the contents of `fd`: only the parts
 * that hold data are copied (the arena is sparse: gigabytes reserved, a
 * few megabytes written). */
int _hv_os_copy_fd(int fd, uint64_t size, int *out)
{
    int nf = memfd("heapviz");
    if (nf < 0) return errno;
    if (ftruncate(nf, (off_t)size) != 0) goto fail;
    const uint8_t *src = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (src == MAP_FAILED) goto fail;
    uint8_t *dst = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, nf, 0);
    if (dst == MAP_FAILED) {
        munmap((void *)src, size);
        goto fail;
    }
    off_t at = 0;
    while ((uint64_t)at < size) {
        off_t data = lseek(fd, at, SEEK_DATA);
        if (data < 0) break; /* ENXIO: no data after `at` */
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0 || (uint64_t)hole > size) hole = (off_t)size;
        memcpy(dst + data, src + data, (size_t)(hole - data));
        at = hole;
    }
    munmap((void *)src, size);
    munmap(dst, size);
    *out = nf;
    return 0;
fail:;
    int e = errno;
    close(nf);
    return e;
}
