/* check.c — hv_check, the invariant checker (tlsf_check's manner: count
 * every violation, describe the first `max` in a sentence, never abort).
 *
 * Heap, through the walker:
 *   blocks tile [heap_pad, epilogue) exactly; sizes aligned, >= min_block
 *   header == footer wherever there is a footer; magic intact
 *   prev-allocated bit == state of the block before (list policies)
 *   immediate coalescing: no two adjacent free blocks
 *   buddy: sizes are powers of two, blocks aligned to their size, no two
 *   free buddies of the same size left unmerged
 * Free lists:
 *   every entry is a free block of the heap, on exactly one list, on the
 *   list its size belongs to, in the list's order; prev links mirror next
 *   links; tail and count agree; every free block is on a list
 * Counters:
 *   free_blocks, free_bytes, alloc_blocks, in_use, payload == what the
 *   walk finds. */
#include "block.h"
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct ctx {
    const hv_heap_t *h;
    hv_violation_t *out;
    int max, n;
    uint8_t *marks; /* bit per 16 heap bytes: a free block starts here */
    bool have_last, last_free;
    uint32_t last_off, last_size;
    uint64_t free_blocks, free_bytes, alloc_blocks, in_use, payload;
    int list;         /* the free list being checked                 */
    uint32_t last;    /* its previous entry (HV_NIL: none yet)        */
    uint32_t entries; /* entries seen                                 */
} ctx_t;

static void report(ctx_t *c, hv_addr_t addr, const char *fmt, ...)
{
    if (c->out && c->n < c->max) {
        va_list ap;
        va_start(ap, fmt);
        c->out[c->n].addr = addr;
        vsnprintf(c->out[c->n].what, sizeof c->out[c->n].what, fmt, ap);
        va_end(ap);
    }
    c->n++;
}

static bool marked(const ctx_t *c, uint32_t off)
{
    return c->marks && (c->marks[off >> 7] >> ((off >> 4) & 7) & 1);
}
static void set_mark(ctx_t *c, uint32_t off, bool on)
{
    if (!c->marks) return;
    uint8_t bit = (uint8_t)(1u << ((off >> 4) & 7));
    c->marks[off >> 7] =
        on ? c->marks[off >> 7] | bit : c->marks[off >> 7] & ~bit;
}

static bool pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

static void check_buddy(ctx_t *c, const hv_block_t *b, uint32_t off)
{
    if (!pow2(b->size) || off % b->size)
        report(c, b->addr,
               "buddy block of %llu bytes is not a power of two "
               "aligned to its size",
               (unsigned long long)b->size);
    if (c->have_last && c->last_free && b->state == HV_BLOCK_FREE &&
        c->last_size == b->size && c->last_off % (2 * b->size) == 0)
        report(c, b->addr, "free buddies of %llu bytes were not merged",
               (unsigned long long)b->size);
}

static void check_tags(ctx_t *c, const hv_block_t *b, bool is_free)
{
    const hv_heap_t *h = c->h;
    if (b->has_footer && b->footer != b->header)
        report(c, b->addr, "header %#x and footer %#x differ", b->header,
               b->footer);
    if (h->ar->cfg.magic && b->magic != HV_MAGIC)
        report(c, b->addr, "magic word is %#x, not %#x", b->magic, HV_MAGIC);
    if (h->ar->cfg.policy == HV_POLICY_BUDDY) return;
    bool expect = c->have_last ? !c->last_free : true;
    if (b->prev_alloc != expect)
        report(c, b->addr,
               "prev-allocated bit is %d but the block before is "
               "%s",
               b->prev_alloc, expect ? "allocated" : "free");
    if (is_free && c->last_free && h->ar->cfg.coalesce == HV_COALESCE_IMMEDIATE)
        report(c, b->addr,
               "two adjacent free blocks under immediate "
               "coalescing");
}

static int visit_block(const hv_block_t *b, void *arg)
{
    ctx_t *c = arg;
    const hv_heap_t *h = c->h;
    uint32_t off = (uint32_t)(b->addr - h->base);
    bool is_free = b->state == HV_BLOCK_FREE;
    check_tags(c, b, is_free);
    if (h->ar->cfg.policy == HV_POLICY_BUDDY) check_buddy(c, b, off);
    if (is_free) {
        c->free_blocks++;
        c->free_bytes += b->size;
        set_mark(c, off, true);
    } else {
        c->alloc_blocks++;
        c->in_use += b->size;
        if (b->state == HV_BLOCK_ALLOCATED) c->payload += b->requested;
        if (b->requested > b->payload_size && b->state != HV_BLOCK_SBRK)
            report(c, b->addr,
                   "requested %llu bytes but the payload holds "
                   "%llu",
                   (unsigned long long)b->requested,
                   (unsigned long long)b->payload_size);
    }
    c->have_last = true;
    c->last_free = is_free;
    c->last_off = off;
    c->last_size = (uint32_t)b->size;
    return 0;
}

static bool check_heap(ctx_t *c)
{
    const hv_heap_t *h = c->h;
    hv_walk_state_t st;
    _hv_walk_heap(h, visit_block, c, &st);
    if (st.stop == HV_WALK_DAMAGED) {
        report(c, _hv_uaddr(h, st.at), "%s; the walk stops there", st.why);
        return false;
    }
    if (h->epi_size) {
        bool prev = _hv_bprev(_hv_hdr(h, _hv_epilogue(h)));
        if (prev != (c->have_last ? !c->last_free : true))
            report(c, _hv_uaddr(h, _hv_epilogue(h)),
                   "the epilogue's prev-allocated bit is wrong");
    }
    return true;
}

