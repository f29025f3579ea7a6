/* leaks.c — the one leak scanner: valgrind memcheck's four kinds, found
 * with LSan's flood fill.  The Python binding (h.leaks()) and the C runtime
 * (the leak check at exit) both ask it; they differ only in their roots.
 *
 *  1. index   every live block (allocated, mmapped), sorted by payload;
 *  2. roots   the client hands in memory to scan and blocks it holds; each
 *             block a root word points into is reached, "at start" or not;
 *  3. flood   from each reached block, the words of its requested bytes
 *             reach further; a block keeps the best level any path gives
 *             it (start pointers all the way: reachable, else possibly);
 *  4. lost    what was never reached is lost.  A lost block no other lost
 *             block points to leads: it is definitely lost and owns, as
 *             indirectly lost, every lost block it reaches that no earlier
 *             leader owns.  Cycles of lost blocks with no leader get one,
 *             the first in address order.
 *
 * A word is an aligned 8-byte value; a block's pointers to itself do not
 * count.  The scan reads the heap as it is and never writes it. */
#include "internal.h"

#include <stdlib.h>

enum { UNREACHED = 0, POSSIBLY = 2, REACHABLE = 3 };

struct hv_leak_scan {
    const hv_heap_t *h;
    hv_leak_t *blk;    /* live blocks, sorted by payload            */
    uint64_t *lo, *hi; /* blk[i]'s payload range (hi: exclusive)     */
    uint64_t *alias;   /* another address that counts as the start (0:
                          none); NULL until hv_leak_alias          */
    uint8_t *level;    /* UNREACHED, POSSIBLY or REACHABLE           */
    uint32_t *work;    /* blocks whose words are still to be read    */
    uint64_t n, cap, nwork;
    bool sorted;   /* the walk gave the blocks in payload order     */
    bool finished; /* classified and sorted by kind: no more roots  */
};

static const char *const KIND_NAMES[HV_LEAK_KIND_COUNT] = {
    "definitely lost", "indirectly lost", "possibly lost", "still reachable"};

const char *hv_leak_kind_name(hv_leak_kind_t k)
{
    return (unsigned)k < HV_LEAK_KIND_COUNT ? KIND_NAMES[k] : "unknown";
}

/* ------------------------------------------------------------------------
 * 1. The index
 * ---------------------------------------------------------------------- */
static int add_block(const hv_block_t *b, void *arg)
{
    hv_leak_scan_t *s = arg;
    if (b->state != HV_BLOCK_ALLOCATED && b->state != HV_BLOCK_MMAPPED)
        return 0;
    if (s->n == s->cap) {
        uint64_t cap = s->cap ? s->cap * 2 : 1024;
        hv_leak_t *p = realloc(s->blk, cap * sizeof *p);
        if (!p) return 1;
        s->blk = p;
        s->cap = cap;
    }
    if (s->n && b->payload < s->blk[s->n - 1].payload) s->sorted = false;
    s->blk[s->n++] = (hv_leak_t){.block = b->addr,
                                 .payload = b->payload,
                                 .requested = b->requested,
                                 .seq = b->seq,
                                 .site = b->site,
                                 .kind = HV_LEAK_REACHABLE,
                                 .state = (uint8_t)b->state};
    return 0;
}

static int by_payload(const void *a, const void *b)
{
    const hv_leak_t *x = a, *y = b;
    return (x->payload > y->payload) - (x->payload < y->payload);
}

/* The tables beside the blocks: ranges, levels and the work stack (a
 * block is pushed at most twice: possibly, then reachable). */
static bool make_tables(hv_leak_scan_t *s)
{
    uint64_t n = s->n ? s->n : 1;
    s->lo = malloc(n * sizeof *s->lo);
    s->hi = malloc(n * sizeof *s->hi);
    s->level = calloc(n, 1);
    s->work = malloc(2 * n * sizeof *s->work);
    if (!s->lo || !s->hi || !s->level || !s->work) return false;
    for (uint64_t i = 0; i < s->n; i++) {
        uint64_t len = s->blk[i].requested ? s->blk[i].requested : 1;
        s->lo[i] = s->blk[i].payload;
        s->hi[i] = s->blk[i].payload + len;
    }
    return true;
}

hv_err_t hv_leak_begin(const hv_heap_t *h, hv_leak_scan_t **out)
{
    hv_leak_scan_t *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s) return HV_ENOMEM;
    s->h = h;
    s->sorted = true;
    s->cap = h->ar->c.alloc_blocks + 1; /* one allocation, no regrowth */
    s->blk = malloc(s->cap * sizeof *s->blk);
    if (!s->blk) s->cap = 0;
    if (hv_walk(h, add_block, s) != 0) {
        hv_leak_end(s);
        return HV_ENOMEM;
    }
    if (!s->sorted) qsort(s->blk, s->n, sizeof *s->blk, by_payload);
    if (!make_tables(s)) {
        hv_leak_end(s);
        return HV_ENOMEM;
    }
    *out = s;
    return HV_OK;
}

