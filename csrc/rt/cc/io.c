/* io.c — read, write, fread, fwrite, getline and qsort, checked: the
 * buffers the kernel or libc fills count as initialised, those they read
 * must be the program's. */
#include "cc.h"

#include <stdio.h>
#include <sys/types.h>

#define A(p) ((uintptr_t)(p))

HV_CC_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    ssize_t (*real)(int, void *, size_t) =
        HV_CC_REAL(ssize_t(*)(int, void *, size_t), read);
    if (!_hv_cc_on()) return real(fd, buf, n);
    hv_rt_guard(A(buf), n);
    ssize_t r = real(fd, buf, n);
    if (r > 0) _hv_cc_write(A(buf), (size_t)r, "read", HV_CC_HERE);
    hv_rt_repair();
    return r;
}

HV_CC_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t size)
{
    if (n > size) /* glibc's verdict: buffer overflow */
        return HV_CC_REAL(ssize_t(*)(int, void *, size_t, size_t),
                          __read_chk)(fd, buf, n, size);
    return read(fd, buf, n);
}

HV_CC_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    if (_hv_cc_on()) _hv_cc_read(A(buf), n, "write", HV_CC_HERE);
    return HV_CC_REAL(ssize_t(*)(int, const void *, size_t), write)(fd, buf, n);
}

HV_CC_EXPORT size_t fread(void *p, size_t size, size_t n, FILE *f)
{
    size_t (*real)(void *, size_t, size_t, FILE *) =
        HV_CC_REAL(size_t(*)(void *, size_t, size_t, FILE *), fread);
    if (!_hv_cc_on() || (size && n > (size_t)-1 / size))
        return real(p, size, n, f);
    hv_rt_guard(A(p), size * n);
    size_t r = real(p, size, n, f);
    if (r) _hv_cc_write(A(p), r * size, "fread", HV_CC_HERE);
    hv_rt_repair();
    return r;
}

HV_CC_EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    if (_hv_cc_on() && !(size && n > (size_t)-1 / size))
        _hv_cc_read(A(p), size * n, "fwrite", HV_CC_HERE);
    return HV_CC_REAL(size_t(*)(const void *, size_t, size_t, FILE *),
                      fwrite)(p, size, n, f);
}

HV_CC_EXPORT ssize_t getline(char **line, size_t *cap, FILE *f)
{
    ssize_t r = HV_CC_REAL(ssize_t(*)(char **, size_t *, FILE *),
                           getline)(line, cap, f);
    if (r >= 0 && _hv_cc_on())
        _hv_cc_write(A(*line), (size_t)r + 1, "getline", HV_CC_HERE);
    return r;
}

HV_CC_EXPORT ssize_t getdelim(char **line, size_t *cap, int delim, FILE *f)
{
    ssize_t r = HV_CC_REAL(ssize_t(*)(char **, size_t *, int, FILE *),
                           getdelim)(line, cap, delim, f);
    if (r >= 0 && _hv_cc_on())
        _hv_cc_write(A(*line), (size_t)r + 1, "getdelim", HV_CC_HERE);
    return r;
}

/* The comparison function is the program's own (instrumented) code; the
 * array is read and rearranged by libc. */
HV_CC_EXPORT void qsort(void *base, size_t n, size_t size,
                        int (*cmp)(const void *, const void *))
{
    if (_hv_cc_on() && !(size && n > (size_t)-1 / size)) {
        _hv_cc_read(A(base), n * size, "qsort", HV_CC_HERE);
        hv_rt_guard(A(base), n * size);
    }
    HV_CC_REAL(
        void (*)(void *, size_t, size_t, int (*)(const void *, const void *)),
        qsort)
    (base, n, size, cmp);
    hv_rt_repair();
}