/* Is b in the right place after a in the list's order? */
static bool in_order(const hv_heap_t *h, uint32_t a, uint32_t b)
{
    uint32_t sa = _hv_bsize(_hv_hdr(h, a)), sb = _hv_bsize(_hv_hdr(h, b));
    switch (h->order) {
    case HV_ORDER_ADDRESS:
        return a < b;
    case HV_ORDER_SIZE:
        return sa < sb || (sa == sb && a < b);
    case HV_ORDER_SIZE_DESC:
        return sa > sb || (sa == sb && a < b);
    default:
        return true;
    }
}

static const char *const ORDER_SENTENCE[HV_ORDER_COUNT] = {
    "address", "lifo", "fifo", "ascending size", "descending size"};

/* One entry of free list c->list, in list order (through the walker,
 * which stops at a link to no free block or past the list's count). */
static int visit_entry(const hv_block_t *b, void *arg)
{
    ctx_t *c = arg;
    const hv_heap_t *h = c->h;
    uint32_t off = (uint32_t)(b->addr - h->base);
    hv_addr_t prev = c->last == HV_NIL ? 0 : _hv_uaddr(h, c->last);
    if (b->prev_free != prev)
        report(c, b->addr,
               "prev link does not point back at the previous "
               "entry");
    if (b->list != c->list)
        report(c, b->addr, "on free list %d but its size belongs on list %d",
               c->list, b->list);
    if (c->last != HV_NIL && !in_order(h, c->last, off))
        report(c, b->addr, "free list %d is out of %s order here", c->list,
               ORDER_SENTENCE[h->order]);
    if (marked(c, off))
        set_mark(c, off, false);
    else if (c->marks)
        report(c, b->addr, "listed twice, or not a block of the heap");
    c->last = off;
    c->entries++;
    return 0;
}

static void check_list(ctx_t *c, int list)
{
    const hv_arena_t *ar = c->h->ar;
    hv_walk_state_t st;
    c->list = list;
    c->last = HV_NIL;
    c->entries = 0;
    _hv_walk_list(c->h, list, visit_entry, c, &st);
    if (st.stop == HV_WALK_DAMAGED) {
        report(c, _hv_uaddr(c->h, st.at), "free list %d: %s", list, st.why);
        return;
    }
    if (ar->tail[list] != c->last)
        report(c, 0, "free list %d's tail is not its last entry", list);
    if (c->entries != ar->count[list])
        report(c, 0, "free list %d holds %u blocks but counts %u", list,
               c->entries, ar->count[list]);
    bool bit = ar->nonempty[list >> 6] >> (list & 63) & 1;
    if (bit != (c->entries > 0))
        report(c, 0, "free list %d's non-empty bit is wrong", list);
}

static int visit_missing(const hv_block_t *b, void *arg)
{
    ctx_t *c = arg;
    uint32_t off = (uint32_t)(b->addr - c->h->base);
    if (b->state == HV_BLOCK_FREE && marked(c, off))
        report(c, b->addr, "free block is on no free list");
    return 0;
}

static void check_maps(ctx_t *c)
{
    const hv_heap_t *h = c->h;
    const hv_arena_t *ar = h->ar;
    uint64_t end = 0;
    for (uint32_t i = 0; i < ar->nmaps && i < HV_MAPS_MAX; i++) {
        const hv_map_t *m = &ar->maps[i];
        if (m->off < end || m->off + m->size > ar->mmap_max)
            report(c, _hv_map_addr(m), "mapping overlaps another");
        end = m->off + m->size;
        c->alloc_blocks++;
        c->in_use += m->size;
        if (m->state == HV_BLOCK_MMAPPED) c->payload += m->requested;
    }
}

static void check_counters(ctx_t *c)
{
    const hv_counters_t *k = &c->h->ar->c;
    if (k->free_blocks != c->free_blocks || k->free_bytes != c->free_bytes)
        report(c, 0,
               "counters say %llu free blocks of %llu bytes, the heap "
               "has %llu of %llu",
               (unsigned long long)k->free_blocks,
               (unsigned long long)k->free_bytes,
               (unsigned long long)c->free_blocks,
               (unsigned long long)c->free_bytes);
    if (k->alloc_blocks != c->alloc_blocks || k->in_use != c->in_use)
        report(
            c, 0,
            "counters say %llu blocks in use (%llu bytes), the heap "
            "has %llu (%llu)",
            (unsigned long long)k->alloc_blocks, (unsigned long long)k->in_use,
            (unsigned long long)c->alloc_blocks, (unsigned long long)c->in_use);
    if (k->payload != c->payload || k->peak_payload < k->payload)
        report(c, 0, "live payload counter %llu, blocks hold %llu",
               (unsigned long long)k->payload, (unsigned long long)c->payload);
}

static void check_rover(ctx_t *c)
{
    const hv_heap_t *h = c->h;
    uint32_t r = h->ar->rover;
    if (h->ar->cfg.policy != HV_POLICY_NEXT || r == HV_NIL) return;
    if (!_hv_start_ok(h, r) || !_hv_size_ok(h, r, _hv_hdr(h, r)) ||
        _hv_balloc(_hv_hdr(h, r)))
        report(c, _hv_uaddr(h, r), "the rover is not on a free block");
}

int hv_check(const hv_heap_t *h, hv_violation_t *out, int max)
{
    ctx_t c = {.h = h, .out = out, .max = max};
    c.marks = calloc(h->ar->brk / 128 + 1, 1);
    bool walked = check_heap(&c);
    check_rover(&c);
    for (int i = 0; i < (int)h->ar->nlists; i++)
        check_list(&c, i);
    check_maps(&c);
    if (walked) {
        _hv_walk_heap(h, visit_missing, &c, NULL);
        check_counters(&c);
    }
    free(c.marks);
    return c.n;
}

bool _hv_check_fails(const hv_heap_t *h)
{
    return hv_check(h, NULL, 0) > 0;
}
