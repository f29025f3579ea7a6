/* trace_bench.c — replay CS:APP malloc-lab traces through every heapviz
 * policy and through glibc's malloc, in one run.
 *
 *   trace_bench [--runs N] [--min-run-ms MS] [--warmup-ms MS] [--quick]
 *               [--json OUT] [--policies first,...] [--no-glibc] [--no-cold]
 *               [--record-modes off,on,shadow] TRACE.rep ...
 *
 * For each trace and each allocator it measures
 *
 *   utilization  the lab's definition: the peak over time of the live
 *                requested bytes, divided by the heap size at the end.
 *                heapviz: hv_stats().heap_size after the run (the break
 *                never moves down).  glibc: the peak over the run of
 *                mallinfo2().arena + .hblkhd (bytes taken from the system by
 *                sbrk and by mmapped chunks), sampled after every operation
 *                in a fresh child process that has called malloc for nothing
 *                else (the trace lives in mmapped memory).  The peak, not the
 *                end: glibc gives memory back, the lab's heap does not.
 *   ns per op    the median over N timed runs of (run time / operations),
 *                CLOCK_MONOTONIC.  "warm": the runs reuse one heap that has
 *                already held the trace once (as the lab's driver reuses its
 *                memory, and as glibc reuses its arena); short traces are
 *                replayed several times per run.  "cold": a fresh heap per
 *                run (a fresh mapping for heapviz, a fresh process for
 *                glibc); creating it is not timed, its page faults are.
 *
 * Before timing, a checked run does what the lab's driver does: every
 * payload aligned (to the heap's alignment: 8 here, as in the lab), inside
 * the heap [heap start, break) (heapviz), never overlapping a live payload,
 * its content (a fill byte per block) kept by realloc and intact until it is
 * freed; heapviz's hv_check() must also pass.  A violation stops the
 * benchmark with exit status 1 and a message naming the trace line.
 *
 * glibc runs in child processes (this program, re-executed with
 * --glibc-child) in three configurations: "glibc" as installed, "glibc-notrim"
 * with GLIBC_TUNABLES raising trim_threshold and mmap_threshold (nothing is
 * given back, nothing is mmapped), and "glibc-nopad" with top_pad=0 (shown
 * for utilization: the lab's "glibc with its top padding off").
 */
#include "heapviz/heapviz.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_RUNS 64
#define SLOW_MS 50 /* a replay slower than this gets 3 timed runs only  */
#define ALIGN 8         /* the lab's alignment                           */

/* ------------------------------------------------------------------------
 * Memory for the benchmark's own data comes from mmap, never malloc, so
 * that glibc's heap in a child holds the trace's blocks and nothing else.
 * ---------------------------------------------------------------------- */
static void *xmap(size_t n)
{
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("trace_bench: mmap");
        exit(3);
    }
    return p;
}
static void xunmap(void *p, size_t n) { munmap(p, n ? n : 1); }

/* Output without stdio buffers (no malloc in a glibc child). */
static void say(int fd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

static double clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
static double now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

/* The timed loops measure CLOCK_MONOTONIC (what is reported) and, beside
 * it, this thread's CPU time: on a shared machine a run that waited for a
 * CPU shows as wall time well above CPU time. */
static double last_cpu_ns;
static double cpu0;

static double start_timing(void)
{
    sched_yield(); /* begin on a fresh time slice */
    cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    return now_ns();
}

static double stop_timing(double t0)
{
    double wall = now_ns() - t0;
    last_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    return wall;
}

/* ------------------------------------------------------------------------
 * Traces
 * ---------------------------------------------------------------------- */
enum { OP_ALLOC, OP_REALLOC, OP_FREE };

typedef struct op {
    uint32_t kind, id, line;
    uint64_t size;
} op_t;

typedef struct trace {
    const char *path, *name;
    op_t *ops;
    uint32_t nops, nids;
    uint64_t peak_live;
    size_t ops_bytes;
} trace_t;

static void trace_die(const char *path, uint32_t line, const char *what)
{
    say(2, "trace_bench: %s:%u: %s\n", path, line, what);
    exit(2);
}

/* Next whitespace-separated token; *line follows newlines.  Returns its
 * length (0 at the end). */
static size_t token(const char **p, const char *end, uint32_t *line,
                    const char **tok)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        if (*s == '\n')
            (*line)++;
        s++;
    }
    *tok = s;
    while (s < end && !(*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    *p = s;
    return (size_t)(s - *tok);
}

static uint64_t number(const trace_t *t, const char *tok, size_t len,
                       uint32_t line, const char *what)
{
    uint64_t v = 0;
    if (len == 0 || len > 15) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: expected a number", what);
        trace_die(t->path, line, msg);
    }
    for (size_t i = 0; i < len; i++) {
        if (tok[i] < '0' || tok[i] > '9') {
            char msg[160];
            snprintf(msg, sizeof msg, "%s: '%.*s' is not a number", what,
                     (int)(len < 40 ? len : 40), tok);
            trace_die(t->path, line, msg);
        }
        v = v * 10 + (uint64_t)(tok[i] - '0');
    }
    return v;
}

