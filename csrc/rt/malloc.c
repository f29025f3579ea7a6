/* malloc.c — the C library's malloc family, on the heapviz heap.
 *
 * Every call takes the one lock (a program's threads share one heap, and
 * the core has a single writer), captures the caller's stack (its id tags
 * the block: where it was allocated, where freed), and calls the core.
 * What the core refuses — a free of a pointer malloc never returned, a
 * double free, a damaged header — is reported in valgrind's words and the
 * call does nothing, as under valgrind; a damaged heap is fatal, as under
 * glibc.
 *
 * hv_rt_depth > 0 means the runtime itself (or start-up) is asking:
 * those requests, and frees of what they got, go to the pool.  A signal
 * handler that calls malloc while this thread is inside the runtime gets
 * pool memory too instead of a deadlock.
 *
 * Alignments above the heap's own (16 bytes by default) are made by
 * asking for align - 1 bytes more and handing out an aligned pointer inside
 * the block; a small table maps it back for free, realloc and the leak
 * check, and the bytes around it are unaddressable (slack). */
#include "rt.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
/* Another name for a function, with the attributes of glibc's declaration
 * of that name (gcc's `copy`). */
#define ALIAS(name) __attribute__((alias(#name), copy(name)))

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;

void _hv_rt_lock(void)
{
    pthread_mutex_lock(&big_lock);
}
void _hv_rt_unlock(void)
{
    pthread_mutex_unlock(&big_lock);
}
int _hv_rt_trylock(void)
{
    return pthread_mutex_trylock(&big_lock) == 0;
}
void _hv_rt_lock_reset(void)
{
    pthread_mutex_init(&big_lock, NULL);
}

/* Runtime code or start-up asks: the pool serves. */
static inline int pooled(void)
{
    if (__builtin_expect(_hv_rt.state != 2, 0)) _hv_rt_start();
    return hv_rt_depth > 0 || _hv_rt.state != 2;
}

/* The runtime's side of a call: depth up (the core's own allocations go to
 * the pool, a signal handler's too), the lock, and strict mode's repairs
 * of the last bad store. */
static void enter(void)
{
    hv_rt_depth++;
    _hv_rt_lock();
    hv_rt_repair();
}

static void leave(void)
{
    _hv_rt_unlock();
    hv_rt_depth--;
}

/* The caller's stack, starting in runtime function `fn`. */
#define HERE(st, fn)                                                           \
    do {                                                                       \
        _hv_rt_stack_here(&(st), __builtin_frame_address(0),                   \
                          (uintptr_t)__builtin_return_address(0));             \
        (st).entry = (fn);                                                     \
    } while (0)

/* ------------------------------------------------------------------------
 * Over-aligned blocks: aligned pointer -> the block's payload
 * ---------------------------------------------------------------------- */
typedef struct alias {
    uintptr_t aligned; /* 0: empty slot */
    uintptr_t payload;
    uint64_t size; /* bytes asked for */
} alias_t;

static alias_t *aliases;
static uint64_t alias_mask, alias_used;

static alias_t *alias_slot(uintptr_t a)
{
    uint64_t i = (a >> 4) * 0x9E3779B97F4A7C15ull;
    for (i &= alias_mask;; i = (i + 1) & alias_mask)
        if (aliases[i].aligned == a || aliases[i].aligned == 0)
            return &aliases[i];
}

static alias_t *alias_find(uintptr_t a)
{
    if (!alias_used) return NULL;
    alias_t *s = alias_slot(a);
    return s->aligned ? s : NULL;
}

static int alias_add(uintptr_t a, uintptr_t payload, uint64_t size)
{
    if (2 * (alias_used + 1) > alias_mask) { /* grow to keep it half empty */
        alias_t *old = aliases;
        uint64_t n = alias_mask ? 2 * (alias_mask + 1) : 64;
        aliases = _hv_rt_pool_alloc(n * sizeof *aliases, 16);
        if (!aliases) return aliases = old, -1;
        memset(aliases, 0, n * sizeof *aliases);
        uint64_t oldn = old ? alias_mask + 1 : 0;
        alias_mask = n - 1;
        for (uint64_t i = 0; i < oldn; i++)
            if (old[i].aligned) *alias_slot(old[i].aligned) = old[i];
        _hv_rt_pool_free(old);
    }
    *alias_slot(a) = (alias_t){a, payload, size};
    alias_used++;
    return 0;
}

