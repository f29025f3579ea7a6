/* strings.c — the string and memory functions of libc, checked.
 *
 * Each works out the bytes the real function reads and writes (a string
 * up to its NUL, n bytes, the bytes two strings share up to the first
 * difference), checks them as valgrind's replacements do — the first bad
 * byte is an "Invalid read of size 1" at `strcpy (in …)` called from the
 * program's line —, reports overlapping copies ("Source and destination
 * overlap in memcpy(dst, src, n)"), then calls the real function.  A copy
 * carries the source bytes' state to the destination, so copying
 * never-written bytes is no error, and reading them later still is.  In
 * strict mode the metadata a bad write would overwrite is saved before and
 * put back after (the allocator's bookkeeping survives, as valgrind's
 * redzones absorb such writes). */
#include "cc.h"

#include <stdlib.h>
#include <string.h>

typedef void *(*copy_fn)(void *, const void *, size_t);
typedef size_t (*len_fn)(const char *);

#define REAL_MEMCPY HV_CC_REAL(copy_fn, memcpy)
#define REAL_STRLEN HV_CC_REAL(len_fn, strlen)
#define A(p)        ((uintptr_t)(p))

static size_t real_strnlen(const char *s, size_t n)
{
    return HV_CC_REAL(size_t(*)(const char *, size_t), strnlen)(s, n);
}

/* The write of [d, d+n) that `write_fn` does: checked, guarded, done,
 * then the guard's repairs; `src`: the bytes' origin (state copied) or 0
 * (the bytes count as written). */
typedef struct job {
    const char *fn;
    void *fp;
    uintptr_t ret;
} job_t;

/* The check first: the runtime puts back earlier repairs when it is
 * called, so the guard comes after it. */
static void before_write(const job_t *j, uintptr_t d, size_t n)
{
    _hv_cc_write(d, n, j->fn, j->fp, j->ret);
    hv_rt_guard(d, n);
}

static void after_write(uintptr_t d, uintptr_t src, size_t n)
{
    if (src) hv_rt_copied(d, src, n);
    hv_rt_repair();
}

static void *copy(const job_t *j, void *d, const void *s, size_t n,
                  int no_overlap, copy_fn real)
{
    if (no_overlap && _hv_cc_overlap(A(d), n, A(s), n))
        hv_rt_overlap(j->fn, A(d), A(s), n, 1, j->fp, j->ret);
    _hv_cc_read(A(s), n, j->fn, j->fp, j->ret);
    before_write(j, A(d), n);
    void *r = real(d, s, n);
    after_write(A(d), A(s), n);
    return r;
}

#define JOB(name) job_t j = {name, HV_CC_HERE}

HV_CC_EXPORT void *memcpy(void *d, const void *s, size_t n)
{
    if (!_hv_cc_on()) return REAL_MEMCPY(d, s, n);
    JOB("memcpy");
    return copy(&j, d, s, n, 1, REAL_MEMCPY);
}

HV_CC_EXPORT void *memmove(void *d, const void *s, size_t n)
{
    copy_fn real = HV_CC_REAL(copy_fn, memmove);
    if (!_hv_cc_on()) return real(d, s, n);
    JOB("memmove");
    return copy(&j, d, s, n, 0, real);
}

HV_CC_EXPORT void *mempcpy(void *d, const void *s, size_t n)
{
    if (!_hv_cc_on()) return (char *)REAL_MEMCPY(d, s, n) + n;
    JOB("mempcpy");
    return (char *)copy(&j, d, s, n, 1, REAL_MEMCPY) + n;
}

HV_CC_EXPORT void *memset(void *d, int c, size_t n)
{
    void *(*real)(void *, int, size_t) =
        HV_CC_REAL(void *(*)(void *, int, size_t), memset);
    if (!_hv_cc_on()) return real(d, c, n);
    JOB("memset");
    before_write(&j, A(d), n);
    real(d, c, n);
    after_write(A(d), 0, n);
    return d;
}

HV_CC_EXPORT size_t strlen(const char *s)
{
    size_t n = REAL_STRLEN(s);
    if (_hv_cc_on()) {
        JOB("strlen");
        _hv_cc_read(A(s), n + 1, j.fn, j.fp, j.ret);
    }
    return n;
}

HV_CC_EXPORT size_t strnlen(const char *s, size_t max)
{
    size_t n = real_strnlen(s, max);
    if (_hv_cc_on()) {
        JOB("strnlen");
        _hv_cc_read(A(s), n < max ? n + 1 : n, j.fn, j.fp, j.ret);
    }
    return n;
}