void hv_leak_end(hv_leak_scan_t *s)
{
    if (!s) return;
    free(s->blk);
    free(s->lo);
    free(s->hi);
    free(s->level);
    free(s->work);
    free(s->alias);
    free(s);
}

int64_t hv_leak_find(const hv_leak_scan_t *s, uint64_t a)
{
    if (s->finished || !s->n || a < s->lo[0] || a >= s->hi[s->n - 1]) return -1;
    uint64_t lo = 0, hi = s->n; /* the last block whose payload is <= a */
    while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (s->lo[mid] <= a)
            lo = mid;
        else
            hi = mid;
    }
    return a < s->hi[lo] ? (int64_t)lo : -1;
}

/* ------------------------------------------------------------------------
 * 2-3. Roots and the flood fill
 * ---------------------------------------------------------------------- */
static bool is_start(const hv_leak_scan_t *s, int64_t t, uint64_t v)
{
    return v == s->lo[t] || (s->alias && v == s->alias[t]);
}

void hv_leak_alias(hv_leak_scan_t *s, hv_addr_t payload, hv_addr_t start)
{
    int64_t t = hv_leak_find(s, payload);
    if (t < 0 || s->blk[t].payload != payload) return;
    if (!s->alias && !(s->alias = calloc(s->n, sizeof *s->alias))) return;
    s->alias[t] = start;
}

static void reach(hv_leak_scan_t *s, uint64_t i, uint8_t level)
{
    if (s->level[i] >= level) return;
    s->level[i] = level;
    s->work[s->nwork++] = (uint32_t)i;
}

/* Each aligned word of [mem, mem+n) (user address `addr`) that points into
 * a block other than `own` (-1: none) goes to fn.  As the Python scan
 * always did: whole words of the first n - n % 8 bytes. */
typedef void (*word_fn)(hv_leak_scan_t *s, uint64_t target, bool at_start,
                        void *arg);

static void scan_words(hv_leak_scan_t *s, const uint8_t *mem, uint64_t addr,
                       uint64_t n, int64_t own, word_fn fn, void *arg)
{
    n -= n % 8;
    if (n < 8 || !s->n) return;
    uint64_t lo = s->lo[0], hi = s->hi[s->n - 1];
    for (uint64_t off = (8 - addr % 8) % 8; off + 8 <= n; off += 8) {
        uint64_t v;
        memcpy(&v, mem + off, 8);
        if (v < lo || v >= hi) continue; /* most words point nowhere */
        int64_t t = hv_leak_find(s, v);
        if (t >= 0 && t != own) fn(s, (uint64_t)t, is_start(s, t, v), arg);
    }
}

static void root_word(hv_leak_scan_t *s, uint64_t t, bool at_start, void *arg)
{
    (void)arg;
    reach(s, t, at_start ? REACHABLE : POSSIBLY);
}

void hv_leak_root_range(hv_leak_scan_t *s, const void *mem, uint64_t len)
{
    if (s->finished) return;
    scan_words(s, mem, (uint64_t)(uintptr_t)mem, len, -1, root_word, NULL);
}

void hv_leak_root_value(hv_leak_scan_t *s, uint64_t value)
{
    int64_t t = hv_leak_find(s, value); /* -1 once finished */
    if (t >= 0)
        reach(s, (uint64_t)t, is_start(s, t, value) ? REACHABLE : POSSIBLY);
}

void hv_leak_root_block(hv_leak_scan_t *s, hv_addr_t block, uint64_t seq,
                        bool at_start)
{
    uint64_t lo = 0, hi = s->finished ? 0 : s->n; /* starts sort as payloads */
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (s->blk[mid].block < block)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && s->blk[lo].block == block && s->blk[lo].seq == seq)
        reach(s, lo, at_start ? REACHABLE : POSSIBLY);
}

static int root_block_memory(const hv_block_t *b, void *arg)
{
    hv_leak_scan_t *s = arg;
    uint8_t *mem;
    if (b->state != HV_BLOCK_STACK && b->state != HV_BLOCK_SBRK &&
        b->state != HV_BLOCK_MAPPING)
        return 0;
    if (hv_resolve(s->h, b->payload, b->payload_size, NULL, &mem) == HV_OK)
        scan_words(s, mem, b->payload, b->payload_size, -1, root_word, NULL);
    return 0;
}

