/* leakcheck.c — the leak check of a C process, and valgrind's HEAP and
 * LEAK SUMMARY.
 *
 * The core's scanner (csrc/core/leaks.c) does the flood fill; this file
 * gives it a C process's roots, as valgrind and LSan take them: the
 * registers of the thread that checks, its stack from the stack pointer
 * up, and every other readable and writable mapping (the data and bss of
 * every module, thread stacks, TLS, ld.so's own memory) — except the
 * heap itself, the arena's tables, the runtime's own memory, and the
 * stacks of threads that have ended (glibc keeps them for reuse, stale
 * pointers and all).  Pages never touched are skipped (mincore): they
 * hold zeros.
 *
 * Loss records group the blocks of one kind allocated by one call stack,
 * sorted as valgrind sorts them: by total bytes, then kind, then blocks,
 * then the age of the stack. */
#include "rt.h"

#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Memory that is no root
 * ---------------------------------------------------------------------- */
#define MAX_SKIP 64

typedef struct skip {
    uintptr_t lo[MAX_SKIP], hi[MAX_SKIP];
    int n;
} skip_t;

static void skip_add(skip_t *k, uintptr_t lo, uintptr_t hi)
{
    if (k->n < MAX_SKIP && hi > lo) {
        k->lo[k->n] = lo;
        k->hi[k->n++] = hi;
    }
}

static int own_data(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (!strstr(name, "libheapviz_rt") && !strstr(name, "libheapviz_cc"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
            uintptr_t hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
            skip_add(arg, lo, (hi + 4095) & ~(uintptr_t)4095);
        }
    }
    return 0;
}

static void dead_stack(uintptr_t lo, uintptr_t hi, int live, void *arg)
{
    if (!live) skip_add(arg, lo, hi);
}

static void make_skips(skip_t *k)
{
    const void *arena;
    uint64_t len;
    uintptr_t plo, phi;
    hv_heap_span(_hv_rt.heap, &arena, &len);
    skip_add(k, (uintptr_t)arena, (uintptr_t)arena + len);
    skip_add(k, hv_rt_map.heap_lo, hv_rt_map.heap_lo + hv_rt_map.heap_len);
    if (hv_rt_map.mmap_lo)
        skip_add(k, hv_rt_map.mmap_lo, hv_rt_map.mmap_lo + hv_rt_map.mmap_len);
    _hv_rt_pool_span(&plo, &phi);
    skip_add(k, plo, phi);
    dl_iterate_phdr(own_data, k);
    _hv_rt_thread_stacks(dead_stack, k);
}

static int skipped(const skip_t *k, uintptr_t lo, uintptr_t hi)
{
    for (int i = 0; i < k->n; i++)
        if (lo < k->hi[i] && hi > k->lo[i]) return 1;
    return 0;
}

/* ------------------------------------------------------------------------
 * Roots
 * ---------------------------------------------------------------------- */
/* The touched pages of [lo, hi). */
static void scan_resident(hv_leak_scan_t *s, uintptr_t lo, uintptr_t hi)
{
    static unsigned char vec[4096];
    const uintptr_t page = 4096;
    for (uintptr_t at = lo; at < hi;) {
        uintptr_t end =
            at + sizeof vec * page < hi ? at + sizeof vec * page : hi;
        if (mincore((void *)at, end - at, vec) != 0) {
            hv_leak_root_range(s, (const void *)at, end - at);
            at = end;
            continue;
        }
        for (uintptr_t p = at; p < end; p += page)
            if (vec[(p - at) / page] & 1)
                hv_leak_root_range(s, (const void *)p, page);
        at = end;
    }
}

typedef struct region {
    uintptr_t lo, hi;
    int rw;
} region_t;

static int parse_line(const char *line, region_t *r)
{
    unsigned long lo, hi;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3) return 0;
    r->lo = lo;
    r->hi = hi;
    r->rw = perms[0] == 'r' && perms[1] == 'w';
    return 1;
}

