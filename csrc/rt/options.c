/* options.c — HEAPVIZ_OPTIONS, read as ASAN_OPTIONS is:
 *
 *   HEAPVIZ_OPTIONS="policy=best:max_size=16M:leak_check=full"
 *
 * The heap options have the names `heapviz run` and Heap() take, and the
 * enum values are read through the core's own name tables (hv_policy_name
 * and friends), so the runtime cannot drift from the Python side.  The
 * rest are valgrind's (leak_check, show_leak_kinds, errors_for_leak_kinds,
 * error_exitcode, trace_children) and `quiet`.  A `heapviz cc` program
 * reads them too when it runs on its own. */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

hv_rt_opts_t _hv_rt_opts;

/* C programs get a roomier heap than a script's 4 KiB in 64 MiB, and a
 * free list in LIFO order (as glibc's bins are): the textbook's address
 * order makes every free a walk of the list, hours for a program that
 * frees a million blocks (order=address gives it back). */
static void defaults(hv_rt_opts_t *o)
{
    memset(o, 0, sizeof *o);
    hv_config_default(&o->cfg);
    o->cfg.max_size = 1u << 30;
    o->cfg.order = HV_ORDER_LIFO;
    o->cfg.stack_size = 0;           /* a C program has a real stack */
    o->cfg.history_limit = 1u << 20; /* the ring is the history */
    o->checks = HV_RT_CHECKS_STRICT;
    o->leak_check = HV_RT_LEAK_FULL;
    o->show_kinds = 1u << HV_LEAK_DEFINITE | 1u << HV_LEAK_POSSIBLE;
    o->error_kinds = 1u << HV_LEAK_DEFINITE | 1u << HV_LEAK_POSSIBLE;
}

typedef struct val {
    const char *s; /* the value's text (not NUL-terminated) */
    size_t n;
} val_t;

static int is(val_t v, const char *word)
{
    return strlen(word) == v.n && strncasecmp(v.s, word, v.n) == 0;
}

/* Index of v among names(0..count-1), or -1. */
static int pick(val_t v, const char *(*names)(int), int count)
{
    for (int i = 0; i < count; i++)
        if (is(v, names(i))) return i;
    return -1;
}

static const char *policy_name(int i)
{
    return hv_policy_name((hv_policy_t)i);
}
static const char *order_name(int i)
{
    return hv_order_name((hv_order_t)i);
}
static const char *coalesce_name(int i)
{
    return hv_coalesce_name((hv_coalesce_t)i);
}
static const char *checks_name(int i)
{
    static const char *const n[] = {"strict", "report", "off"};
    return n[i];
}
static const char *leak_check_name(int i)
{
    static const char *const n[] = {"no", "summary", "full"};
    return n[i];
}
static const char *leak_kind_word(int i)
{
    static const char *const n[] = {"definite", "indirect", "possible",
                                    "reachable"};
    return n[i];
}

/* "4096", "0x1000", "4K", "4KiB", "2MiB", "1g" (as heapviz's parse_size). */
static int size_of(val_t v, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"", 1},           {"k", 1u << 10}, {"kb", 1u << 10},
                 {"kib", 1u << 10}, {"m", 1u << 20}, {"mb", 1u << 20},
                 {"mib", 1u << 20}, {"g", 1u << 30}, {"gb", 1u << 30},
                 {"gib", 1u << 30}};
    size_t i = 0;
    int base = 10;
    uint64_t x = 0;
    if (v.n > 2 && v.s[0] == '0' && (v.s[1] == 'x' || v.s[1] == 'X'))
        base = 16, i = 2;
    size_t digits = 0;
    for (; i < v.n; i++) {
        char c = v.s[i];
        int d = c >= '0' && c <= '9'                 ? c - '0'
                : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
                : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
        if (c == '_') continue;
        if (d < 0) break;
        if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) return -1;
        x = x * (uint64_t)base + (uint64_t)d;
        digits++;
    }
    val_t unit = {v.s + i, v.n - i};
    for (size_t u = 0; digits && u < sizeof units / sizeof units[0]; u++)
        if (is(unit, units[u].unit)) {
            if (x > UINT64_MAX / units[u].mult) return -1;
            *out = x * units[u].mult;
            return 0;
        }
    return -1;
}