/* The bytes strcmp and strncmp read: up to the first difference or NUL. */
static size_t compared(const char *a, const char *b, size_t max)
{
    size_t i = 0;
    while (i < max && a[i] && a[i] == b[i])
        i++;
    return i < max ? i + 1 : max;
}

/* The shadow of heap string s, or NULL (outside the heap: not checked). */
static const uint8_t *heap_shadow(const char *s)
{
    const hv_rt_map_t *m = &hv_rt_map;
    uintptr_t off = A(s) - m->heap_lo;
    return off < m->heap_len ? m->shadow + off : NULL;
}

/* strcmp's hot case (qsort's comparison functions call it millions of
 * times): both strings compared and their shadow read in one pass; a bad
 * byte, or a string outside the heap, goes the general way. */
static int compare_checked(const job_t *j, const char *a, const char *b)
{
    const uint8_t *sa = heap_shadow(a), *sb = heap_shadow(b);
    if (!sa && !sb && A(a) >= hv_rt_map.heap_lo && A(b) >= hv_rt_map.heap_lo)
        return HV_CC_REAL(int (*)(const char *, const char *), strcmp)(a, b);
    uintptr_t end = hv_rt_map.heap_lo + hv_rt_map.heap_len;
    size_t i = 0, room = 0;
    if (sa && sb) {
        room = (size_t)(end - (A(a) > A(b) ? A(a) : A(b)));
        /* eight bytes at a time while they are all written payload (the
         * heap is mapped to its end: reading past a NUL there is safe) */
        const uint64_t init = 0x0404040404040404ull,
                       ones = 0x0101010101010101ull;
        for (; i + 8 <= room; i += 8) {
            uint64_t x, y, u, v;
            __builtin_memcpy(&u, sa + i, 8);
            __builtin_memcpy(&v, sb + i, 8);
            if (u != init || v != init) break;
            __builtin_memcpy(&x, a + i, 8);
            __builtin_memcpy(&y, b + i, 8);
            uint64_t stop = (x ^ y) | ((x - ones) & ~x & (ones << 7));
            if (stop) { /* a difference or a NUL in these eight */
                size_t k = (size_t)__builtin_ctzll(stop) / 8;
                return (unsigned char)a[i + k] - (unsigned char)b[i + k];
            }
        }
    } else if (sa || sb) { /* one string in the heap, one elsewhere */
        room = (size_t)(end - (sa ? A(a) : A(b)));
    }
    for (; i < room; i++) { /* byte by byte, the heap side's shadow read */
        if ((sa && (uint8_t)(sa[i] - HV_SH_UNINIT) > 1) ||
            (sb && (uint8_t)(sb[i] - HV_SH_UNINIT) > 1))
            break; /* a byte not the program's: reported below */
        if (a[i] != b[i] || !a[i])
            return (unsigned char)a[i] - (unsigned char)b[i];
    }
    size_t n = compared(a, b, (size_t)-1);
    _hv_cc_read(A(a), n, j->fn, j->fp, j->ret);
    _hv_cc_read(A(b), n, j->fn, j->fp, j->ret);
    return (unsigned char)a[n - 1] - (unsigned char)b[n - 1];
}

HV_CC_EXPORT int strcmp(const char *a, const char *b)
{
    if (_hv_cc_on()) {
        JOB("strcmp");
        return compare_checked(&j, a, b);
    }
    return HV_CC_REAL(int (*)(const char *, const char *), strcmp)(a, b);
}

HV_CC_EXPORT int strncmp(const char *a, const char *b, size_t max)
{
    int (*real)(const char *, const char *, size_t) =
        HV_CC_REAL(int (*)(const char *, const char *, size_t), strncmp);
    if (_hv_cc_on()) {
        JOB("strncmp");
        size_t n = compared(a, b, max);
        _hv_cc_read(A(a), n, j.fn, j.fp, j.ret);
        _hv_cc_read(A(b), n, j.fn, j.fp, j.ret);
    }
    return real(a, b, max);
}

HV_CC_EXPORT char *strchr(const char *s, int c)
{
    char *(*real)(const char *, int) =
        HV_CC_REAL(char *(*)(const char *, int), strchr);
    char *r = real(s, c);
    if (_hv_cc_on()) {
        JOB("strchr");
        size_t n = r ? (size_t)(r - s) + 1 : REAL_STRLEN(s) + 1;
        _hv_cc_read(A(s), n, j.fn, j.fp, j.ret);
    }
    return r;
}