static void scan_mappings(hv_leak_scan_t *s, const skip_t *k, uintptr_t sp)
{
    static char buf[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t have = 0;
    ssize_t r;
    while ((r = read(fd, buf + have, sizeof buf - 1 - have)) > 0) {
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            region_t m;
            *nl = 0;
            if (parse_line(line, &m) && m.rw && !skipped(k, m.lo, m.hi)) {
                if (sp >= m.lo && sp < m.hi) /* this thread: live part */
                    hv_leak_root_range(s, (const void *)sp, m.hi - sp);
                else
                    scan_resident(s, m.lo, m.hi);
            }
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
    }
    close(fd);
}

static void alias_root(uintptr_t aligned, uintptr_t payload, uint64_t size,
                       void *arg)
{
    (void)size;
    hv_leak_alias(arg, payload, aligned);
}

/* ------------------------------------------------------------------------
 * Loss records
 * ---------------------------------------------------------------------- */
typedef struct record {
    uint32_t site; /* the allocation stack */
    uint8_t kind;
    uint64_t blocks, direct, indirect;
} record_t;

static int by_valgrind(const void *a, const void *b)
{
    const record_t *x = a, *y = b;
    uint64_t tx = x->direct + x->indirect, ty = y->direct + y->indirect;
    if (tx != ty) return tx < ty ? -1 : 1;
    if (x->kind != y->kind) /* valgrind's states: reachable is 3, … */
        return x->kind < y->kind ? -1 : 1;
    if (x->blocks != y->blocks) return x->blocks < y->blocks ? -1 : 1;
    return (x->site > y->site) - (x->site < y->site);
}

/* One record per (kind, stack); records sorted. */
static record_t *make_records(const hv_leak_scan_t *s, uint64_t *nrec,
                              const uint64_t *sizes)
{
    uint64_t n = hv_leak_count(s), m = 0;
    record_t *r = _hv_rt_pool_alloc((n ? n : 1) * sizeof *r, 16);
    if (!r) return NULL;
    for (uint64_t i = 0; i < n; i++) { /* results come sorted by kind */
        const hv_leak_t *l = hv_leak_get(s, i);
        uint64_t j = m;
        for (uint64_t k = m; k-- > 0 && r[k].kind == l->kind;)
            if (r[k].site == l->site) {
                j = k;
                break;
            }
        if (j == m) r[m++] = (record_t){.site = l->site, .kind = l->kind};
        r[j].blocks++;
        r[j].direct += sizes[i];
        r[j].indirect += l->kind == HV_LEAK_DEFINITE ? l->indirect : 0;
    }
    qsort(r, m, sizeof *r, by_valgrind);
    *nrec = m;
    return r;
}

/* valgrind's numbers: 1,234,567 */
static const char *commas(uint64_t v, char *buf)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n; i++) {
        buf[o++] = tmp[i];
        if ((n - i - 1) % 3 == 0 && i < n - 1) buf[o++] = ',';
    }
    buf[o] = 0;
    return buf;
}

static const char *const KIND_WORDS[] = {"definitely lost", "indirectly lost",
                                         "possibly lost", "still reachable"};

static void print_record(const record_t *r, uint64_t i, uint64_t n)
{
    char a[32], b[32], c[32];
    uint64_t total = r->direct + r->indirect;
    if (r->indirect)
        _hv_rt_out("%s (%s direct, %s indirect) bytes in %s blocks are %s in "
                   "loss record %llu of %llu",
                   commas(total, a), commas(r->direct, b),
                   commas(r->indirect, c), commas(r->blocks, a + 16),
                   KIND_WORDS[r->kind], (unsigned long long)i,
                   (unsigned long long)n);
    else
        _hv_rt_out("%s bytes in %s blocks are %s in loss record %llu of %llu",
                   commas(total, a), commas(r->blocks, b), KIND_WORDS[r->kind],
                   (unsigned long long)i, (unsigned long long)n);
    _hv_rt_out_stack(_hv_rt_stack_get(r->site), NULL);
    _hv_rt_out("%s", "");
    _hv_rt_out_flush();
}

