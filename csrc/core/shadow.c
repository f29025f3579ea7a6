/* shadow.c — one state byte per byte of heap, mmap region and stack
 * (HV_SH_*), kept only when cfg.shadow.  The shadow is one array over the
 * contiguous span heap | mmap region | stack region, so a "span offset"
 * indexes it directly; heap offsets are span offsets.
 *
 * What the allocator writes:
 *   free block       header+links META, body FREE, footer META
 *   allocated block  header META, payload UNINIT (calloc: INIT) up to the
 *                    requested size, SLACK after it, footer META
 *   realloc          kept bytes keep their state, new bytes UNINIT
 * The binding writes INIT through hv_shadow_set when a student stores. */
#include "block.h"

/* A fill of at most 16 bytes (a header, a footer): overlapping stores
 * beat a call to memset. */
static inline void fill_small(uint8_t *p, uint64_t len, uint8_t st)
{
    if (len >= 8) {
        uint64_t v = st * 0x0101010101010101ull;
        memcpy(p, &v, 8);
        memcpy(p + len - 8, &v, 8);
    } else if (len >= 4) {
        uint32_t v = st * 0x01010101u;
        memcpy(p, &v, 4);
        memcpy(p + len - 4, &v, 4);
    } else {
        for (uint64_t i = 0; i < len; i++)
            p[i] = st;
    }
}

static inline void fill(uint8_t *p, uint64_t len, uint8_t st)
{
    if (len > 16)
        memset(p, st, len);
    else
        fill_small(p, len, st);
}

void _hv_shadow_fill(hv_heap_t *h, uint64_t roff, uint64_t len, uint8_t st)
{
    if (h->shadow_on) fill(h->shadow + roff, len, st);
}

/* Header plus the two links. */
static uint32_t meta_len(const hv_heap_t *h)
{
    return h->hs + 8;
}

void _hv_shadow_free_header(hv_heap_t *h, uint32_t off, uint32_t size)
{
    (void)size;
    _hv_shadow_fill(h, off, meta_len(h), HV_SH_META);
}

/* Whole blocks are written as one memset of the body's state, then the
 * tags at both ends: on malloc/free's hot path that is a third of the
 * stores and branches of a fill per part. */
void _hv_shadow_free_block(hv_heap_t *h, uint32_t off, uint32_t size)
{
    if (!h->shadow_on) return;
    uint8_t *p = h->shadow + off;
    memset(p, HV_SH_FREE, size);
    fill(p, meta_len(h), HV_SH_META);
    fill(p + size - h->fftr, h->fftr, HV_SH_META);
}

/* A free block at left swallowed the free block at right: the tags in
 * between (left's footer, right's header and links) become free bytes. */
void _hv_shadow_merge(hv_heap_t *h, uint32_t left, uint32_t right,
                      uint32_t right_size)
{
    (void)left;
    (void)right_size;
    _hv_shadow_fill(h, right - h->fftr, h->fftr + meta_len(h), HV_SH_FREE);
}

void _hv_shadow_alloc_block(hv_heap_t *h, uint32_t off, uint32_t size,
                            uint64_t requested, uint8_t st)
{
    if (!h->shadow_on) return;
    uint8_t *p = h->shadow + off;
    uint64_t cap = size - h->hs - h->ftr;
    uint64_t req = requested < cap ? requested : cap;
    memset(p, st, size);
    fill(p, h->hs, HV_SH_META);
    if (cap > req) fill(p + h->hs + req, cap - req, HV_SH_SLACK);
    fill(p + size - h->ftr, h->ftr, HV_SH_META);
}

void _hv_shadow_resize(hv_heap_t *h, uint32_t off, uint32_t size, uint64_t old,
                       uint64_t n)
{
    if (!h->shadow_on) return;
    uint64_t cap = size - h->hs - h->ftr, p = off + h->hs;
    uint64_t keep = old < n ? old : n;
    keep = keep < cap ? keep : cap;
    n = n < cap ? n : cap;
    _hv_shadow_fill(h, p + keep, n - keep, HV_SH_UNINIT);
    _hv_shadow_fill(h, p + n, cap - n, HV_SH_SLACK);
    _hv_shadow_fill(h, off + size - h->ftr, h->ftr, HV_SH_META);
}

/* Span offset of [a, a+len) when it lies inside one region. */
static bool span_of(const hv_heap_t *h, hv_addr_t a, uint64_t len,
                    uint64_t *roff)
{
    const hv_arena_t *ar = h->ar;
    hv_addr_t stack_lo = HV_STACK_TOP - ar->stack_max;
    if (a + len < a) return false;
    if (a >= h->base && a + len <= h->base + ar->heap_max)
        *roff = a - h->base;
    else if (a >= HV_MMAP_BASE && a + len <= HV_MMAP_BASE + ar->mmap_max)
        *roff = ar->heap_max + (a - HV_MMAP_BASE);
    else if (a >= stack_lo && a + len <= HV_STACK_TOP)
        *roff = ar->heap_max + ar->mmap_max + (a - stack_lo);
    else
        return false;
    return true;
}

const uint8_t *hv_shadow(const hv_heap_t *h, hv_addr_t a, uint64_t len)
{
    uint64_t roff;
    return span_of(h, a, len, &roff) ? h->shadow + roff : NULL;
}

void hv_shadow_set(hv_heap_t *h, hv_addr_t a, uint64_t len, uint8_t state)
{
    uint64_t roff;
    if (!h->readonly && span_of(h, a, len, &roff))
        _hv_shadow_fill(h, roff, len, state);
}

void hv_shadow_copy(hv_heap_t *h, hv_addr_t dst, hv_addr_t src, uint64_t len)
{
    uint64_t d, s;
    if (!h->readonly && h->shadow_on && span_of(h, dst, len, &d) &&
        span_of(h, src, len, &s))
        memmove(h->shadow + d, h->shadow + s, len);
}