HV_CC_EXPORT char *strrchr(const char *s, int c)
{
    char *(*real)(const char *, int) =
        HV_CC_REAL(char *(*)(const char *, int), strrchr);
    if (_hv_cc_on()) {
        JOB("strrchr");
        _hv_cc_read(A(s), REAL_STRLEN(s) + 1, j.fn, j.fp, j.ret);
    }
    return real(s, c);
}

HV_CC_EXPORT char *strstr(const char *h, const char *n)
{
    char *(*real)(const char *, const char *) =
        HV_CC_REAL(char *(*)(const char *, const char *), strstr);
    if (_hv_cc_on()) {
        JOB("strstr");
        _hv_cc_read(A(h), REAL_STRLEN(h) + 1, j.fn, j.fp, j.ret);
        _hv_cc_read(A(n), REAL_STRLEN(n) + 1, j.fn, j.fp, j.ret);
    }
    return real(h, n);
}

/* strcpy and stpcpy: n bytes from s to d, a string overlap report. */
static void string_copy(const job_t *j, char *d, const char *s, size_t n)
{
    if (_hv_cc_overlap(A(d), n, A(s), n))
        hv_rt_overlap(j->fn, A(d), A(s), n, 0, j->fp, j->ret);
    _hv_cc_read(A(s), n, j->fn, j->fp, j->ret);
    before_write(j, A(d), n);
    HV_CC_REAL(copy_fn, memmove)(d, s, n);
    after_write(A(d), A(s), n);
}

HV_CC_EXPORT char *strcpy(char *d, const char *s)
{
    char *(*real)(char *, const char *) =
        HV_CC_REAL(char *(*)(char *, const char *), strcpy);
    if (!_hv_cc_on()) return real(d, s);
    JOB("strcpy");
    string_copy(&j, d, s, REAL_STRLEN(s) + 1);
    return d;
}

HV_CC_EXPORT char *stpcpy(char *d, const char *s)
{
    char *(*real)(char *, const char *) =
        HV_CC_REAL(char *(*)(char *, const char *), stpcpy);
    if (!_hv_cc_on()) return real(d, s);
    JOB("stpcpy");
    size_t n = REAL_STRLEN(s);
    string_copy(&j, d, s, n + 1);
    return d + n;
}

HV_CC_EXPORT char *strncpy(char *d, const char *s, size_t n)
{
    char *(*real)(char *, const char *, size_t) =
        HV_CC_REAL(char *(*)(char *, const char *, size_t), strncpy);
    if (!_hv_cc_on()) return real(d, s, n);
    JOB("strncpy");
    size_t sl = real_strnlen(s, n), from = sl < n ? sl + 1 : n;
    if (_hv_cc_overlap(A(d), n, A(s), from))
        hv_rt_overlap(j.fn, A(d), A(s), n, 1, j.fp, j.ret);
    _hv_cc_read(A(s), from, j.fn, j.fp, j.ret);
    before_write(&j, A(d), n);
    real(d, s, n);
    hv_rt_copied(A(d), A(s), sl);
    after_write(A(d), 0, n);
    return d;
}

/* strcat and strncat: s (sl bytes, then a NUL) after d's string. */
static char *append(const job_t *j, char *d, const char *s, size_t sl)
{
    size_t dl = REAL_STRLEN(d);
    _hv_cc_read(A(d), dl + 1, j->fn, j->fp, j->ret);
    _hv_cc_read(A(s), sl, j->fn, j->fp, j->ret);
    if (_hv_cc_overlap(A(d), dl + sl + 1, A(s), sl + 1))
        hv_rt_overlap(j->fn, A(d), A(s), 0, 0, j->fp, j->ret);
    before_write(j, A(d) + dl, sl + 1);
    HV_CC_REAL(copy_fn, memmove)(d + dl, s, sl);
    d[dl + sl] = 0;
    hv_rt_copied(A(d) + dl, A(s), sl);
    after_write(A(d) + dl + sl, 0, 1);
    return d;
}

HV_CC_EXPORT char *strcat(char *d, const char *s)
{
    char *(*real)(char *, const char *) =
        HV_CC_REAL(char *(*)(char *, const char *), strcat);
    if (!_hv_cc_on()) return real(d, s);
    JOB("strcat");
    return append(&j, d, s, REAL_STRLEN(s));
}

HV_CC_EXPORT char *strncat(char *d, const char *s, size_t n)
{
    char *(*real)(char *, const char *, size_t) =
        HV_CC_REAL(char *(*)(char *, const char *, size_t), strncat);
    if (!_hv_cc_on()) return real(d, s, n);
    JOB("strncat");
    return append(&j, d, s, real_strnlen(s, n));
}