static int bool_of(val_t v, int *out)
{
    if (is(v, "true") || is(v, "yes") || is(v, "on") || is(v, "1"))
        return *out = 1, 0;
    if (is(v, "false") || is(v, "no") || is(v, "off") || is(v, "0"))
        return *out = 0, 0;
    return -1;
}

/* "definite,possible", "all", "none" -> a bit per hv_leak_kind_t. */
static int kinds_of(val_t v, unsigned *out)
{
    if (is(v, "all")) return *out = 15, 0;
    if (is(v, "none")) return *out = 0, 0;
    unsigned bits = 0;
    while (v.n) {
        size_t len = 0;
        while (len < v.n && v.s[len] != ',')
            len++;
        int k = pick((val_t){v.s, len}, leak_kind_word, 4);
        if (k < 0) return -1;
        bits |= 1u << k;
        v.s += len + (len < v.n);
        v.n -= len + (len < v.n);
    }
    return *out = bits, 0;
}

/* One name=value; 0, or -1 with err set. */
static int set(hv_rt_opts_t *o, val_t name, val_t v, char *err, size_t n)
{
    hv_config_t *c = &o->cfg;
    uint64_t x = 0;
    int i = 0, bad = 0;
    if (is(name, "policy")) {
        bad = (i = pick(v, policy_name, HV_POLICY_COUNT)) < 0;
        c->policy = (hv_policy_t)i;
    } else if (is(name, "order")) {
        bad = (i = pick(v, order_name, HV_ORDER_COUNT)) < 0;
        c->order = (hv_order_t)i;
    } else if (is(name, "coalesce")) {
        bad = (i = pick(v, coalesce_name, HV_COALESCE_COUNT)) < 0;
        c->coalesce = (hv_coalesce_t)i;
    } else if (is(name, "checks")) {
        bad = (o->checks = pick(v, checks_name, 3)) < 0;
    } else if (is(name, "align")) {
        bad = size_of(v, &x) || (x != 4 && x != 8 && x != 16);
        c->align = (uint32_t)x;
    } else if (is(name, "size")) {
        bad = size_of(v, &c->size);
    } else if (is(name, "max_size")) {
        bad = size_of(v, &c->max_size);
        o->max_size_given = 1;
    } else if (is(name, "base")) {
        bad = size_of(v, &c->base);
    } else if (is(name, "mmap_threshold")) {
        bad = size_of(v, &c->mmap_threshold);
        o->mmap_given = 1;
    } else if (is(name, "split_threshold")) {
        bad = size_of(v, &c->split_threshold);
    } else if (is(name, "footer") || is(name, "magic")) {
        bad = bool_of(v, &i);
        *(is(name, "footer") ? &c->footer : &c->magic) = i;
    } else if (is(name, "record")) {
        bad = bool_of(v, &i);
        c->record = i;
    } else if (is(name, "quarantine")) {
        bad = size_of(v, &o->quarantine);
    } else if (is(name, "leak_check")) {
        bad = (o->leak_check = pick(v, leak_check_name, 3)) < 0;
    } else if (is(name, "show_leak_kinds")) {
        bad = kinds_of(v, &o->show_kinds);
    } else if (is(name, "errors_for_leak_kinds")) {
        bad = kinds_of(v, &o->error_kinds);
    } else if (is(name, "error_exitcode")) {
        bad = size_of(v, &x) || x > 255;
        o->error_exitcode = (int)x;
    } else if (is(name, "trace_children") || is(name, "quiet")) {
        bad = bool_of(v, is(name, "quiet") ? &o->quiet : &o->trace_children);
    } else {
        snprintf(err, n, "unknown option '%.*s'", (int)name.n, name.s);
        return -1;
    }
    if (bad)
        snprintf(err, n, "%.*s: '%.*s' is not a valid value", (int)name.n,
                 name.s, (int)v.n, v.s);
    return bad ? -1 : 0;
}

int _hv_rt_parse_options(const char *text, hv_rt_opts_t *o, char *err, size_t n)
{
    defaults(o);
    for (const char *p = text ? text : ""; *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (len) {
            if (!eq) {
                snprintf(err, n, "'%.*s' is not name=value", (int)len, p);
                return -1;
            }
            val_t name = {p, (size_t)(eq - p)};
            val_t v = {eq + 1, len - (size_t)(eq - p) - 1};
            if (set(o, name, v, err, n)) return -1;
        }
        p += len + (end != NULL);
    }
    return 0;
}
