/* rt.h — what the C runtime (libheapviz_rt.so) offers the libraries that
 * work with it: the instrumentation library of `heapviz cc` programs
 * (libheapviz_cc.so: the compiler's access callbacks and the checked libc
 * functions) and, through the environment, the launcher.
 *
 * A program runs on the runtime either preloaded (`heapviz run PROGRAM`:
 * LD_PRELOAD=libheapviz_rt.so, no instrumentation: the malloc family, free
 * errors, heap corruption, leaks, fatal signals) or linked by `heapviz cc`
 * (both libraries: every load and store of the program checked too).
 *
 * Options come from the environment, like ASAN_OPTIONS:
 *   HEAPVIZ_OPTIONS="policy=best:max_size=16M:leak_check=full:…"
 * with the names `heapviz run` takes (docs/c_programs.md). */
#ifndef HEAPVIZ_RT_PUBLIC_H
#define HEAPVIZ_RT_PUBLIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything here is exported by libheapviz_rt.so (built with hidden
 * symbols otherwise). */
#define HV_RT_API __attribute__((visibility("default")))

/* What an access error does (the heap option `checks`):
 *   strict  reported; a bad store into the allocator's metadata is undone
 *           (the heap stays as it was, as valgrind's redzones absorb it);
 *   report  reported; the store goes ahead, as in C, and the allocator
 *           finds the damage at the next malloc or free, as glibc does;
 *   off     accesses are not checked (free errors and leaks still are). */
enum { HV_RT_CHECKS_STRICT = 0, HV_RT_CHECKS_REPORT, HV_RT_CHECKS_OFF };

/* The heap as the access callbacks see it (their fast path reads this and
 * nothing else).  Bytes of [heap_lo, heap_lo + heap_len) have their state
 * at shadow[addr - heap_lo], those of the mmap region at
 * shadow[heap_len + addr - mmap_lo] (hv_shadow's HV_SH_* values). */
typedef struct hv_rt_map {
    uintptr_t heap_lo;
    uint64_t heap_len;
    uintptr_t mmap_lo; /* 0: no mmap region at its own address */
    uint64_t mmap_len;
    uint8_t *shadow;
    int checks;       /* HV_RT_CHECKS_*                              */
    int instrumented; /* hv_rt_instrumented() was called            */
} hv_rt_map_t;

HV_RT_API extern hv_rt_map_t hv_rt_map;

/* > 0 while this thread runs runtime code (the checked libc functions then
 * pass straight through: the runtime's own copies are not the program's). */
HV_RT_API extern __thread int hv_rt_depth
    __attribute__((tls_model("initial-exec")));

/* The last access outside the heap this thread checked (its address,
 * and size << 1 | write): a fault that follows is that access. */
HV_RT_API extern __thread uintptr_t hv_rt_last_addr
    __attribute__((tls_model("initial-exec")));
HV_RT_API extern __thread uint32_t hv_rt_last_info
    __attribute__((tls_model("initial-exec")));

/* The program's code [text_lo, text_hi) is instrumented: its stores mark
 * heap bytes initialised, so what it allocates starts uninitialised (what
 * uninstrumented code allocates is taken as written). */
HV_RT_API void hv_rt_instrumented(uintptr_t text_lo, uintptr_t text_hi);

/* The slow path of a check of [addr, addr+size): reports what is wrong
 * (an invalid read or write, or a read of uninitialised bytes when
 * `uninit` is set), marks the bytes initialised after a write, and returns
 * nonzero when it reported.  `fn` names a libc function doing the access
 * (its frame is shown first, as valgrind shows its replacements), or NULL
 * for the program's own load or store.  `fp`/`ret`: the caller's frame
 * and return address, where the stack starts. */
HV_RT_API int hv_rt_access(uintptr_t addr, uint64_t size, int write, int uninit,
                           const char *fn, void *fp, uintptr_t ret);
/* What libc or the kernel wrote: heap bytes [addr, addr+n) initialised. */
HV_RT_API void hv_rt_written(uintptr_t addr, uint64_t n);
/* memcpy's shadow: [dst, dst+n) takes the state of [src, src+n) (bytes
 * from outside the heap count as initialised). */
HV_RT_API void hv_rt_copied(uintptr_t dst, uintptr_t src, uint64_t n);
/* "Source and destination overlap in fn(dst, src[, n])". */
HV_RT_API void hv_rt_overlap(const char *fn, uintptr_t dst, uintptr_t src,
                             uint64_t n, int with_size, void *fp,
                             uintptr_t ret);
/* In strict mode the bytes a reported store is about to overwrite are
 * saved and put back at the next runtime call (after the store): the
 * allocator's metadata stays intact. */
HV_RT_API void hv_rt_repair(void);
/* Strict mode: save the non-program bytes of [addr, addr+n) that a libc
 * call may overwrite (its caller checks what it wrote afterwards, then
 * calls hv_rt_repair). */
HV_RT_API void hv_rt_guard(uintptr_t addr, uint64_t n);

#ifdef __cplusplus
}
#endif
#endif /* HEAPVIZ_RT_PUBLIC_H */
