/* cc.h — the instrumentation library of `heapviz cc` programs
 * (libheapviz_cc.so), private names.
 *
 *   asan.c     the compiler's access callbacks (-fsanitize=kernel-address
 *              in outline mode): the fast path, a look at the shadow
 *   range.c    the checks the libc interceptors share
 *   strings.c  memcpy, strcpy, strlen, … checked, their shadow carried
 *   stdio.c    printf's %s arguments and destinations, puts, scanf, fgets…
 *   io.c       read, write, fread, fwrite, getline, qsort
 *
 * libc is not instrumented: what it reads and writes on the program's
 * behalf is checked here, what it writes counts as initialised, and copies
 * carry the source's state.  The interceptors call the real functions
 * (dlsym RTLD_NEXT) and pass straight through while the runtime itself is
 * busy (hv_rt_depth) or checks are off. */
#ifndef HEAPVIZ_CC_H
#define HEAPVIZ_CC_H

#include "heapviz/heapviz.h"
#include "heapviz/rt.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define HV_CC_EXPORT __attribute__((visibility("default")))
#define HV_CC_HIDDEN __attribute__((visibility("hidden")))

/* The interceptor's frame, where reported stacks start. */
#define HV_CC_HERE                                                             \
    __builtin_frame_address(0), (uintptr_t)__builtin_return_address(0)

/* The real libc function `name` (resolved once). */
void *_hv_cc_real(void **slot, const char *name) HV_CC_HIDDEN;
#define HV_CC_REAL(type, name)                                                 \
    ({                                                                         \
        static void *slot_;                                                    \
        (type) _hv_cc_real(&slot_, #name);                                     \
    })

/* Checking is on: a program's own call, checks not off. */
static inline int _hv_cc_on(void)
{
    return !hv_rt_depth && hv_rt_map.instrumented &&
           hv_rt_map.checks != HV_RT_CHECKS_OFF;
}

/* range.c: [a, a+n) read (or written) by libc function fn; a bad byte is
 * reported as valgrind's replacements report it (an access of size 1 at
 * the first bad byte); 1 when reported. */
int _hv_cc_read(uintptr_t a, size_t n, const char *fn, void *fp,
                uintptr_t ret) HV_CC_HIDDEN;
int _hv_cc_write(uintptr_t a, size_t n, const char *fn, void *fp,
                 uintptr_t ret) HV_CC_HIDDEN;
/* Do [d, d+dn) and [s, s+sn) overlap? */
int _hv_cc_overlap(uintptr_t d, size_t dn, uintptr_t s, size_t sn) HV_CC_HIDDEN;
/* The %s arguments of a printf format, read-checked. */
void _hv_cc_format_args(const char *fmt, va_list ap, const char *fn, void *fp,
                        uintptr_t ret) HV_CC_HIDDEN;
/* A scanf's destinations: written-checked after k conversions. */
void _hv_cc_scan_args(const char *fmt, va_list ap, int k, const char *fn,
                      void *fp, uintptr_t ret) HV_CC_HIDDEN;

#endif