/* Linear probing: re-insert the rest of the cluster after a removal. */
static void alias_drop(alias_t *s)
{
    s->aligned = 0;
    alias_used--;
    for (uint64_t i = ((uint64_t)(s - aliases) + 1) & alias_mask;
         aliases[i].aligned; i = (i + 1) & alias_mask) {
        alias_t e = aliases[i];
        aliases[i].aligned = 0;
        *alias_slot(e.aligned) = e;
    }
}

void _hv_rt_aliases(void (*fn)(uintptr_t aligned, uintptr_t payload,
                               uint64_t size, void *arg),
                    void *arg)
{
    for (uint64_t i = 0; alias_used && i <= alias_mask; i++)
        if (aliases[i].aligned)
            fn(aliases[i].aligned, aliases[i].payload, aliases[i].size, arg);
}

/* ------------------------------------------------------------------------
 * The operations, under the lock
 * ---------------------------------------------------------------------- */
/* What uninstrumented code (libc, or any program run by LD_PRELOAD)
 * allocates is taken as written: nothing tracks its stores. */
static void initialised_unless_tracked(uintptr_t p, uint64_t n, uintptr_t pc)
{
    if (p && hv_rt_map.instrumented &&
        !(pc >= _hv_rt.text_lo && pc < _hv_rt.text_hi))
        hv_shadow_set(_hv_rt.heap, p, n, HV_SH_INIT);
}

/* An allocation error of the core: the heap is damaged. */
static void check_alloc(hv_err_t err, const char *fn, uintptr_t p,
                        const hv_rt_stack_t *st)
{
    if (err) _hv_rt_free_error(err, p, fn, st);
}

/* valgrind: "Argument 'size' of function malloc has a fishy (possibly
 * negative) value: -1".  The call then returns NULL. */
static int fishy(size_t n, const char *fn, const char *arg,
                 const hv_rt_stack_t *st)
{
    if ((int64_t)n >= 0) return 0;
    if (_hv_rt_error_new(HV_ERR_FISHY, (uintptr_t)arg, st)) {
        _hv_rt_out("Argument '%s' of function %s has a fishy (possibly "
                   "negative) value: %lld",
                   arg, fn, (long long)n);
        _hv_rt_out_stack(st, fn);
        _hv_rt_error_end(HV_ERR_FISHY, 0, n, "fishy", st);
    }
    return 1;
}

static void *alloc_locked(size_t n, int zero, const hv_rt_stack_t *st)
{
    hv_addr_t p = 0;
    uint32_t site = _hv_rt_stack_intern(st);
    hv_err_t err = zero ? hv_calloc(_hv_rt.heap, 1, n, site, &p)
                        : hv_malloc(_hv_rt.heap, n, site, &p);
    check_alloc(err, zero ? "calloc" : "malloc", 0, st);
    if (p) {
        _hv_rt.n_alloc++;
        _hv_rt.bytes_alloc += n;
        if (!zero) initialised_unless_tracked(p, n, st->pc[0]);
    }
    return (void *)(uintptr_t)p;
}

static void free_locked(void *ptr, const char *fn, const hv_rt_stack_t *st)
{
    uintptr_t p = (uintptr_t)ptr;
    alias_t *a = alias_find(p);
    if (_hv_rt_quarantined(p)) {
        _hv_rt_free_error(HV_EDOUBLEFREE, p, fn, st);
        return;
    }
    if (!a && _hv_rt_quarantine_hold(p, _hv_rt_stack_intern(st))) {
        _hv_rt.n_free++;
        return;
    }
    hv_err_t err = hv_free(_hv_rt.heap, a ? a->payload : p,
                           _hv_rt_stack_intern(st), HV_FREE_CHECKED);
    if (err) {
        _hv_rt_free_error(err, p, fn, st);
        return;
    }
    _hv_rt.n_free++;
    if (a) alias_drop(a);
}

/* The bytes malloc was asked for, for the block whose payload is p. */
static uint64_t requested(uintptr_t p)
{
    alias_t *a = alias_find(p);
    if (a) return a->size;
    if (_hv_rt_quarantined(p)) return 0;
    uint64_t req = 0;
    hv_block_state_t state;
    hv_addr_t start;
    uint64_t seq;
    if (hv_block_ident(_hv_rt.heap, p, &start, &seq, &state, &req) ||
        (state != HV_BLOCK_ALLOCATED && state != HV_BLOCK_MMAPPED))
        return 0;
    return req;
}

