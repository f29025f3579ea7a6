/* asan.c — the compiler's access callbacks.
 *
 * `heapviz cc` compiles with -fsanitize=kernel-address in outline mode: a
 * call before every load and store, __asan_load4_noabort(addr) and so on,
 * with no sanitizer runtime of the compiler's own.  This file is that
 * runtime.  The fast path reads the heap's shadow (one byte per byte, the
 * core's HV_SH_* states): a load of written payload bytes, or a store into
 * payload bytes, is fine and marks them written.  Anything else — header,
 * footer, padding, a free block, never-written bytes read — goes to the
 * runtime (hv_rt_access), which reports in valgrind's words.  Accesses
 * outside the heap are not checked (the stack and globals have no
 * redzones), except below it: the first 64 KiB hold nothing, so a NULL
 * dereference is reported as the invalid read it is, before the fault. */
#include "cc.h"

#define ALWAYS static inline __attribute__((always_inline))

/* Eight shadow bytes of one state. */
#define ALL(st) (0x0101010101010101ull * (st))

ALWAYS uint64_t load_bytes(const uint8_t *s, size_t n)
{
    uint64_t v = 0;
    __builtin_memcpy(&v, s, n);
    return v;
}

__attribute__((noinline, cold)) static void
slow(uintptr_t a, size_t n, int write, void *fp, uintptr_t ret)
{
    if (!hv_rt_map.instrumented) return;
    hv_rt_access(a, n, write, n <= 8 && !write, NULL, fp, ret);
}

/* States of n (1..16) bytes at s: all written (reads), all payload
 * (writes: then written from now on)? */
ALWAYS int fast(uint8_t *s, size_t n, int write)
{
    if (n <= 8) {
        uint64_t v = load_bytes(s, n), init = ALL(HV_SH_INIT) >> (64 - 8 * n);
        if (v == init) return 1;
        if (!write || v != (ALL(HV_SH_UNINIT) >> (64 - 8 * n))) return 0;
        __builtin_memset(s, HV_SH_INIT, n);
        return 1;
    }
    return fast(s, 8, write) && fast(s + 8, n - 8, write);
}

ALWAYS void check(uintptr_t a, size_t n, int write, void *fp, uintptr_t ret)
{
    const hv_rt_map_t *m = &hv_rt_map;
    uintptr_t off = a - m->heap_lo;
    if (__builtin_expect(off < m->heap_len && off + n <= m->heap_len, 1)) {
        if (__builtin_expect(fast(m->shadow + off, n, write), 1)) return;
    } else if (m->mmap_lo && a - m->mmap_lo < m->mmap_len &&
               a - m->mmap_lo + n <= m->mmap_len) {
        if (fast(m->shadow + m->heap_len + (a - m->mmap_lo), n, write)) return;
    } else {
        hv_rt_last_addr = a;
        hv_rt_last_info = (uint32_t)(n << 1 | (size_t)write);
        if (a >= m->heap_lo && off >= m->heap_len) return; /* not the heap */
    }
    if (m->checks != HV_RT_CHECKS_OFF) slow(a, n, write, fp, ret);
}

#define CALLBACKS(n)                                                           \
    HV_CC_EXPORT void __asan_load##n##_noabort(uintptr_t a)                    \
    {                                                                          \
        check(a, n, 0, HV_CC_HERE);                                            \
    }                                                                          \
    HV_CC_EXPORT void __asan_store##n##_noabort(uintptr_t a)                   \
    {                                                                          \
        check(a, n, 1, HV_CC_HERE);                                            \
    }                                                                          \
    HV_CC_EXPORT void __asan_load##n(uintptr_t a)                              \
    {                                                                          \
        check(a, n, 0, HV_CC_HERE);                                            \
    }                                                                          \
    HV_CC_EXPORT void __asan_store##n(uintptr_t a)                             \
    {                                                                          \
        check(a, n, 1, HV_CC_HERE);                                            \
    }

CALLBACKS(1)
CALLBACKS(2)
CALLBACKS(4)
CALLBACKS(8)
CALLBACKS(16)

/* Block copies and odd sizes: struct copies (gcc), unaligned runs.  A read
 * of never-written bytes here is a copy (struct padding, a half-filled
 * struct), not yet a use: only addressability is checked. */
static void check_n(uintptr_t a, size_t n, int write, void *fp, uintptr_t ret)
{
    const hv_rt_map_t *m = &hv_rt_map;
    for (size_t i = 0; i < n; i += 16) {
        size_t k = n - i < 16 ? n - i : 16;
        uintptr_t off = a + i - m->heap_lo;
        if (off < m->heap_len && off + k <= m->heap_len) {
            uint8_t *s = m->shadow + off;
            int ok = 1;
            for (size_t j = 0; j < k && ok; j++)
                ok = s[j] == HV_SH_INIT || s[j] == HV_SH_UNINIT;
            if (ok) {
                if (write) __builtin_memset(s, HV_SH_INIT, k);
                continue;
            }
        } else if (!(a + i < m->heap_lo) &&
                   !(m->mmap_lo && a + i - m->mmap_lo < m->mmap_len)) {
            continue;
        }
        if (m->checks != HV_RT_CHECKS_OFF && m->instrumented)
            hv_rt_access(a + i, k, write, 0, NULL, fp, ret);
        return;
    }
}

HV_CC_EXPORT void __asan_loadN_noabort(uintptr_t a, size_t n)
{
    check_n(a, n, 0, HV_CC_HERE);
}
HV_CC_EXPORT void __asan_storeN_noabort(uintptr_t a, size_t n)
{
    check_n(a, n, 1, HV_CC_HERE);
}
HV_CC_EXPORT void __asan_loadN(uintptr_t a, size_t n)
{
    check_n(a, n, 0, HV_CC_HERE);
}
HV_CC_EXPORT void __asan_storeN(uintptr_t a, size_t n)
{
    check_n(a, n, 1, HV_CC_HERE);
}

/* Before exit() and longjmp: the stack is about to be cut back.  No stack
 * poisoning here, so nothing to undo. */
HV_CC_EXPORT void __asan_handle_no_return(void) {}