/* strdup and strndup: sl bytes of s (and `read` bytes of it checked) in a
 * copy malloc'd here, with a NUL; the copy carries the state. */
static char *duplicate(const job_t *j, const char *s, size_t sl, size_t read)
{
    _hv_cc_read(A(s), read, j->fn, j->fp, j->ret);
    char *p = malloc(sl + 1);
    if (!p) return NULL;
    HV_CC_REAL(copy_fn, memcpy)(p, s, sl);
    p[sl] = 0;
    hv_rt_copied(A(p), A(s), sl);
    hv_rt_written(A(p) + sl, 1);
    return p;
}

HV_CC_EXPORT char *strdup(const char *s)
{
    if (!_hv_cc_on()) return HV_CC_REAL(char *(*)(const char *), strdup)(s);
    JOB("strdup");
    size_t sl = REAL_STRLEN(s);
    return duplicate(&j, s, sl, sl + 1);
}

HV_CC_EXPORT char *strndup(const char *s, size_t n)
{
    if (!_hv_cc_on())
        return HV_CC_REAL(char *(*)(const char *, size_t), strndup)(s, n);
    JOB("strndup");
    size_t sl = real_strnlen(s, n);
    return duplicate(&j, s, sl, sl < n ? sl + 1 : sl);
}

/* _FORTIFY_SOURCE's checked variants: our checks, then theirs. */
HV_CC_EXPORT void *__memcpy_chk(void *d, const void *s, size_t n, size_t dn)
{
    void *(*real)(void *, const void *, size_t, size_t) = HV_CC_REAL(
        void *(*)(void *, const void *, size_t, size_t), __memcpy_chk);
    if (_hv_cc_on()) {
        JOB("memcpy");
        if (_hv_cc_overlap(A(d), n, A(s), n))
            hv_rt_overlap(j.fn, A(d), A(s), n, 1, j.fp, j.ret);
        _hv_cc_read(A(s), n, j.fn, j.fp, j.ret);
        before_write(&j, A(d), n);
        real(d, s, n, dn);
        after_write(A(d), A(s), n);
        return d;
    }
    return real(d, s, n, dn);
}

HV_CC_EXPORT void *__memset_chk(void *d, int c, size_t n, size_t dn)
{
    void *(*real)(void *, int, size_t, size_t) =
        HV_CC_REAL(void *(*)(void *, int, size_t, size_t), __memset_chk);
    if (_hv_cc_on()) {
        JOB("memset");
        before_write(&j, A(d), n);
        real(d, c, n, dn);
        after_write(A(d), 0, n);
        return d;
    }
    return real(d, c, n, dn);
}

HV_CC_EXPORT char *__strcpy_chk(char *d, const char *s, size_t dn)
{
    char *(*real)(char *, const char *, size_t) =
        HV_CC_REAL(char *(*)(char *, const char *, size_t), __strcpy_chk);
    if (_hv_cc_on()) {
        JOB("strcpy");
        size_t n = REAL_STRLEN(s) + 1;
        if (n > dn) return real(d, s, dn); /* glibc: buffer overflow */
        string_copy(&j, d, s, n);
        return d;
    }
    return real(d, s, dn);
}

HV_CC_EXPORT void *__memmove_chk(void *d, const void *s, size_t n, size_t dn)
{
    void *(*real)(void *, const void *, size_t, size_t) = HV_CC_REAL(
        void *(*)(void *, const void *, size_t, size_t), __memmove_chk);
    if (!_hv_cc_on() || n > dn) return real(d, s, n, dn);
    JOB("memmove");
    return copy(&j, d, s, n, 0, HV_CC_REAL(copy_fn, memmove));
}

HV_CC_EXPORT char *__strcat_chk(char *d, const char *s, size_t dn)
{
    char *(*real)(char *, const char *, size_t) =
        HV_CC_REAL(char *(*)(char *, const char *, size_t), __strcat_chk);
    if (!_hv_cc_on() || REAL_STRLEN(d) + REAL_STRLEN(s) + 1 > dn)
        return real(d, s, dn); /* glibc: buffer overflow */
    JOB("strcat");
    return append(&j, d, s, REAL_STRLEN(s));
}

HV_CC_EXPORT char *__strncpy_chk(char *d, const char *s, size_t n, size_t dn)
{
    char *(*real)(char *, const char *, size_t, size_t) = HV_CC_REAL(
        char *(*)(char *, const char *, size_t, size_t), __strncpy_chk);
    if (!_hv_cc_on() || n > dn) return real(d, s, n, dn);
    return strncpy(d, s, n);
}
