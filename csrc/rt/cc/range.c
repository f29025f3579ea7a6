/* range.c — the checks the interceptors share: a range libc reads or
 * writes for the program, judged byte by byte as valgrind's replacement
 * functions judge it (the first bad byte, an access of size 1). */
#include "cc.h"

/* libc's own strlen, not this library's checked one (a loop would do, but
 * the compiler turns loops back into calls to strlen). */
static size_t cc_strlen(const char *s)
{
    return HV_CC_REAL(size_t(*)(const char *), strlen)(s);
}

static size_t cc_strnlen(const char *s, size_t max)
{
    return HV_CC_REAL(size_t(*)(const char *, size_t), strnlen)(s, max);
}

static int cc_in(char c, const char *set)
{
    for (; *set; set++)
        if (*set == c) return 1;
    return 0;
}

static int arena(uintptr_t a)
{
    const hv_rt_map_t *m = &hv_rt_map;
    return a - m->heap_lo < m->heap_len ||
           (m->mmap_lo && a - m->mmap_lo < m->mmap_len);
}

static const uint8_t *state(uintptr_t a)
{
    const hv_rt_map_t *m = &hv_rt_map;
    if (a - m->heap_lo < m->heap_len) return m->shadow + (a - m->heap_lo);
    if (m->mmap_lo && a - m->mmap_lo < m->mmap_len)
        return m->shadow + m->heap_len + (a - m->mmap_lo);
    return NULL;
}

/* The first of n shadow bytes that is not payload, or n. */
static size_t run_of_payload(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n && (uint8_t)(s[i] - HV_SH_UNINIT) <= 1) /* UNINIT or INIT */
        i++;
    return i;
}

/* The first byte of [a, a+n) that is not the program's to touch, or 0. */
static uintptr_t first_bad(uintptr_t a, size_t n)
{
    if (!n) return 0;
    if (a < hv_rt_map.heap_lo) return a ? a : 1;
    if (!arena(a) && !arena(a + n - 1)) return 0; /* stack, globals */
    const hv_rt_map_t *m = &hv_rt_map;
    if (a - m->heap_lo < m->heap_len && n <= m->heap_len - (a - m->heap_lo)) {
        size_t i = run_of_payload(m->shadow + (a - m->heap_lo), n);
        return i < n ? a + i : 0; /* all in the heap: one look */
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = state(a + i);
        if (!s || (*s != HV_SH_INIT && *s != HV_SH_UNINIT)) return a + i;
    }
    return 0;
}

int _hv_cc_read(uintptr_t a, size_t n, const char *fn, void *fp, uintptr_t ret)
{
    uintptr_t bad = _hv_cc_on() ? first_bad(a, n) : 0;
    return bad ? hv_rt_access(bad, 1, 0, 0, fn, fp, ret) : 0;
}

int _hv_cc_write(uintptr_t a, size_t n, const char *fn, void *fp, uintptr_t ret)
{
    if (!_hv_cc_on()) return 0;
    uintptr_t bad = first_bad(a, n);
    if (bad) return hv_rt_access(bad, 1, 1, 0, fn, fp, ret);
    hv_rt_written(a, n);
    return 0;
}

int _hv_cc_overlap(uintptr_t d, size_t dn, uintptr_t s, size_t sn)
{
    return dn && sn && d < s + sn && s < d + dn;
}

/* ------------------------------------------------------------------------
 * printf and scanf formats: which argument is which
 * ---------------------------------------------------------------------- */
typedef struct conv {
    char c;        /* the conversion: d s f p n … (0: end)          */
    int len;       /* length modifier: 'h' 'H'(hh) 'l' 'L'(ll) 'j' 'z' 't'
                      'D' (long double), 0                           */
    int precision; /* -1: none                                       */
    int width;     /* -1: none                                       */
    int star_w, star_p;
    int suppress; /* scanf's '*'                                     */
} conv_t;