static void trace_load(trace_t *t, const char *path)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    const char *slash = strrchr(path, '/');
    t->name = slash ? slash + 1 : path;
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        say(2, "trace_bench: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t n = (size_t)st.st_size;
    char *text = xmap(n);
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, text + got, n - got);
        if (r <= 0)
            trace_die(path, 0, "read failed");
        got += (size_t)r;
    }
    close(fd);
    const char *p = text, *end = text + n, *tok;
    uint32_t line = 1;
    uint64_t hdr[4];
    static const char *names[4] = {"heap size", "number of ids",
                                   "number of operations", "weight"};
    for (int i = 0; i < 4; i++) {
        size_t len = token(&p, end, &line, &tok);
        hdr[i] = number(t, tok, len, line, names[i]);
    }
    if (hdr[1] > (1u << 24) || hdr[2] > (1u << 26))
        trace_die(path, line, "header: too many ids or operations");
    t->nids = (uint32_t)hdr[1];
    t->nops = (uint32_t)hdr[2];
    t->ops_bytes = (size_t)t->nops * sizeof(op_t);
    t->ops = xmap(t->ops_bytes);
    uint64_t *live = xmap((size_t)t->nids * sizeof(uint64_t)); /* size+1 */
    uint64_t cur = 0;
    for (uint32_t i = 0; i < t->nops; i++) {
        size_t len = token(&p, end, &line, &tok);
        if (len == 0)
            trace_die(path, line, "the trace ends before the operations the "
                                  "header announces");
        op_t *o = &t->ops[i];
        o->line = line;
        if (len != 1 || (*tok != 'a' && *tok != 'r' && *tok != 'f'))
            trace_die(path, line, "expected 'a ID BYTES', 'r ID BYTES' or "
                                  "'f ID'");
        o->kind = *tok == 'a' ? OP_ALLOC : *tok == 'r' ? OP_REALLOC : OP_FREE;
        len = token(&p, end, &line, &tok);
        uint64_t id = number(t, tok, len, line, "block id");
        if (id >= t->nids)
            trace_die(path, line, "block id out of range");
        o->id = (uint32_t)id;
        if (o->kind != OP_FREE) {
            len = token(&p, end, &line, &tok);
            o->size = number(t, tok, len, line, "size");
            if (o->size > (1ull << 30))
                trace_die(path, line, "size larger than 1 GiB");
        }
        uint64_t *l = &live[o->id];
        if (o->kind == OP_ALLOC && *l)
            trace_die(path, line, "block allocated twice");
        if (o->kind != OP_ALLOC && !*l)
            trace_die(path, line, "free or realloc of a block not allocated");
        if (*l)
            cur -= *l - 1;
        *l = 0;
        if (o->kind == OP_ALLOC || (o->kind == OP_REALLOC && o->size)) {
            *l = o->size + 1;
            cur += o->size;
            if (cur > t->peak_live)
                t->peak_live = cur;
        }
    }
    if (token(&p, end, &line, &tok))
        trace_die(path, line, "more operations than the header announces");
    xunmap(live, (size_t)t->nids * sizeof(uint64_t));
    xunmap(text, n);
}

/* ------------------------------------------------------------------------
 * The lab's checks, for any allocator: a sorted array of live payloads.
 * ---------------------------------------------------------------------- */
typedef struct span {
    uint64_t lo, hi;
    uint32_t id;
} span_t;

typedef struct checker {
    const trace_t *t;
    const char *alloc;
    span_t *live;
    size_t n, bytes;
} checker_t;

static void checker_init(checker_t *c, const trace_t *t, const char *alloc)
{
    c->t = t;
    c->alloc = alloc;
    c->n = 0;
    c->bytes = ((size_t)t->nids + 1) * sizeof(span_t);
    c->live = xmap(c->bytes);
}

static void checker_done(checker_t *c) { xunmap(c->live, c->bytes); }

static void fail(const checker_t *c, const op_t *o, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say(2,
        "trace_bench: CORRECTNESS FAILURE: %s, line %u (%c %u %llu): %s: "
        "%s\n",
        c->t->name, o->line, "arf"[o->kind], o->id, (unsigned long long)o->size,
        c->alloc, msg);
    exit(1);
}

static size_t lower(const checker_t *c, uint64_t a)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->live[mid].lo < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A new payload [a, a+n): aligned, inside [heap_lo, heap_hi) when given,
 * overlapping no live payload. */
