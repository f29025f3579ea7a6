/* arena.c — the one shared mapping and the handles over it.
 *
 *   [ arena header | event ring | sites, buckets, string pool |
 *     side table (16 bytes per 16 heap bytes) | shadow (1 byte per byte of
 *     heap, mmap and stack regions) | heap | mmap region | stack region ]
 *
 * Everything inside is addressed by offsets, so a reader that maps the
 * same memfd read-only (hv_heap_attach) sees the same heap through its own
 * handle.  The header is written last-but-one and its magic last, so a
 * reader never sees a half-built arena. */
#include "block.h"
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static const uint64_t SECTION = 64u << 10; /* section alignment */

/* Block layout for the configuration (see block.h). */
static void layout_blocks(hv_arena_t *ar)
{
    const hv_config_t *c = &ar->cfg;
    uint32_t word = c->magic ? 8 : 4;
    ar->align = c->align;
    if (c->policy == HV_POLICY_BUDDY) {
        ar->hs = (uint32_t)_hv_round_up(word, c->align);
        ar->ftr = ar->fftr = 0;
        ar->min_block = 16;
        while (ar->min_block < ar->hs + 8)
            ar->min_block *= 2;
        ar->heap_pad = 0;
    } else {
        ar->hs = word;
        ar->ftr = c->footer ? 4 : 0;
        ar->fftr = 4;
        ar->min_block = (uint32_t)_hv_round_up(word + 8 + 4, c->align);
        ar->heap_pad = (c->align - word % c->align) % c->align;
    }
    ar->split_min = ar->min_block;
    if (c->split_threshold > ar->split_min)
        ar->split_min = (uint32_t)c->split_threshold;
}

/* Where each section goes, as offsets from the mapping start. */
typedef struct sections {
    uint64_t ring, sites, buckets, pool, side, shadow, heap, mmap, stack;
    uint64_t heap_max, mmap_max, stack_max, size;
} sections_t;

static uint64_t take(uint64_t *off, uint64_t bytes)
{
    uint64_t at = *off;
    *off += _hv_round_up(bytes, SECTION);
    return at;
}

/* The side table and the shadow start at other offsets within a page than
 * the heap: the side entry, shadow bytes and header of a block at heap
 * offset `off` would otherwise share their address modulo 4096, and a load
 * of one just after a store to another waits on a false dependency (4K
 * aliasing: it cost a tenth of a malloc/free pair). */
#define SIDE_SKEW   1344u /* 21 cache lines */
#define SHADOW_SKEW 2688u /* 42 cache lines */

static sections_t layout_sections(const hv_config_t *c)
{
    sections_t s = {.heap_max = c->max_size & ~(uint64_t)(HV_PAGE - 1)};
    s.mmap_max = _hv_round_up(s.heap_max, SECTION);
    s.stack_max = _hv_round_up(c->stack_size, HV_PAGE);
    uint64_t off = _hv_round_up(sizeof(hv_arena_t), SECTION);
    s.ring = take(&off, (uint64_t)c->ring_capacity * sizeof(hv_event_t));
    s.sites = take(&off, HV_SITES_MAX * sizeof(hv_site_rec_t));
    s.buckets = take(&off, HV_SITE_BUCKETS * sizeof(uint32_t));
    s.pool = take(&off, HV_POOL_MAX);
    s.side = take(&off, SIDE_SKEW + s.heap_max / 16 * sizeof(hv_side_t));
    s.side += SIDE_SKEW;
    s.shadow = take(&off, SHADOW_SKEW + s.heap_max + s.mmap_max + s.stack_max);
    s.shadow += SHADOW_SKEW;
    s.heap = take(&off, s.heap_max);
    s.mmap = take(&off, s.mmap_max);
    s.stack = take(&off, s.stack_max);
    s.size = off;
    return s;
}

static void put_sections(hv_arena_t *ar, const sections_t *s)
{
    ar->ring_off = s->ring;
    ar->sites_off = s->sites;
    ar->buckets_off = s->buckets;
    ar->pool_off = s->pool;
    ar->side_off = s->side;
    ar->shadow_off = s->shadow;
    ar->heap_off = s->heap;
    ar->mmap_off = s->mmap;
    ar->stack_off = s->stack;
    ar->heap_max = s->heap_max;
    ar->mmap_max = s->mmap_max;
    ar->stack_max = s->stack_max;
    ar->map_size = s->size;
}

