/* stdio.c — printf, puts and scanf, checked: the strings they read (the
 * format, each %s argument, puts' string), the buffers they fill (sprintf's
 * destination, measured first; fgets' line; each scanf destination), all
 * judged as the libc functions' own reads and writes.  What they write
 * counts as initialised. */
#include "cc.h"

#include <stdio.h>
#include <string.h>

#define A(p) ((uintptr_t)(p))

typedef int (*vprintf_fn)(const char *, va_list);
typedef int (*vfprintf_fn)(FILE *, const char *, va_list);
typedef int (*vsprintf_fn)(char *, const char *, va_list);
typedef int (*vsnprintf_fn)(char *, size_t, const char *, va_list);
typedef int (*vsscanf_fn)(const char *, const char *, va_list);
typedef int (*vfscanf_fn)(FILE *, const char *, va_list);

static size_t real_strlen(const char *s)
{
    return HV_CC_REAL(size_t(*)(const char *), strlen)(s);
}

static int measure(const char *fmt, va_list ap)
{
    va_list a;
    va_copy(a, ap);
    int n = HV_CC_REAL(vsnprintf_fn, vsnprintf)(NULL, 0, fmt, a);
    va_end(a);
    return n;
}

/* ------------------------------------------------------------------------
 * Output to streams
 * ---------------------------------------------------------------------- */
static int do_vfprintf(FILE *f, const char *fmt, va_list ap, const char *fn,
                       void *fp, uintptr_t ret)
{
    _hv_cc_format_args(fmt, ap, fn, fp, ret);
    return HV_CC_REAL(vfprintf_fn, vfprintf)(f, fmt, ap);
}

HV_CC_EXPORT int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    return do_vfprintf(f, fmt, ap, "vfprintf", HV_CC_HERE);
}

HV_CC_EXPORT int vprintf(const char *fmt, va_list ap)
{
    return do_vfprintf(stdout, fmt, ap, "vprintf", HV_CC_HERE);
}

HV_CC_EXPORT int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = do_vfprintf(stdout, fmt, ap, "printf", HV_CC_HERE);
    va_end(ap);
    return r;
}

HV_CC_EXPORT int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = do_vfprintf(f, fmt, ap, "fprintf", HV_CC_HERE);
    va_end(ap);
    return r;
}

HV_CC_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, fmt);
    int r = do_vfprintf(stdout, fmt, ap, "printf", HV_CC_HERE);
    va_end(ap);
    return r;
}

HV_CC_EXPORT int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, fmt);
    int r = do_vfprintf(f, fmt, ap, "fprintf", HV_CC_HERE);
    va_end(ap);
    return r;
}

HV_CC_EXPORT int puts(const char *s)
{
    if (_hv_cc_on()) _hv_cc_read(A(s), real_strlen(s) + 1, "puts", HV_CC_HERE);
    return HV_CC_REAL(int (*)(const char *), puts)(s);
}

HV_CC_EXPORT int fputs(const char *s, FILE *f)
{
    if (_hv_cc_on()) _hv_cc_read(A(s), real_strlen(s) + 1, "fputs", HV_CC_HERE);
    return HV_CC_REAL(int (*)(const char *, FILE *), fputs)(s, f);
}

/* ------------------------------------------------------------------------
 * Output to memory: the length first, then the checked destination
 * ---------------------------------------------------------------------- */
static int to_buffer(char *d, size_t size, int bounded, const char *fmt,
                     va_list ap, const char *fn, void *fp, uintptr_t ret)
{
    if (!_hv_cc_on()) {
        return bounded ? HV_CC_REAL(vsnprintf_fn, vsnprintf)(d, size, fmt, ap)
                       : HV_CC_REAL(vsprintf_fn, vsprintf)(d, fmt, ap);
    }
    _hv_cc_format_args(fmt, ap, fn, fp, ret);
    int len = measure(fmt, ap);
    size_t n = len < 0 ? 0 : (size_t)len + 1;
    if (bounded) n = n < size ? n : size;
    _hv_cc_write(A(d), n, fn, fp, ret); /* the check, then the guard */
    hv_rt_guard(A(d), n);
    int r = bounded ? HV_CC_REAL(vsnprintf_fn, vsnprintf)(d, size, fmt, ap)
                    : HV_CC_REAL(vsprintf_fn, vsprintf)(d, fmt, ap);
    hv_rt_repair();
    return r;
}

HV_CC_EXPORT int vsprintf(char *d, const char *fmt, va_list ap)
{
    return to_buffer(d, 0, 0, fmt, ap, "vsprintf", HV_CC_HERE);
}

HV_CC_EXPORT int vsnprintf(char *d, size_t n, const char *fmt, va_list ap)
{
    return to_buffer(d, n, 1, fmt, ap, "vsnprintf", HV_CC_HERE);
}

HV_CC_EXPORT int sprintf(char *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = to_buffer(d, 0, 0, fmt, ap, "sprintf", HV_CC_HERE);
    va_end(ap);
    return r;
}

HV_CC_EXPORT int snprintf(char *d, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = to_buffer(d, n, 1, fmt, ap, "snprintf", HV_CC_HERE);
    va_end(ap);
    return r;
}