static void check_add(checker_t *c, const op_t *o, uint64_t a, uint64_t n,
                      uint64_t heap_lo, uint64_t heap_hi)
{
    if (a % ALIGN)
        fail(c, o, "payload 0x%llx is not aligned to %d",
             (unsigned long long)a, ALIGN);
    if (heap_hi && (a < heap_lo || a + n > heap_hi))
        fail(c, o, "payload [0x%llx, 0x%llx) is outside the heap [0x%llx, "
                   "0x%llx)",
             (unsigned long long)a, (unsigned long long)(a + n),
             (unsigned long long)heap_lo, (unsigned long long)heap_hi);
    size_t k = lower(c, a);
    uint64_t end = a + (n ? n : 1);
    if (k > 0 && c->live[k - 1].hi > a)
        fail(c, o, "payload at 0x%llx overlaps live block %u [0x%llx, 0x%llx)",
             (unsigned long long)a, c->live[k - 1].id,
             (unsigned long long)c->live[k - 1].lo,
             (unsigned long long)c->live[k - 1].hi);
    if (k < c->n && c->live[k].lo < end)
        fail(c, o, "payload [0x%llx, 0x%llx) overlaps live block %u at 0x%llx",
             (unsigned long long)a, (unsigned long long)end, c->live[k].id,
             (unsigned long long)c->live[k].lo);
    memmove(&c->live[k + 1], &c->live[k], (c->n - k) * sizeof(span_t));
    c->live[k] = (span_t){a, a + n, o->id};
    c->n++;
}

static void check_remove(checker_t *c, uint64_t a)
{
    size_t k = lower(c, a);
    if (k < c->n && c->live[k].lo == a) {
        memmove(&c->live[k], &c->live[k + 1], (c->n - k - 1) * sizeof(span_t));
        c->n--;
    }
}

static uint8_t fill_byte(uint32_t id) { return (uint8_t)(id % 255 + 1); }

/* Is every byte of m[0..n) equal to b?  (m[0] == b and each byte equal to
 * the next: one vectorised memcmp.) */
static bool all_bytes(const uint8_t *m, uint64_t n, uint8_t b)
{
    return n == 0 || (m[0] == b && memcmp(m, m + 1, n - 1) == 0);
}

/* ------------------------------------------------------------------------
 * The allocators behind one interface, for the checked run only (the timed
 * loops call them directly).
 * ---------------------------------------------------------------------- */
typedef struct alloc_if {
    const char *name;
    hv_heap_t *h; /* NULL: glibc */
} alloc_if_t;

static uint64_t a_malloc(alloc_if_t *a, const checker_t *c, const op_t *o)
{
    if (!a->h)
        return (uint64_t)(uintptr_t)malloc(o->size);
    hv_addr_t out;
    hv_err_t e = hv_malloc(a->h, o->size, 0, &out);
    if (e)
        fail(c, o, "hv_malloc failed: %s", hv_strerror(e));
    return out;
}

static uint64_t a_realloc(alloc_if_t *a, const checker_t *c, const op_t *o,
                          uint64_t p)
{
    if (!a->h)
        return (uint64_t)(uintptr_t)realloc((void *)(uintptr_t)p, o->size);
    hv_addr_t out;
    hv_err_t e = hv_realloc(a->h, p, o->size, 0, HV_FREE_CHECKED, &out);
    if (e)
        fail(c, o, "hv_realloc failed: %s", hv_strerror(e));
    return out;
}

static void a_free(alloc_if_t *a, const checker_t *c, const op_t *o, uint64_t p)
{
    if (!a->h) {
        free((void *)(uintptr_t)p);
        return;
    }
    hv_err_t e = hv_free(a->h, p, 0, HV_FREE_CHECKED);
    if (e)
        fail(c, o, "hv_free failed: %s", hv_strerror(e));
}

static uint8_t *a_mem(alloc_if_t *a, const checker_t *c, const op_t *o,
                      uint64_t p, uint64_t n)
{
    if (!a->h)
        return (uint8_t *)(uintptr_t)p;
    uint8_t *m = NULL;
    if (n && hv_resolve(a->h, p, n, NULL, &m))
        fail(c, o, "payload [0x%llx, +%llu) is not mapped",
             (unsigned long long)p, (unsigned long long)n);
    return m;
}

static uint64_t glibc_footprint(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)(mi.arena + mi.hblkhd);
}

typedef struct checked {
    uint64_t heap;  /* heapviz: final heap size; glibc: peak footprint */
    uint64_t tight; /* heapviz: the highest payload end - heap start    */
    uint64_t core_peak; /* heapviz: what hv_stats says the peak was      */
} checked_t;