void _hv_arena_bind(hv_heap_t *h, void *map, uint64_t map_size)
{
    hv_arena_t *ar = map;
    uint8_t *m = map;
    h->ar = ar;
    h->map_size = map_size;
    h->ring = (hv_event_t *)(void *)(m + ar->ring_off);
    h->sites = (hv_site_rec_t *)(void *)(m + ar->sites_off);
    h->buckets = (uint32_t *)(void *)(m + ar->buckets_off);
    h->pool = (char *)(m + ar->pool_off);
    h->side = (hv_side_t *)(void *)(m + ar->side_off);
    h->shadow = m + ar->shadow_off;
    h->heap = m + ar->heap_off;
    h->mmap = m + ar->mmap_off;
    h->stack = m + ar->stack_off;
    h->pol = _hv_policy_for(ar->cfg.policy);
    h->order = h->pol->order >= 0 ? (hv_order_t)h->pol->order : ar->cfg.order;
    h->base = ar->cfg.base;
    h->hs = ar->hs;
    h->ftr = ar->ftr;
    h->fftr = ar->fftr;
    h->align = ar->align;
    h->min_block = ar->min_block;
    h->heap_pad = ar->heap_pad;
    h->split_min = ar->split_min;
    h->epi_size = ar->cfg.policy == HV_POLICY_BUDDY ? 0 : ar->hs;
    h->shadow_on = ar->cfg.shadow;
    h->recording = ar->recording;
    h->one_list = h->pol->list_of == _hv_one_list_of;
    h->check_each = ar->cfg.debug_check || HV_DEBUG;
}

/* Fault in the pages spanning [lo, hi) (the skewed tables start inside a
 * page). */
static void populate_pages(uint8_t *lo, uint8_t *hi)
{
    uintptr_t a = (uintptr_t)lo & ~(uintptr_t)(HV_PAGE - 1);
    uintptr_t b = _hv_round_up((uintptr_t)hi, HV_PAGE);
    _hv_os_populate((void *)a, b - a);
}

/* The break moved up: fault in the pages ahead of it — heap, side table
 * and shadow — a batch at a time, so growing the heap costs a system call
 * now and then rather than a page fault per page of each. */
void _hv_arena_populate(hv_heap_t *h)
{
    hv_arena_t *ar = h->ar;
    if (ar->brk <= h->populated) return;
    uint64_t from = h->populated & ~(uint64_t)(HV_PAGE - 1);
    uint64_t to = _hv_round_up(ar->brk + ar->brk / 4 + (64u << 10), SECTION);
    to = to < ar->heap_max ? to : ar->heap_max;
    _hv_os_populate(h->heap + from, to - from);
    populate_pages((uint8_t *)h->side + from / 16 * sizeof(hv_side_t),
                   (uint8_t *)h->side + to / 16 * sizeof(hv_side_t));
    if (h->shadow_on) populate_pages(h->shadow + from, h->shadow + to);
    h->populated = to;
}

static void init_state(hv_heap_t *h)
{
    hv_arena_t *ar = h->ar;
    memset(ar->head, 0xFF, sizeof ar->head);
    memset(ar->tail, 0xFF, sizeof ar->tail);
    ar->rover = HV_NIL;
    ar->nlists = (uint32_t)h->pol->list_count(h);
    ar->ring_mask = ar->cfg.ring_capacity - 1;
    ar->recording = h->recording = ar->cfg.record;
    ar->nsites = 1;    /* site 0 is "unknown" */
    ar->pool_used = 1; /* pool offset 0 is "" */
    ar->sp = ar->stack_max;
    ar->mean_request = 256;
    h->hist_limit = ar->cfg.history_limit;
    h->hist_in_ring = h->hist_limit && h->hist_limit <= ar->cfg.ring_capacity;
    h->hist_copy = h->hist_limit && !h->hist_in_ring;
    if (h->pol->init)
        h->pol->init(h);
    else
        _hv_brk_init(h);
    _hv_arena_populate(h);
}

/* The process-local state sits at a chosen offset within a page of its
 * own, away from where the arena keeps its busiest bytes (the first blocks
 * of the heap, their side entries and shadow, the header's counters).
 * Wherever calloc happened to put it at the same address modulo 4096 as
 * those, each load of h->... after a store to them waited on a false
 * dependency (4K aliasing): a malloc/free pair through Python ran a quarter
 * slower in one heap out of ten. */
#define HEAP_T_SKEW 0x440u

static hv_heap_t *heap_new(void)
{
    uint64_t size = _hv_round_up(HEAP_T_SKEW + sizeof(hv_heap_t), HV_PAGE);
    uint8_t *raw = aligned_alloc(HV_PAGE, size);
    if (!raw) return NULL;
    memset(raw, 0, size);
    return (hv_heap_t *)(void *)(raw + HEAP_T_SKEW);
}

static void heap_free(hv_heap_t *h)
{
    free((uint8_t *)h - HEAP_T_SKEW);
}