static void summaries(const hv_leak_scan_t *s, const uint64_t *sizes)
{
    char a[32], b[32], c[32];
    uint64_t n = hv_leak_count(s), bytes = 0, kb[4] = {0}, kn[4] = {0};
    /* quiet (valgrind's -q): the loss records and LEAK SUMMARY only when
     * something was lost */
    for (uint64_t i = 0; i < n; i++) {
        uint8_t k = hv_leak_get(s, i)->kind;
        bytes += sizes[i];
        kb[k] += sizes[i];
        kn[k]++;
    }
    int quiet = _hv_rt_opts.quiet, lost = 0;
    for (int k = 0; k < 4; k++)
        lost |= kn[k] && (_hv_rt_opts.error_kinds >> k & 1);
    if (quiet && (!lost || _hv_rt_opts.leak_check == HV_RT_LEAK_NO)) return;
    if (quiet) goto records;
    _hv_rt_out("HEAP SUMMARY:");
    _hv_rt_out("    in use at exit: %s bytes in %s blocks", commas(bytes, a),
               commas(n, b));
    _hv_rt_out("  total heap usage: %s allocs, %s frees, %s bytes allocated",
               commas(_hv_rt.n_alloc, a), commas(_hv_rt.n_free, b),
               commas(_hv_rt.bytes_alloc, c));
    _hv_rt_out("%s", "");
    _hv_rt_out_flush();
    if (!n) {
        _hv_rt_out("All heap blocks were freed -- no leaks are possible");
        _hv_rt_out("%s", "");
        return;
    }
    if (_hv_rt_opts.leak_check == HV_RT_LEAK_NO) {
        _hv_rt_out("For a detailed leak analysis, rerun with: "
                   "--leak-check=full");
        _hv_rt_out("%s", "");
        return;
    }
records:;
    uint64_t nrec = 0;
    record_t *r = make_records(s, &nrec, sizes);
    for (uint64_t i = 0; r && i < nrec; i++) {
        int shown = _hv_rt_opts.leak_check == HV_RT_LEAK_FULL &&
                    (_hv_rt_opts.show_kinds >> r[i].kind & 1);
        int error = _hv_rt_opts.leak_check == HV_RT_LEAK_FULL &&
                    (_hv_rt_opts.error_kinds >> r[i].kind & 1);
        if (error) _hv_rt.errors++, _hv_rt.contexts++;
        if (shown) print_record(&r[i], i + 1, nrec);
    }
    _hv_rt_pool_free(r);
    _hv_rt_out("LEAK SUMMARY:");
    for (int k = 0; k < 4; k++)
        _hv_rt_out("   %15s: %s bytes in %s blocks", KIND_WORDS[k],
                   commas(kb[k], a), commas(kn[k], b));
    _hv_rt_out("        suppressed: 0 bytes in 0 blocks");
    if (_hv_rt_opts.leak_check == HV_RT_LEAK_SUMMARY) {
        _hv_rt_out("Rerun with --leak-check=full to see details of leaked "
                   "memory");
    } else if (kn[HV_LEAK_REACHABLE] &&
               !(_hv_rt_opts.show_kinds >> HV_LEAK_REACHABLE & 1)) {
        _hv_rt_out("Reachable blocks (those to which a pointer was found) "
                   "are not shown.");
        _hv_rt_out("To see them, rerun with: --leak-check=full "
                   "--show-leak-kinds=all");
    }
    _hv_rt_out("%s", "");
}

/* The bytes each leaked block was asked for (over-aligned ones: the
 * user's, not the block's). */
typedef struct fixing {
    const hv_leak_scan_t *s;
    uint64_t *sizes;
} fixing_t;

static void fix_one(uintptr_t aligned, uintptr_t payload, uint64_t size,
                    void *arg)
{
    (void)aligned;
    fixing_t *f = arg;
    for (uint64_t i = 0; i < hv_leak_count(f->s); i++)
        if (hv_leak_get(f->s, i)->payload == payload) f->sizes[i] = size;
}

static void fix_sizes(const hv_leak_scan_t *s, uint64_t *sizes)
{
    fixing_t f = {s, sizes};
    for (uint64_t i = 0; i < hv_leak_count(s); i++)
        sizes[i] = hv_leak_get(s, i)->requested;
    _hv_rt_aliases(fix_one, &f);
}

void _hv_rt_leak_check(uintptr_t sp, const uintptr_t *regs, int nregs)
{
    hv_leak_scan_t *s;
    skip_t k = {0};
    if (hv_leak_begin(_hv_rt.heap, &s)) {
        _hv_rt_out("(no memory left to check for leaks)");
        return;
    }
    _hv_rt_aliases(alias_root, s);
    for (int i = 0; i < nregs; i++)
        hv_leak_root_value(s, regs[i]);
    make_skips(&k);
    scan_mappings(s, &k, sp);
    hv_leak_finish(s);
    uint64_t n = hv_leak_count(s);
    uint64_t *sizes = _hv_rt_pool_alloc((n ? n : 1) * sizeof *sizes, 16);
    if (sizes) {
        fix_sizes(s, sizes);
        summaries(s, sizes);
    }
    _hv_rt_pool_free(sizes);
    hv_leak_end(s);
    if (hv_check(_hv_rt.heap, NULL, 0))
        _hv_rt_out("(the heap is damaged: the leak check saw only the blocks "
                   "before the damage)");
    _hv_rt_out_flush();
}
