/* report.c — errors: counted, printed once per context, explained.
 *
 * valgrind prints an error the first time its context (its kind, its
 * details, its innermost four frames) appears and counts every time; the
 * ERROR SUMMARY gives both numbers.  Each printed error is followed by
 * heapviz's one-paragraph explanation (the core's hv_advice, the words the
 * Python side prints) and recorded as an error event, with its text, for
 * the viewer.
 *
 * A heap whose metadata is damaged cannot go on, under glibc or here: the
 * allocator says what glibc would say ("free(): invalid next size
 * (fast)"), what its check finds, the likely cause, and the process dies
 * by SIGABRT after the leak check. */
#include "rt.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

char _hv_rt_last_write[128];

/* ------------------------------------------------------------------------
 * Contexts
 * ---------------------------------------------------------------------- */
static uint64_t *seen; /* hashes of the contexts printed; 0 empty */
static uint64_t seen_mask;

static uint64_t context(int kind, uint64_t detail, const hv_rt_stack_t *st)
{
    uint64_t h = 0x9E3779B97F4A7C15ull * (uint64_t)(kind + 1) ^ detail;
    for (uint32_t i = 0; st && i < st->n && i < 4; i++)
        h = (h ^ st->pc[i]) * 0x100000001B3ull;
    return h ? h : 1;
}

static int insert(uint64_t key)
{
    if (2 * (_hv_rt.contexts + 1) > seen_mask) {
        uint64_t n = seen_mask ? 2 * (seen_mask + 1) : 1024;
        uint64_t *t = _hv_rt_pool_alloc(n * sizeof *t, 16);
        if (!t) return 1; /* no room to remember: print it */
        memset(t, 0, n * sizeof *t);
        for (uint64_t i = 0; seen && i <= seen_mask; i++) {
            if (!seen[i]) continue;
            uint64_t j = seen[i] & (n - 1);
            while (t[j])
                j = (j + 1) & (n - 1);
            t[j] = seen[i];
        }
        _hv_rt_pool_free(seen);
        seen = t;
        seen_mask = n - 1;
    }
    uint64_t j = key & seen_mask;
    for (; seen[j]; j = (j + 1) & seen_mask)
        if (seen[j] == key) return 0;
    seen[j] = key;
    return 1;
}

int _hv_rt_error_new(int kind, uint64_t detail, const hv_rt_stack_t *st)
{
    _hv_rt.errors++;
    if (!insert(context(kind, detail, st))) return 0;
    _hv_rt.contexts++;
    return 1;
}

void _hv_rt_error_end(int kind, uintptr_t addr, uint64_t size,
                      const char *advice, const hv_rt_stack_t *st)
{
    const char *text = advice ? hv_advice(advice) : NULL;
    if (text) {
        _hv_rt_out("%s", "");
        _hv_rt_out_text(text);
    }
    uint32_t id = 0;
    hv_heap_t *h = _hv_rt.heap;
    if (h && !hv_site_intern(h, _hv_rt_out_report(), 0, "report", &id)) {
        hv_event_t ev = {.kind = HV_EV_ERROR,
                         .site = _hv_rt_stack_intern(st),
                         .addr = addr,
                         .size = size,
                         .a = (uint64_t)kind,
                         .b = id};
        hv_event_record(h, &ev);
    }
    _hv_rt_out("%s", "");
    _hv_rt_out_flush();
}

/* ------------------------------------------------------------------------
 * free() and realloc() errors, and the damaged heap
 * ---------------------------------------------------------------------- */
static _Noreturn void corruption(const char *fn, uintptr_t p,
                                 const hv_rt_stack_t *st)
{
    char msg[96];
    hv_violation_t v[6];
    hv_heap_t *h = _hv_rt.heap;
    hv_glibc_words(h, fn, p, p != 0, msg, sizeof msg);
    _hv_rt_error_new(HV_ERR_CORRUPTION, 0, st);
    _hv_rt_out("%s", msg);
    _hv_rt_out_stack(st, fn);
    _hv_rt_out(" heapviz's allocator found its own bookkeeping damaged at "
               "this %s(), as glibc's checks find it",
               fn);
    int n = hv_check(h, v, 6);
    if (n > 0) _hv_rt_out(" The allocator's check finds:");
    for (int i = 0; i < n && i < 6; i++)
        _hv_rt_out("   %s", v[i].what);
    if (_hv_rt_last_write[0])
        _hv_rt_out(" Most likely cause: the invalid write reported at %s",
                   _hv_rt_last_write);
    _hv_rt_out("%s", "");
    _hv_rt_out("Process terminating with default action of signal 6 "
               "(SIGABRT)");
    _hv_rt_out(" (glibc's malloc aborts here with \"%s\")", msg);
    _hv_rt_error_end(HV_ERR_CORRUPTION, p, 0, "corruption", st);
    _hv_rt_die(SIGABRT, 0, NULL, 0);
}

void _hv_rt_free_error(hv_err_t err, uintptr_t p, const char *fn,
                       const hv_rt_stack_t *st)
{
    if (err == HV_ECORRUPT) corruption(fn, p, st);
    if (err != HV_EBADFREE && err != HV_EDOUBLEFREE) return;
    int kind = err == HV_EDOUBLEFREE ? HV_ERR_DOUBLE_FREE : HV_ERR_INVALID_FREE;
    if (!_hv_rt_error_new(kind, 0, st)) return;
    _hv_rt_out("Invalid free() / delete / delete[] / realloc()");
    _hv_rt_out_stack(st, fn);
    _hv_rt_describe(p, 0);
    const char *advice = kind == HV_ERR_DOUBLE_FREE ? "double-free"
                         : strstr(_hv_rt_out_report(), "'s stack")
                             ? "stack-free"
                             : "invalid-free";
    _hv_rt_error_end(kind, p, 0, advice, st);
}

int _hv_rt_error_summary(int status)
{
    if (!_hv_rt_opts.quiet || _hv_rt.errors)
        _hv_rt_out("ERROR SUMMARY: %lu errors from %lu contexts (suppressed: "
                   "0 from 0)",
                   (unsigned long)_hv_rt.errors,
                   (unsigned long)_hv_rt.contexts);
    _hv_rt_out_flush();
    if (_hv_rt_opts.error_exitcode && _hv_rt.errors)
        return _hv_rt_opts.error_exitcode;
    return status;
}