void hv_leak_root_arena(hv_leak_scan_t *s)
{
    if (!s->finished) hv_walk(s->h, root_block_memory, s);
}

/* The words of block i's requested bytes. */
static void block_words(hv_leak_scan_t *s, uint64_t i, word_fn fn, void *arg)
{
    const hv_leak_t *b = &s->blk[i];
    uint8_t *mem;
    if (hv_resolve(s->h, b->payload, b->requested, NULL, &mem) == HV_OK)
        scan_words(s, mem, b->payload, b->requested, (int64_t)i, fn, arg);
}

static void flood_word(hv_leak_scan_t *s, uint64_t t, bool at_start, void *arg)
{
    uint8_t from = *(uint8_t *)arg;
    uint8_t by = at_start ? REACHABLE : POSSIBLY;
    reach(s, t, from < by ? from : by);
}

static void flood(hv_leak_scan_t *s)
{
    while (s->nwork) {
        uint64_t i = s->work[--s->nwork];
        uint8_t level = s->level[i];
        block_words(s, i, flood_word, &level);
    }
}

/* ------------------------------------------------------------------------
 * 4. What was lost
 * ---------------------------------------------------------------------- */
enum { LOST = 1, POINTED = 2, KINDED = 4 }; /* flags in level[] once lost */

static void mark_pointed(hv_leak_scan_t *s, uint64_t t, bool at_start,
                         void *arg)
{
    (void)at_start;
    (void)arg;
    if (s->level[t] & LOST) s->level[t] |= POINTED;
}

typedef struct owner {
    uint64_t owned; /* bytes the leader owns indirectly            */
} owner_t;

static void mark_owned(hv_leak_scan_t *s, uint64_t t, bool at_start, void *arg)
{
    (void)at_start;
    owner_t *o = arg;
    if ((s->level[t] & (LOST | KINDED)) != LOST) return;
    s->level[t] |= KINDED;
    s->blk[t].kind = HV_LEAK_INDIRECT;
    o->owned += s->blk[t].requested;
    s->work[s->nwork++] = (uint32_t)t;
}

/* Block i leads: definitely lost, owning what it reaches. */
static void lead(hv_leak_scan_t *s, uint64_t i)
{
    owner_t o = {0};
    s->level[i] |= KINDED;
    s->blk[i].kind = HV_LEAK_DEFINITE;
    s->work[s->nwork++] = (uint32_t)i;
    while (s->nwork)
        block_words(s, s->work[--s->nwork], mark_owned, &o);
    s->blk[i].indirect = o.owned;
}

static void classify_lost(hv_leak_scan_t *s)
{
    for (uint64_t i = 0; i < s->n; i++) { /* reached blocks are done */
        uint8_t level = s->level[i];
        s->blk[i].kind =
            level == REACHABLE ? HV_LEAK_REACHABLE : HV_LEAK_POSSIBLE;
        s->level[i] = level == UNREACHED ? LOST : 0;
    }
    for (uint64_t i = 0; i < s->n; i++)
        if (s->level[i] & LOST) block_words(s, i, mark_pointed, NULL);
    for (uint64_t i = 0; i < s->n; i++) /* leaders first, then cycles */
        if ((s->level[i] & (LOST | POINTED | KINDED)) == LOST) lead(s, i);
    for (uint64_t i = 0; i < s->n; i++)
        if ((s->level[i] & (LOST | KINDED)) == LOST) lead(s, i);
}

/* By kind, payload order kept within each kind: a stable counting sort
 * (the blocks are in payload order already). */
static void sort_by_kind(hv_leak_scan_t *s)
{
    uint64_t start[HV_LEAK_KIND_COUNT + 1] = {0};
    hv_leak_t *out = malloc((s->n ? s->n : 1) * sizeof *out);
    if (!out) return; /* left in payload order */
    for (uint64_t i = 0; i < s->n; i++)
        start[s->blk[i].kind + 1]++;
    for (int k = 1; k <= HV_LEAK_KIND_COUNT; k++)
        start[k] += start[k - 1];
    for (uint64_t i = 0; i < s->n; i++)
        out[start[s->blk[i].kind]++] = s->blk[i];
    free(s->blk);
    s->blk = out;
}

void hv_leak_finish(hv_leak_scan_t *s)
{
    if (s->finished) return;
    flood(s);
    classify_lost(s);
    sort_by_kind(s);
    s->finished = true; /* lo/hi no longer match blk's order */
}

uint64_t hv_leak_count(const hv_leak_scan_t *s)
{
    return s->n;
}

const hv_leak_t *hv_leak_get(const hv_leak_scan_t *s, uint64_t i)
{
    return i < s->n ? &s->blk[i] : NULL;
}