/* The checked run. */
static checked_t run_checked(alloc_if_t *a, const trace_t *t, uint64_t *ptrs,
                             uint64_t *sizes)
{
    checker_t c;
    checker_init(&c, t, a->name);
    checked_t r = {0, 0, 0};
    uint64_t base = a->h ? 0 : glibc_footprint(), lo = 0, top = 0;
    if (a->h) {
        hv_layout_t l;
        hv_heap_layout(a->h, &l);
        lo = l.heap_base;
    }
    memset(ptrs, 0, (size_t)t->nids * sizeof *ptrs);
    memset(sizes, 0, (size_t)t->nids * sizeof *sizes);
    for (uint32_t i = 0; i < t->nops; i++) {
        const op_t *o = &t->ops[i];
        uint32_t id = o->id;
        uint8_t b = fill_byte(id);
        if (o->kind == OP_FREE) {
            uint8_t *m = a_mem(a, &c, o, ptrs[id], sizes[id]);
            if (sizes[id] && !all_bytes(m, sizes[id], b))
                fail(&c, o, "the payload of block %u changed while it was live",
                     id);
            check_remove(&c, ptrs[id]);
            a_free(a, &c, o, ptrs[id]);
            ptrs[id] = sizes[id] = 0;
        } else {
            uint64_t p, keep = 0;
            if (o->kind == OP_ALLOC) {
                p = a_malloc(a, &c, o);
            } else {
                check_remove(&c, ptrs[id]);
                keep = sizes[id] < o->size ? sizes[id] : o->size;
                p = a_realloc(a, &c, o, ptrs[id]);
            }
            if (o->size == 0) { /* malloc(0): NULL or a unique pointer */
                ptrs[id] = o->kind == OP_ALLOC ? p : 0;
                sizes[id] = 0;
            } else {
                if (!p)
                    fail(&c, o, "returned NULL (out of memory)");
                check_add(&c, o, p, o->size, lo, a->h ? hv_brk(a->h) : 0);
                uint8_t *m = a_mem(a, &c, o, p, o->size);
                if (keep && !all_bytes(m, keep, b))
                    fail(&c, o, "realloc did not keep the first %llu bytes",
                         (unsigned long long)keep);
                memset(m + keep, b, o->size - keep);
                ptrs[id] = p;
                sizes[id] = o->size;
                if (p + o->size > top)
                    top = p + o->size;
            }
        }
        if (!a->h) {
            uint64_t f = glibc_footprint() - base;
            if (f > r.heap)
                r.heap = f;
        } else if ((i & 1023) == 1023 && hv_check(a->h, NULL, 0)) {
            hv_violation_t v;
            hv_check(a->h, &v, 1);
            fail(&c, o, "hv_check: %s (at 0x%llx)", v.what,
                 (unsigned long long)v.addr);
        }
    }
    for (uint32_t id = 0; id < t->nids; id++) /* unbalanced traces */
        if (ptrs[id]) {
            op_t end = {OP_FREE, id, t->nops ? t->ops[t->nops - 1].line : 0, 0};
            a_free(a, &c, &end, ptrs[id]);
        }
    if (a->h) {
        hv_violation_t v;
        if (hv_check(a->h, &v, 1)) {
            op_t end = {OP_FREE, 0, 0, 0};
            fail(&c, &end, "hv_check after the run: %s", v.what);
        }
        hv_stats_t st;
        hv_stats(a->h, &st);
        r.heap = st.heap_size;
        r.tight = top > lo ? top - lo : 0;
        r.core_peak = st.peak_payload;
    }
    checker_done(&c);
    return r;
}

/* ------------------------------------------------------------------------
 * The timed loops: nothing but the calls.
 * ---------------------------------------------------------------------- */
static double time_hv(hv_heap_t *h, const trace_t *t, uint64_t *ptrs,
                      uint32_t reps)
{
    double t0 = start_timing();
    for (uint32_t r = 0; r < reps; r++) {
        for (uint32_t i = 0; i < t->nops; i++) {
            const op_t *o = &t->ops[i];
            hv_addr_t out;
            if (o->kind == OP_ALLOC) {
                hv_malloc(h, o->size, 0, &out);
                ptrs[o->id] = out;
            } else if (o->kind == OP_REALLOC) {
                hv_realloc(h, ptrs[o->id], o->size, 0, HV_FREE_CHECKED, &out);
                ptrs[o->id] = out;
            } else {
                hv_free(h, ptrs[o->id], 0, HV_FREE_CHECKED);
                ptrs[o->id] = 0;
            }
        }
        for (uint32_t id = 0; id < t->nids; id++) /* unbalanced traces */
            if (ptrs[id]) {
                hv_free(h, ptrs[id], 0, HV_FREE_CHECKED);
                ptrs[id] = 0;
            }
    }
    return stop_timing(t0);
}

