/* frame.c — the simulated stack, for the chapter's contrast with the
 * heap: frames pushed and popped in LIFO order, objects carved from the
 * current frame by moving a stack pointer down.  No free lists, no
 * headers: popping a frame releases everything in it at once.
 *
 * The region ends just below HV_STACK_TOP and grows down; `sp` is the
 * offset of the lowest live byte.  Frames and objects are recorded in the
 * arena so the walker and a reader in another process see them. */
#include "internal.h"

static hv_addr_t stack_addr(const hv_heap_t *h, uint64_t off)
{
    return HV_STACK_TOP - h->ar->stack_max + off;
}

static uint64_t span(const hv_heap_t *h, uint64_t off)
{
    return h->ar->heap_max + h->ar->mmap_max + off;
}

hv_err_t hv_frame_push(hv_heap_t *h, const char *name, uint32_t site,
                       uint32_t *depth)
{
    hv_arena_t *ar = h->ar;
    if (h->readonly) return HV_EREADONLY;
    if (ar->depth >= HV_FRAMES_MAX) return HV_ESTACK;
    _hv_op_begin(h, site);
    uint32_t s = _hv_pool_add(h, name ? name : "");
    ar->frames[ar->depth] = (hv_frame_rec_t){.hi = ar->sp,
                                             .name = s == UINT32_MAX ? 0 : s,
                                             .site = site,
                                             .first_obj = ar->nobjs};
    ar->depth++;
    if (depth) *depth = ar->depth;
    /* b: the name as an interned site (file = name), so that a reader of
       the events alone can name the frame */
    uint32_t name_site = 0;
    if (hv_site_intern(h, name ? name : "", 0, "frame", &name_site) != HV_OK)
        name_site = 0;
    _hv_emit(h, HV_EV_FRAME_PUSH, 0, stack_addr(h, ar->sp), 0, ar->depth,
             name_site);
    return _hv_op_done(h, HV_OK);
}

hv_err_t hv_frame_alloc(hv_heap_t *h, uint64_t n, uint32_t site, hv_addr_t *out)
{
    hv_arena_t *ar = h->ar;
    *out = 0;
    if (h->readonly) return HV_EREADONLY;
    uint64_t size = _hv_round_up(n ? n : 1, 16);
    if (ar->depth == 0 || n > ar->sp || size > ar->sp ||
        ar->nobjs >= HV_STACK_OBJS_MAX)
        return HV_ESTACK; /* no frame, or a stack overflow */
    _hv_op_begin(h, site);
    ar->sp -= size;
    ar->objs[ar->nobjs++] = (hv_stack_obj_t){.off = ar->sp,
                                             .size = size,
                                             .seq = h->cur_op,
                                             .site = site,
                                             .gen = ++ar->obj_gen};
    _hv_shadow_fill(h, span(h, ar->sp), size, HV_SH_UNINIT);
    *out = stack_addr(h, ar->sp);
    _hv_emit(h, HV_EV_STACK_ALLOC, 0, *out, size, 0, 0);
    return _hv_op_done(h, HV_OK);
}

hv_err_t hv_frame_pop(hv_heap_t *h, uint32_t site)
{
    hv_arena_t *ar = h->ar;
    if (h->readonly) return HV_EREADONLY;
    if (ar->depth == 0) return HV_ESTACK;
    _hv_op_begin(h, site);
    const hv_frame_rec_t *f = &ar->frames[ar->depth - 1];
    uint64_t low = ar->sp, bytes = f->hi - low;
    _hv_shadow_fill(h, span(h, low), bytes, HV_SH_UNMAPPED);
    ar->sp = f->hi;
    ar->nobjs = f->first_obj;
    _hv_emit(h, HV_EV_FRAME_POP, 0, stack_addr(h, low), bytes, ar->depth, 0);
    ar->depth--;
    return _hv_op_done(h, HV_OK);
}

uint32_t hv_frame_depth(const hv_heap_t *h)
{
    return h->ar->depth;
}

bool hv_frame_get(const hv_heap_t *h, uint32_t i, const char **name,
                  hv_addr_t *lo, hv_addr_t *hi)
{
    const hv_arena_t *ar = h->ar;
    if (i >= ar->depth || i >= HV_FRAMES_MAX) return false;
    uint64_t low = i + 1 < ar->depth ? ar->frames[i + 1].hi : ar->sp;
    if (name) *name = _hv_pool_str(h, ar->frames[i].name);
    if (lo) *lo = stack_addr(h, low);
    if (hi) *hi = stack_addr(h, ar->frames[i].hi);
    return true;
}