hv_err_t hv_heap_create(const hv_config_t *cfg, hv_heap_t **out,
                        const char **bad_field)
{
    *out = NULL;
    hv_err_t err = _hv_config_validate(cfg, bad_field);
    if (err) return err;
    sections_t sec = layout_sections(cfg);
    uint64_t size = sec.size;
    hv_heap_t *h = heap_new();
    void *map = NULL;
    int fd = -1, e;
    if (!h) return HV_ENOMEM;
    if ((e = _hv_os_create(size, &fd, &map))) {
        heap_free(h);
        errno = e;
        return HV_ESYS;
    }
    hv_arena_t *ar = map;
    ar->cfg = *cfg;
    put_sections(ar, &sec);
    layout_blocks(ar);
    ar->arena_bytes = sizeof(hv_arena_t);
    _hv_arena_bind(h, map, size);
    h->fd = fd;
    _hv_os_protect(h->mmap, ar->mmap_max, false);
    init_state(h);
    atomic_thread_fence(memory_order_release);
    ar->magic = HV_ARENA_MAGIC;
    *out = h;
    return HV_OK;
}

hv_err_t hv_heap_attach(int fd, hv_heap_t **out)
{
    void *map;
    uint64_t size;
    *out = NULL;
    int e = _hv_os_attach(fd, true, &map, &size);
    if (e) {
        errno = e;
        return e == EINVAL ? HV_EINVAL : HV_ESYS;
    }
    const hv_arena_t *ar = map;
    bool ours = size >= sizeof(hv_arena_t) && ar->magic == HV_ARENA_MAGIC &&
                ar->arena_bytes == sizeof(hv_arena_t) && ar->map_size == size &&
                _hv_policy_for(ar->cfg.policy);
    hv_heap_t *h = ours ? heap_new() : NULL;
    if (!h) {
        _hv_os_unmap(map, size);
        return ours ? HV_ENOMEM : HV_EINVAL;
    }
    _hv_arena_bind(h, map, size);
    h->fd = -1; /* the caller's, not ours to close */
    h->readonly = true;
    *out = h;
    return HV_OK;
}

void hv_heap_destroy(hv_heap_t *h)
{
    if (!h) return;
    if (h->pinned_heap) _hv_os_unmap(h->heap, h->ar->heap_max);
    if (h->pinned_mmap) _hv_os_unmap(h->mmap, h->ar->mmap_max);
    _hv_os_unmap(h->ar, h->map_size);
    if (h->fd >= 0) close(h->fd);
    _hv_history_free(h);
    heap_free(h);
}

int hv_heap_fd(const hv_heap_t *h)
{
    return h->fd;
}

const hv_config_t *hv_heap_config(const hv_heap_t *h)
{
    return &h->ar->cfg;
}

void hv_heap_layout(const hv_heap_t *h, hv_layout_t *out)
{
    const hv_arena_t *ar = h->ar;
    *out = (hv_layout_t){
        .align = ar->align,
        .header_size = ar->hs,
        .footer_size = ar->ftr,
        .min_block = ar->min_block,
        .heap_pad = ar->heap_pad,
        .page_size = HV_PAGE,
        .heap_base = h->base,
        .mmap_base = HV_MMAP_BASE,
        .stack_base = HV_STACK_TOP - ar->stack_max,
        .stack_top = HV_STACK_TOP,
    };
}

/* ------------------------------------------------------------------------
 * User addresses to real memory
 * ---------------------------------------------------------------------- */
static uint8_t *in_maps(const hv_heap_t *h, hv_addr_t a, uint64_t len,
                        hv_region_t *region)
{
    const hv_map_t *m = _hv_map_find(h, a);
    if (!m) return NULL;
    *region = HV_REGION_MMAP;
    if (a - _hv_map_addr(m) + len > m->size) return NULL;
    return h->mmap + m->off + (a - _hv_map_addr(m));
}

hv_err_t hv_resolve(const hv_heap_t *h, hv_addr_t a, uint64_t len,
                    hv_region_t *region, uint8_t **out)
{
    const hv_arena_t *ar = h->ar;
    hv_region_t r = HV_REGION_NONE;
    uint8_t *p = NULL;
    hv_addr_t stack_live = HV_STACK_TOP - ar->stack_max + ar->sp;
    if (a >= h->base && a < h->base + ar->brk) {
        r = HV_REGION_HEAP;
        if (len <= h->base + ar->brk - a) p = h->heap + (a - h->base);
    } else if (a >= HV_MMAP_BASE && a < HV_MMAP_BASE + ar->mmap_max) {
        p = in_maps(h, a, len, &r);
    } else if (a >= stack_live && a < HV_STACK_TOP) {
        r = HV_REGION_STACK;
        if (len <= HV_STACK_TOP - a)
            p = h->stack + (a - (HV_STACK_TOP - ar->stack_max));
    }
    if (region) *region = r;
    *out = p;
    return p ? HV_OK : HV_EFAULT;
}