static double time_glibc(const trace_t *t, uint64_t *ptrs, uint32_t reps)
{
    void **pp = (void **)(void *)ptrs;
    double t0 = start_timing();
    for (uint32_t r = 0; r < reps; r++) {
        for (uint32_t i = 0; i < t->nops; i++) {
            const op_t *o = &t->ops[i];
            if (o->kind == OP_ALLOC)
                pp[o->id] = malloc(o->size);
            else if (o->kind == OP_REALLOC)
                pp[o->id] = realloc(pp[o->id], o->size);
            else {
                free(pp[o->id]);
                pp[o->id] = NULL;
            }
        }
        for (uint32_t id = 0; id < t->nids; id++)
            if (pp[id]) {
                free(pp[id]);
                pp[id] = NULL;
            }
    }
    return stop_timing(t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* How many replays make one timed run last at least min_ns, given how long
 * one replay took. */
static uint32_t reps_for(double one_ns, double min_ns)
{
    if (one_ns <= 0 || one_ns >= min_ns)
        return 1;
    double r = min_ns / one_ns + 1;
    return r > 100000 ? 100000 : (uint32_t)r;
}

/* ------------------------------------------------------------------------
 * glibc children
 * ---------------------------------------------------------------------- */
typedef struct glibc_mode {
    const char *name, *tunables; /* NULL: unset GLIBC_TUNABLES */
    bool timed;
} glibc_mode_t;

static const glibc_mode_t GLIBC_MODES[] = {
    {"glibc", NULL, true},
    {"glibc-notrim",
     "glibc.malloc.trim_threshold=17179869184:"
     "glibc.malloc.mmap_threshold=33554432",
     true},
    {"glibc-nopad", "glibc.malloc.top_pad=0", false},
};
#define N_GLIBC_MODES (sizeof GLIBC_MODES / sizeof GLIBC_MODES[0])

/* In a child: "checked" = the checked run (prints the peak footprint);
 * "warm" = a warm-up replay, then one timed run of enough replays to last
 * min_ms; "cold" = one timed replay in this fresh process. */
static int glibc_child(const char *what, double min_ms, const char *path)
{
    trace_t t;
    trace_load(&t, path);
    uint64_t *ptrs = xmap((size_t)t.nids * 8 + 8);
    uint64_t *sizes = xmap((size_t)t.nids * 8 + 8);
    double ops = t.nops ? t.nops : 1;
    if (!strcmp(what, "cold")) {
        double ns = time_glibc(&t, ptrs, 1);
        say(1, "ns %.3f %.3f\n", ns / ops, last_cpu_ns / ops);
    } else if (!strcmp(what, "warm")) {
        uint32_t reps = reps_for(time_glibc(&t, ptrs, 1), min_ms * 1e6);
        double ns = time_glibc(&t, ptrs, reps);
        say(1, "ns %.3f %.3f\n", ns / (ops * reps), last_cpu_ns / (ops * reps));
    } else {
        alloc_if_t a = {"glibc", NULL};
        checked_t r = run_checked(&a, &t, ptrs, sizes);
        say(1, "heap %llu\n", (unsigned long long)r.heap);
    }
    return 0;
}

/* Run this program as a glibc child with GLIBC_TUNABLES set (or removed);
 * return the number it prints ("heap N" or "ns X"). */
static double spawn_child(const glibc_mode_t *m, const char *what,
                          double min_ms, const char *path)
{
    /* /proc/self/exe, not its target: the running program even when a
     * rebuild has replaced bench/build/trace_bench meanwhile. */
    char self[] = "/proc/self/exe";
    char ms[32];
    snprintf(ms, sizeof ms, "%g", min_ms);
    char *argv[] = {self, "--glibc-child", (char *)what, ms, (char *)path,
                    NULL};
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **env = xmap((ne + 2) * sizeof(char *));
    char tun[512];
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "GLIBC_TUNABLES=", 15))
            env[k++] = environ[i];
    if (m->tunables) {
        snprintf(tun, sizeof tun, "GLIBC_TUNABLES=%s", m->tunables);
        env[k++] = tun;
    }
    env[k] = NULL;
    int pfd[2];
    if (pipe(pfd) < 0) {
        perror("trace_bench: pipe");
        exit(3);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, self, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    xunmap(env, (ne + 2) * sizeof(char *));
    close(pfd[1]);
    if (rc) {
        say(2, "trace_bench: posix_spawn: %s\n", strerror(rc));
        exit(3);
    }
    char buf[256];
    size_t used = 0;
    for (;;) {
        ssize_t r = read(pfd[0], buf + used, sizeof buf - 1 - used);
        if (r <= 0)
            break;
        used += (size_t)r;
    }
    buf[used] = 0;
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        say(2, "trace_bench: the %s child (%s) failed on %s (status %d)\n",
            m->name, what, path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        exit(1);
    }
    double v;
    last_cpu_ns = -1;
    if (sscanf(buf, "heap %lf", &v) != 1 &&
        sscanf(buf, "ns %lf %lf", &v, &last_cpu_ns) != 2) {
        say(2, "trace_bench: the %s child said '%s'\n", m->name, buf);
        exit(3);
    }
    return v;
}

/* ------------------------------------------------------------------------
 * heapviz variants
 * ---------------------------------------------------------------------- */
typedef struct variant {
    char name[48];
    hv_policy_t policy;
    bool footer, record, shadow;
    bool timed; /* false: utilization only */
} variant_t;

static uint64_t max_size_for(const trace_t *t)
{
    uint64_t need = 0;
    for (uint32_t i = 0; i < t->nops; i++)
        if (t->ops[i].kind != OP_FREE)
            need += 2 * (t->ops[i].size + 64) + 4096;
    uint64_t size = 64u << 20;
    while (size < need && size < (1ull << 30))
        size *= 2;
    return size;
}

static hv_heap_t *make_heap(const variant_t *v, const trace_t *t)
{
    hv_config_t cfg;
    hv_config_default(&cfg);
    cfg.size = 0;
    cfg.max_size = max_size_for(t);
    cfg.policy = v->policy;
    cfg.align = ALIGN;
    cfg.mmap_threshold = 0;
    cfg.footer = v->footer;
    cfg.record = v->record;
    cfg.shadow = v->shadow;
    hv_heap_t *h;
    const char *bad = NULL;
    hv_err_t e = hv_heap_create(&cfg, &h, &bad);
    if (e) {
        say(2, "trace_bench: hv_heap_create(%s): %s%s%s\n", v->name,
            hv_strerror(e), bad ? ", field " : "", bad ? bad : "");
        exit(3);
    }
    return h;
}

/* ------------------------------------------------------------------------
 * Results
 * ---------------------------------------------------------------------- */
typedef struct result {
    const char *name;
    const variant_t *v;       /* NULL: glibc                             */
    const glibc_mode_t *g;
    hv_heap_t *warm_heap;     /* heapviz: the heap the warm runs reuse    */
    uint32_t reps;            /* heapviz: replays per warm run            */
    double warm[MAX_RUNS], cold[MAX_RUNS]; /* ns per op, wall clock     */
    double warm_cpu[MAX_RUNS];              /* ns per op, thread CPU time */
    int nwarm, ncold;
    int nruns;                              /* timed runs it gets         */
    uint64_t heap, tight, core_peak;
} result_t;

static FILE *json;

static double median_of(const double *v, int n)
{
    double tmp[MAX_RUNS];
    if (n == 0)
        return -1;
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    return median(tmp, n);
}

/* A number for the JSON file: null when it is not finite. */
static void json_num(double v, const char *fmt)
{
    if (isfinite(v))
        fprintf(json, fmt, v);
    else
        fputs("null", json);
}

static void json_list(const double *v, int n)
{
    fputc('[', json);
    for (int i = 0; i < n; i++) {
        if (i)
            fputc(',', json);
        json_num(v[i], "%.3f");
    }
    fputc(']', json);
}

static void emit(const trace_t *t, const result_t *r, bool first)
{
    double util = r->heap ? (double)t->peak_live / (double)r->heap : 0;
    double warm = median_of(r->warm, r->nwarm), cold = median_of(r->cold, r->ncold);
    printf("%-22s %-27s %6.1f%% %10llu %10.1f %10.1f\n", t->name, r->name,
           100 * util, (unsigned long long)r->heap, warm, cold);
    fflush(stdout);
    if (!json)
        return;
    fprintf(json,
            "%s\n  {\"trace\": \"%s\", \"allocator\": \"%s\", \"kind\": \"%s\", "
            "\"ops\": %u, \"peak_live\": %llu, \"heap_size\": %llu, "
            "\"utilization\": ",
            first ? "" : ",", t->name, r->name, r->v ? "heapviz" : "glibc",
            t->nops, (unsigned long long)t->peak_live,
            (unsigned long long)r->heap);
    json_num(util, "%.6f");
    fputs(", \"warm_ns\": ", json);
    json_num(warm, "%.3f");
    fputs(", \"cold_ns\": ", json);
    json_num(cold, "%.3f");
    fputs(", ", json);
    if (r->v)
        fprintf(json,
                "\"policy\": \"%s\", \"record\": %s, \"shadow\": %s, "
                "\"footer\": %s, \"tight_heap\": %llu, \"core_peak\": %llu, ",
                hv_policy_name(r->v->policy), r->v->record ? "true" : "false",
                r->v->shadow ? "true" : "false", r->v->footer ? "true" : "false",
                (unsigned long long)r->tight, (unsigned long long)r->core_peak);
    fputs("\"warm_cpu_ns\": ", json);
    json_num(median_of(r->warm_cpu, r->nwarm), "%.3f");
    fputs(", \"warm_runs\": ", json);
    json_list(r->warm, r->nwarm);
    fprintf(json, ", \"warm_cpu_runs\": ");
    json_list(r->warm_cpu, r->nwarm);
    fprintf(json, ", \"cold_runs\": ");
    json_list(r->cold, r->ncold);
    fputc('}', json);
}

static const char *POLICY_NAMES[] = {"first", "next",       "best",
                                     "worst", "segregated", "buddy"};

static void usage(void)
{
    fputs("usage: trace_bench [--runs N] [--min-run-ms MS] [--warmup-ms MS] "
          "[--quick] [--json OUT]\n"
          "                   [--policies first,next,...] "
          "[--record-modes off,on,shadow]\n"
          "                   [--no-glibc] [--no-cold] TRACE.rep ...\n",
          stderr);
    exit(2);
}

static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* The heapviz variants: every policy with recording off and on; first fit
 * (what Heap() uses) and segregated also recording with the shadow memory
 * the Python binding keeps for its checks; segregated without footers on
 * allocated blocks (the target configuration) and, for utilization only,
 * with them. */
static int make_variants(variant_t *vars, const char *policies,
                         const char *records)
{
    static const char *rec[3] = {"off", "on", "shadow"};
    static const char *label[3] = {"rec-off", "rec-on", "rec-on+shadow"};
    int nv = 0;
    for (int p = 0; p < HV_POLICY_COUNT; p++) {
        if (!in_list(policies, POLICY_NAMES[p]))
            continue;
        for (int r = 0; r < 3; r++) {
            if (!in_list(records, rec[r]) ||
                (r == 2 && p != HV_POLICY_FIRST && p != HV_POLICY_SEGREGATED))
                continue;
            variant_t *v = &vars[nv++];
            snprintf(v->name, sizeof v->name, "%s/%s", POLICY_NAMES[p],
                     label[r]);
            v->policy = (hv_policy_t)p;
            v->footer = p != HV_POLICY_SEGREGATED;
            v->record = r >= 1;
            v->shadow = r == 2;
            v->timed = true;
        }
        if (p == HV_POLICY_SEGREGATED && in_list(records, "off")) {
            variant_t *v = &vars[nv++];
            snprintf(v->name, sizeof v->name, "segregated+footer/rec-off");
            v->policy = HV_POLICY_SEGREGATED;
            v->footer = true;
            v->record = v->shadow = v->timed = false;
        }
    }
    return nv;
}

/* Bring a heap to its steady state: it has held the trace once and, when
 * it records, its event history (1,000,000 events by default) is full and
 * wraps round, so the runs that follow do not pay for first touching its
 * pages — at most warmup_ms of replays.  Returns the time of one replay in
 * that state. */
static double warmup_ms = 200;

static double warm_up(hv_heap_t *h, const trace_t *t, uint64_t *ptrs)
{
    double spent = time_hv(h, t, ptrs, 1); /* the heap reaches its size */
    while (hv_heap_config(h)->record && hv_history_first(h) == 0 &&
           spent < warmup_ms * 1e6)
        spent += time_hv(h, t, ptrs, 1);
    return time_hv(h, t, ptrs, 1);
}

/* One trace: checked runs, then warm runs round-robin over every allocator
 * (so that a change in the machine's load hits them all alike), then cold
 * runs, round-robin too. */
static void bench_trace(const trace_t *t, const variant_t *vars, int nv,
                        bool glibc, bool cold, int runs, double min_ms,
                        bool *first)
{
    result_t *res = xmap(sizeof(result_t) * (size_t)(nv + N_GLIBC_MODES));
    int nr = 0;
    uint64_t *ptrs = xmap((size_t)t->nids * 8 + 8);
    uint64_t *sizes = xmap((size_t)t->nids * 8 + 8);
    for (int vi = 0; vi < nv; vi++) {
        result_t *r = &res[nr++];
        r->v = &vars[vi];
        r->name = vars[vi].name;
        hv_heap_t *h = make_heap(r->v, t);
        alloc_if_t a = {r->v->name, h};
        checked_t c = run_checked(&a, t, ptrs, sizes);
        hv_heap_destroy(h);
        r->heap = c.heap;
        r->tight = c.tight;
        r->core_peak = c.core_peak;
        if (r->v->timed) {
            r->warm_heap = make_heap(r->v, t);
            double one = warm_up(r->warm_heap, t, ptrs);
            r->reps = reps_for(one, min_ms * 1e6);
            r->nruns = one > SLOW_MS * 1e6 && runs > 3 ? 3 : runs;
        }
    }
    for (size_t m = 0; glibc && m < N_GLIBC_MODES; m++) {
        result_t *r = &res[nr++];
        r->g = &GLIBC_MODES[m];
        r->name = r->g->name;
        r->heap = (uint64_t)spawn_child(r->g, "checked", 0, t->path);
        r->nruns = runs;
    }
    double ops = t->nops ? t->nops : 1;
    for (int i = 0; i < runs; i++)
        for (int k = 0; k < nr; k++) {
            result_t *r = &res[k];
            if (i >= r->nruns)
                continue;
            if (r->warm_heap) {
                double n = ops * r->reps;
                r->warm[r->nwarm] = time_hv(r->warm_heap, t, ptrs, r->reps) / n;
                r->warm_cpu[r->nwarm++] = last_cpu_ns / n;
            } else if (r->g && r->g->timed) {
                r->warm[r->nwarm] = spawn_child(r->g, "warm", min_ms, t->path);
                r->warm_cpu[r->nwarm++] = last_cpu_ns;
            }
        }
    for (int k = 0; k < nr; k++)
        if (res[k].warm_heap)
            hv_heap_destroy(res[k].warm_heap);
    for (int i = 0; cold && i < runs; i++)
        for (int k = 0; k < nr; k++) {
            result_t *r = &res[k];
            if (i >= r->nruns)
                continue;
            if (r->v && r->v->timed && !r->v->record) {
                hv_heap_t *h = make_heap(r->v, t);
                r->cold[r->ncold++] = time_hv(h, t, ptrs, 1) / ops;
                hv_heap_destroy(h);
            } else if (r->g && r->g->timed) {
                r->cold[r->ncold++] = spawn_child(r->g, "cold", 0, t->path);
            }
        }
    for (int k = 0; k < nr; k++) {
        emit(t, &res[k], *first);
        *first = false;
    }
    xunmap(ptrs, (size_t)t->nids * 8 + 8);
    xunmap(sizes, (size_t)t->nids * 8 + 8);
    xunmap(res, sizeof(result_t) * (size_t)(nv + N_GLIBC_MODES));
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--glibc-child"))
        return glibc_child(argv[2], atof(argv[3]), argv[4]);
    int runs = 11, first_trace = argc;
    double min_ms = 2;
    bool glibc = true, cold = true;
    const char *policies = "first,next,best,worst,segregated,buddy";
    const char *records = "off,on,shadow";
    const char *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-run-ms") && i + 1 < argc)
            min_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--warmup-ms") && i + 1 < argc)
            warmup_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            runs = 1, min_ms = 0, warmup_ms = 0;
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json_path = argv[++i];
        else if (!strcmp(argv[i], "--policies") && i + 1 < argc)
            policies = argv[++i];
        else if (!strcmp(argv[i], "--record-modes") && i + 1 < argc)
            records = argv[++i];
        else if (!strcmp(argv[i], "--no-glibc"))
            glibc = false;
        else if (!strcmp(argv[i], "--no-cold"))
            cold = false;
        else if (argv[i][0] == '-')
            usage();
        else {
            first_trace = i;
            break;
        }
    }
    if (first_trace >= argc || runs < 1 || runs > MAX_RUNS || min_ms < 0)
        usage();
    int ntraces = argc - first_trace;
    trace_t *traces = xmap((size_t)ntraces * sizeof(trace_t));
    for (int i = 0; i < ntraces; i++)
        trace_load(&traces[i], argv[first_trace + i]);
    variant_t vars[32];
    int nv = make_variants(vars, policies, records);
    if (json_path) {
        json = fopen(json_path, "w");
        if (!json) {
            perror(json_path);
            return 2;
        }
        fprintf(json, "{\"runs\": %d, \"min_run_ms\": %g, \"align\": %d, "
                      "\"results\": [", runs, min_ms, ALIGN);
    }
    printf("%-22s %-27s %7s %10s %10s %10s\n", "trace", "allocator", "util",
           "heap", "warm ns/op", "cold ns/op");
    bool first = true;
    for (int ti = 0; ti < ntraces; ti++) {
        say(2, "trace_bench: [%d/%d] %s (%u ops)\n", ti + 1, ntraces,
            traces[ti].name, traces[ti].nops);
        bench_trace(&traces[ti], vars, nv, glibc, cold, runs, min_ms, &first);
    }
    if (json) {
        fprintf(json, "\n]}\n");
        fclose(json);
    }
    return 0;
}