HV_CC_EXPORT int __sprintf_chk(char *d, int flag, size_t dn, const char *fmt,
                               ...)
{
    (void)flag;
    (void)dn;
    va_list ap;
    va_start(ap, fmt);
    int r = to_buffer(d, 0, 0, fmt, ap, "sprintf", HV_CC_HERE);
    va_end(ap);
    return r;
}

HV_CC_EXPORT int __snprintf_chk(char *d, size_t n, int flag, size_t dn,
                                const char *fmt, ...)
{
    (void)flag;
    (void)dn;
    va_list ap;
    va_start(ap, fmt);
    int r = to_buffer(d, n, 1, fmt, ap, "snprintf", HV_CC_HERE);
    va_end(ap);
    return r;
}

HV_CC_EXPORT int __vsprintf_chk(char *d, int flag, size_t dn, const char *fmt,
                                va_list ap)
{
    (void)flag;
    (void)dn;
    return to_buffer(d, 0, 0, fmt, ap, "vsprintf", HV_CC_HERE);
}

HV_CC_EXPORT int __vsnprintf_chk(char *d, size_t n, int flag, size_t dn,
                                 const char *fmt, va_list ap)
{
    (void)flag;
    (void)dn;
    return to_buffer(d, n, 1, fmt, ap, "vsnprintf", HV_CC_HERE);
}

HV_CC_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return do_vfprintf(stdout, fmt, ap, "vprintf", HV_CC_HERE);
}

HV_CC_EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return do_vfprintf(f, fmt, ap, "vfprintf", HV_CC_HERE);
}

/* ------------------------------------------------------------------------
 * Input
 * ---------------------------------------------------------------------- */
HV_CC_EXPORT char *fgets(char *s, int n, FILE *f)
{
    char *(*real)(char *, int, FILE *) =
        HV_CC_REAL(char *(*)(char *, int, FILE *), fgets);
    if (!_hv_cc_on() || n <= 0) return real(s, n, f);
    hv_rt_guard(A(s), (size_t)n);
    char *r = real(s, n, f);
    if (r) _hv_cc_write(A(s), real_strlen(s) + 1, "fgets", HV_CC_HERE);
    hv_rt_repair();
    return r;
}

HV_CC_EXPORT char *__fgets_chk(char *s, size_t size, int n, FILE *f)
{
    if ((size_t)n > size) /* glibc's verdict: buffer overflow */
        return HV_CC_REAL(char *(*)(char *, size_t, int, FILE *),
                          __fgets_chk)(s, size, n, f);
    return fgets(s, n, f);
}

static int scanned(int k, const char *fmt, va_list ap, const char *fn, void *fp,
                   uintptr_t ret)
{
    _hv_cc_scan_args(fmt, ap, k, fn, fp, ret);
    return k;
}

/* Named through asm labels: stdio.h renames scanf to __isoc99_scanf. */
#define SCAN_FROM_STRING(name, realname)                                       \
    HV_CC_EXPORT int hv_cc_##name(const char *s, const char *fmt,              \
                                  ...) __asm__(#name);                         \
    int hv_cc_##name(const char *s, const char *fmt, ...)                      \
    {                                                                          \
        va_list ap, keep;                                                      \
        va_start(ap, fmt);                                                     \
        va_copy(keep, ap);                                                     \
        if (_hv_cc_on())                                                       \
            _hv_cc_read(A(s), real_strlen(s) + 1, "sscanf", HV_CC_HERE);       \
        int k = HV_CC_REAL(vsscanf_fn, realname)(s, fmt, ap);                  \
        scanned(k, fmt, keep, "sscanf", HV_CC_HERE);                           \
        va_end(keep);                                                          \
        va_end(ap);                                                            \
        return k;                                                              \
    }

#define SCAN_FROM_STREAM(name, realname, stream, ...)                          \
    HV_CC_EXPORT int hv_cc_##name(__VA_ARGS__ const char *fmt,                 \
                                  ...) __asm__(#name);                         \
    int hv_cc_##name(__VA_ARGS__ const char *fmt, ...)                         \
    {                                                                          \
        va_list ap, keep;                                                      \
        va_start(ap, fmt);                                                     \
        va_copy(keep, ap);                                                     \
        int k = HV_CC_REAL(vfscanf_fn, realname)(stream, fmt, ap);             \
        scanned(k, fmt, keep, "scanf", HV_CC_HERE);                            \
        va_end(keep);                                                          \
        va_end(ap);                                                            \
        return k;                                                              \
    }

SCAN_FROM_STRING(sscanf, vsscanf)
SCAN_FROM_STRING(__isoc99_sscanf, __isoc99_vsscanf)
SCAN_FROM_STREAM(scanf, vfscanf, stdin, )
SCAN_FROM_STREAM(__isoc99_scanf, __isoc99_vfscanf, stdin, )
SCAN_FROM_STREAM(fscanf, vfscanf, f, FILE *f, )
SCAN_FROM_STREAM(__isoc99_fscanf, __isoc99_vfscanf, f, FILE *f, )