static void *aligned_locked(size_t align, size_t n, const hv_rt_stack_t *st)
{
    if (align <= hv_heap_config(_hv_rt.heap)->align)
        return alloc_locked(n, 0, st);
    if (n > SIZE_MAX - align) return NULL;
    uintptr_t p = (uintptr_t)alloc_locked(n + align - 1, 0, st);
    if (!p) return NULL;
    uintptr_t a = (p + align - 1) & ~(uintptr_t)(align - 1);
    if (a == p && align <= 16) return (void *)p;
    if (alias_add(a, p, n)) {
        free_locked((void *)p, "free", st);
        return NULL;
    }
    _hv_rt.bytes_alloc -= align - 1; /* the user asked for n */
    hv_shadow_set(_hv_rt.heap, p, a - p, HV_SH_SLACK);
    hv_shadow_set(_hv_rt.heap, a + n, p + n + align - 1 - (a + n), HV_SH_SLACK);
    return (void *)a;
}

static void *realloc_locked(void *ptr, size_t n, const hv_rt_stack_t *st)
{
    uintptr_t p = (uintptr_t)ptr;
    alias_t *a = alias_find(p);
    if (_hv_rt_quarantined(p)) { /* freed, only held back */
        _hv_rt_free_error(HV_EDOUBLEFREE, p, "realloc", st);
        return NULL;
    }
    if (a) { /* an aligned block moves to an ordinary one */
        void *q = n ? alloc_locked(n, 0, st) : NULL;
        if (n && !q) return NULL;
        uint64_t keep = a->size < n ? a->size : n;
        if (q) memcpy(q, ptr, keep);
        if (q) hv_shadow_copy(_hv_rt.heap, (uintptr_t)q, p, keep);
        free_locked(ptr, "realloc", st);
        return q;
    }
    hv_addr_t out = 0;
    hv_err_t err = hv_realloc(_hv_rt.heap, p, n, _hv_rt_stack_intern(st),
                              HV_FREE_CHECKED, &out);
    if (err) {
        _hv_rt_free_error(err, p, "realloc", st);
        return NULL;
    }
    if (n == 0) {
        _hv_rt.n_free++;
        return NULL;
    }
    if (out) {
        _hv_rt.n_alloc++;
        _hv_rt.n_free++;
        _hv_rt.bytes_alloc += n;
        initialised_unless_tracked(out, n, st->pc[0]);
    }
    return (void *)(uintptr_t)out;
}

/* ------------------------------------------------------------------------
 * The exported family
 * ---------------------------------------------------------------------- */
/* The bodies are inlined into each exported function, so that the stack
 * they capture starts at that function's caller. */
#define INLINE static inline __attribute__((always_inline))

INLINE void *malloc_here(size_t n, const char *fn)
{
    if (pooled()) return _hv_rt_pool_alloc(n, 16);
    hv_rt_stack_t st;
    HERE(st, fn);
    enter();
    void *p = fishy(n, fn, "size", &st) ? NULL : alloc_locked(n, 0, &st);
    leave();
    if (!p) errno = ENOMEM;
    return p;
}

INLINE void free_here(void *p, const char *fn)
{
    if (!p) return;
    if (_hv_rt_pool_owns(p)) {
        _hv_rt_pool_free(p);
        return;
    }
    if (pooled()) return; /* a stranger's pointer during start-up */
    hv_rt_stack_t st;
    HERE(st, fn);
    enter();
    free_locked(p, fn, &st);
    leave();
}

INLINE void *calloc_here(size_t nmemb, size_t size)
{
    if (pooled()) {
        if (size && nmemb > SIZE_MAX / size) return NULL;
        void *p = _hv_rt_pool_alloc(nmemb * size, 16);
        return p ? memset(p, 0, nmemb * size) : NULL;
    }
    hv_rt_stack_t st;
    HERE(st, "calloc");
    void *p = NULL;
    enter();
    if (!fishy(nmemb, "calloc", "nmemb", &st) &&
        !fishy(size, "calloc", "size", &st) &&
        !(size && nmemb > SIZE_MAX / size)) /* valgrind: silent, NULL */
        p = alloc_locked(nmemb * size, 1, &st);
    leave();
    if (!p) errno = ENOMEM;
    return p;
}

