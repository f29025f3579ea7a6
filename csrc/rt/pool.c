/* pool.c — the runtime's own memory.
 *
 * The runtime must never allocate from the student's heap for itself: its
 * blocks would show in the pictures, count in the leak report, and an
 * allocation made while the heap's lock is held would deadlock.  So the
 * core's tables, the stack depot, libbacktrace's helpers and whatever libc
 * asks for while the runtime is busy (pthread_atfork's list, dlsym's
 * buffers during start-up) come from here: one reserved region, carved by
 * a bump pointer into power-of-two blocks that are reused from free lists.
 * Simple and never returned to the kernel: the runtime's needs are small.
 *
 *   [ 16-byte header: class | magic | offset to the raw start ][ payload ]
 */
#include "rt.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define POOL_BYTES (1ull << 32) /* reserved, touched only where used */
#define POOL_MAGIC 0x48565054u  /* "HVPT" */
#define MIN_CLASS  4            /* 16 bytes */
#define MAX_CLASS  32

typedef struct hdr {
    uint32_t cls;
    uint32_t magic;
    uint64_t back; /* payload - raw start */
} hdr_t;

static uint8_t *lo, *next, *hi;
static void *free_list[MAX_CLASS + 1];
static atomic_flag busy = ATOMIC_FLAG_INIT;

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire))
        ;
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&busy, memory_order_release);
}

static int reserve(void)
{
    void *p = mmap(NULL, POOL_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -1;
    lo = next = p;
    hi = lo + POOL_BYTES;
    return 0;
}

static uint32_t class_of(size_t n)
{
    uint32_t c = MIN_CLASS;
    while (c < MAX_CLASS && ((size_t)1 << c) < n)
        c++;
    return c;
}

/* A raw block of class c (2^c bytes), from its free list or the bump. */
static void *take(uint32_t c)
{
    void *p = free_list[c];
    if (p) {
        memcpy(&free_list[c], p, sizeof p);
        return p;
    }
    if (!lo && reserve()) return NULL;
    size_t size = (size_t)1 << c;
    if ((size_t)(hi - next) < size) return NULL;
    p = next;
    next += size;
    return p;
}

void *_hv_rt_pool_alloc(size_t n, size_t align)
{
    if (align < 16) align = 16;
    if (n > POOL_BYTES / 4 || align > 65536) return NULL;
    size_t need = n + sizeof(hdr_t) + (align > 16 ? align : 0);
    uint32_t c = class_of(need);
    lock();
    uint8_t *raw = take(c);
    unlock();
    if (!raw) return NULL;
    uintptr_t pay = ((uintptr_t)raw + sizeof(hdr_t) + align - 1) & ~(align - 1);
    hdr_t *h = (hdr_t *)(pay - sizeof(hdr_t));
    h->cls = c;
    h->magic = POOL_MAGIC;
    h->back = pay - (uintptr_t)raw;
    return (void *)pay;
}

int _hv_rt_pool_owns(const void *p)
{
    const uint8_t *q = p;
    return lo && q >= lo && q < hi;
}

size_t _hv_rt_pool_size(const void *p)
{
    const hdr_t *h = (const hdr_t *)p - 1;
    return ((size_t)1 << h->cls) - h->back;
}

void _hv_rt_pool_free(void *p)
{
    if (!p) return;
    hdr_t *h = (hdr_t *)p - 1;
    if (h->magic != POOL_MAGIC) return; /* not ours: leave it */
    void *raw = (uint8_t *)p - h->back;
    uint32_t c = h->cls;
    h->magic = 0;
    lock();
    memcpy(raw, &free_list[c], sizeof raw);
    free_list[c] = raw;
    unlock();
}

void *_hv_rt_pool_realloc(void *p, size_t n)
{
    if (!p) return _hv_rt_pool_alloc(n, 16);
    size_t have = _hv_rt_pool_size(p);
    if (n <= have) return p;
    void *q = _hv_rt_pool_alloc(n, 16);
    if (!q) return NULL;
    memcpy(q, p, have);
    _hv_rt_pool_free(p);
    return q;
}

void _hv_rt_pool_span(uintptr_t *l, uintptr_t *h)
{
    *l = (uintptr_t)lo;
    *h = (uintptr_t)hi;
}

void _hv_rt_pool_hold(int on)
{
    if (on)
        lock();
    else
        unlock();
}