/* The next conversion after *p (past "%%"); 0 when none or positional. */
static conv_t next_conv(const char **p, int scanf_style)
{
    conv_t c = {0, 0, -1, -1, 0, 0, 0};
    const char *s = *p;
    for (; *s; s++) {
        if (*s != '%') continue;
        s++;
        if (*s == '%') continue;
        if (scanf_style && *s == '*') c.suppress = 1, s++;
        while (*s && cc_in(*s, "-+ #0'") && !scanf_style)
            s++;
        if (*s == '*') c.star_w = 1, s++;
        if (*s >= '0' && *s <= '9') c.width = 0;
        while (*s >= '0' && *s <= '9')
            c.width = c.width * 10 + (*s++ - '0');
        if (*s == '$') break; /* positional arguments: not followed */
        if (*s == '.') {
            s++;
            c.precision = 0;
            if (*s == '*') c.star_p = 1, s++;
            while (*s >= '0' && *s <= '9')
                c.precision = c.precision * 10 + (*s++ - '0');
        }
        if (*s == 'h')
            c.len = s[1] == 'h' ? (s++, 'H') : 'h', s++;
        else if (*s == 'l')
            c.len = s[1] == 'l' ? (s++, 'L') : 'l', s++;
        else if (*s == 'L')
            c.len = 'D', s++;
        else if (*s == 'q')
            c.len = 'L', s++;
        else if (*s && cc_in(*s, "jzt"))
            c.len = *s++;
        if (scanf_style && *s == '[') {
            s++;
            if (*s == '^') s++;
            if (*s == ']') s++;
            while (*s && *s != ']')
                s++;
            c.c = '[';
        } else {
            c.c = *s;
        }
        *p = *s ? s + 1 : s;
        return c;
    }
    *p = s;
    c.c = 0;
    return c;
}

void _hv_cc_format_args(const char *fmt, va_list ap, const char *fn, void *fp,
                        uintptr_t ret)
{
    if (!_hv_cc_on() || !fmt) return;
    _hv_cc_read((uintptr_t)fmt, cc_strlen(fmt) + 1, fn, fp, ret);
    va_list a;
    va_copy(a, ap);
    for (const char *p = fmt;;) {
        conv_t c = next_conv(&p, 0);
        if (!c.c) break;
        if (c.star_w) (void)va_arg(a, int);
        if (c.star_p) c.precision = va_arg(a, int);
        if (cc_in(c.c, "diouxXc")) {
            if (c.len == 'L' || c.len == 'l' || c.len == 'j' || c.len == 'z' ||
                c.len == 't')
                (void)va_arg(a, long);
            else
                (void)va_arg(a, int);
        } else if (cc_in(c.c, "eEfFgGaA")) {
            if (c.len == 'D')
                (void)va_arg(a, long double);
            else
                (void)va_arg(a, double);
        } else if (c.c == 's') {
            const char *str = va_arg(a, const char *);
            if (str && c.precision >= 0)
                _hv_cc_read((uintptr_t)str,
                            cc_strnlen(str, (size_t)c.precision), fn, fp, ret);
            else if (str)
                _hv_cc_read((uintptr_t)str, cc_strlen(str) + 1, fn, fp, ret);
        } else if (c.c == 'p' || c.c == 'n') {
            (void)va_arg(a, void *);
        } else if (c.c == 'm') {
            continue;
        } else {
            break; /* unknown: stop following the arguments */
        }
    }
    va_end(a);
}

static size_t scan_size(const conv_t *c, const void *dest)
{
    if (c->c == 's' || c->c == '[') return cc_strlen(dest) + 1;
    if (c->c == 'c') return c->width > 0 ? (size_t)c->width : 1;
    if (cc_in(c->c, "eEfFgGaA"))
        return c->len == 'D'   ? sizeof(long double)
               : c->len == 'l' ? sizeof(double)
                               : sizeof(float);
    switch (c->len) {
    case 'H':
        return 1;
    case 'h':
        return 2;
    case 'l':
    case 'L':
    case 'j':
    case 'z':
    case 't':
        return 8;
    }
    return c->c == 'p' ? sizeof(void *) : sizeof(int);
}

void _hv_cc_scan_args(const char *fmt, va_list ap, int k, const char *fn,
                      void *fp, uintptr_t ret)
{
    if (!_hv_cc_on() || !fmt || k <= 0) return;
    va_list a;
    va_copy(a, ap);
    for (const char *p = fmt; k > 0;) {
        conv_t c = next_conv(&p, 1);
        if (!c.c || c.c == 'm') break;
        if (c.suppress) continue;
        void *dest = va_arg(a, void *);
        if (c.c == 'n') continue;
        if (dest)
            _hv_cc_write((uintptr_t)dest, scan_size(&c, dest), fn, fp, ret);
        k--;
    }
    va_end(a);
}