INLINE void *realloc_here(void *p, size_t n)
{
    if (!p) return malloc_here(n, "realloc");
    if (_hv_rt_pool_owns(p)) return _hv_rt_pool_realloc(p, n);
    if (pooled()) return NULL;
    hv_rt_stack_t st;
    HERE(st, "realloc");
    enter();
    void *q =
        fishy(n, "realloc", "size", &st) ? NULL : realloc_locked(p, n, &st);
    leave();
    if (!q && n) errno = ENOMEM;
    return q;
}

INLINE void *aligned_here(size_t align, size_t n, const char *fn)
{
    if (pooled()) return _hv_rt_pool_alloc(n, align);
    hv_rt_stack_t st;
    HERE(st, fn);
    enter();
    void *p = aligned_locked(align, n, &st);
    leave();
    if (!p) errno = ENOMEM;
    return p;
}

EXPORT void *malloc(size_t n)
{
    return malloc_here(n, "malloc");
}

EXPORT void free(void *p)
{
    free_here(p, "free");
}

EXPORT void cfree(void *p) ALIAS(free);

EXPORT void *calloc(size_t nmemb, size_t size)
{
    return calloc_here(nmemb, size);
}

EXPORT void *realloc(void *p, size_t n)
{
    return realloc_here(p, n);
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_here(p, nmemb * size);
}

static int power_of_two(size_t a)
{
    return a && !(a & (a - 1));
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (!power_of_two(align) || align % sizeof(void *)) return EINVAL;
    void *p = aligned_here(align, n, "posix_memalign");
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (!power_of_two(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_here(align, n, "aligned_alloc");
}

static size_t round_align(size_t align) /* glibc rounds up */
{
    size_t a = 16;
    while (a < align)
        a *= 2;
    return a;
}

EXPORT void *memalign(size_t align, size_t n)
{
    return aligned_here(round_align(align), n, "memalign");
}

EXPORT void *__libc_memalign(size_t align, size_t n)
{
    return aligned_here(round_align(align), n, "memalign");
}

EXPORT void *valloc(size_t n)
{
    return aligned_here(4096, n, "valloc");
}

EXPORT void *pvalloc(size_t n)
{
    return aligned_here(4096, (n + 4095) & ~(size_t)4095, "pvalloc");
}

/* valgrind's answer: the bytes asked for (what glibc adds beyond them is
 * unaddressable here). */
EXPORT size_t malloc_usable_size(void *p)
{
    if (!p) return 0;
    if (_hv_rt_pool_owns(p)) return _hv_rt_pool_size(p);
    if (pooled()) return 0;
    hv_rt_depth++;
    _hv_rt_lock();
    size_t n = requested((uintptr_t)p);
    _hv_rt_unlock();
    hv_rt_depth--;
    return n;
}

/* glibc's other names for the same functions. */
EXPORT void *__libc_malloc(size_t n) ALIAS(malloc);
EXPORT void __libc_free(void *p) ALIAS(free);
EXPORT void *__libc_calloc(size_t a, size_t b) ALIAS(calloc);
EXPORT void *__libc_realloc(void *p, size_t n) ALIAS(realloc);

/* ------------------------------------------------------------------------
 * Stubs: glibc's tuning and statistics, answered from the heap's stats
 * ---------------------------------------------------------------------- */
EXPORT int mallopt(int param, int value)
{
    (void)param;
    (void)value;
    return 1; /* accepted (and ignored) */
}

EXPORT int malloc_trim(size_t pad)
{
    (void)pad;
    return 0;
}

EXPORT void malloc_stats(void) {}

static hv_stats_t stats_now(void)
{
    hv_stats_t s = {0};
    if (pooled()) return s;
    hv_rt_depth++;
    _hv_rt_lock();
    hv_stats(_hv_rt.heap, &s);
    _hv_rt_unlock();
    hv_rt_depth--;
    return s;
}

EXPORT struct mallinfo2 mallinfo2(void)
{
    hv_stats_t s = stats_now();
    return (struct mallinfo2){.arena = s.brk_size,
                              .ordblks = s.free_blocks,
                              .hblks = s.n_mmap - s.n_munmap,
                              .hblkhd = s.mmapped,
                              .uordblks = s.in_use,
                              .fordblks = s.free_bytes,
                              .keepcost = s.largest_free};
}

EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m = mallinfo2();
    return (struct mallinfo){.arena = (int)m.arena,
                             .ordblks = (int)m.ordblks,
                             .hblks = (int)m.hblks,
                             .hblkhd = (int)m.hblkhd,
                             .uordblks = (int)m.uordblks,
                             .fordblks = (int)m.fordblks,
                             .keepcost = (int)m.keepcost};
}
