/* state.c — hv_viz_state_t: what the renderer draws at one moment.
 *
 * The state is plain arrays (blocks in address order, free lists in list
 * order, uninitialized runs), so it can come from anywhere: the live heap
 * through the walker, another process's arena mapped read-only, a replay
 * heap rebuilt from the history, or synthetic arrays in a test.  Arrays
 * keep their capacity across clears: a live viewer refilling the state 60
 * times a second allocates nothing once it has seen the largest heap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapviz/viz.h"

void hv_viz_state_init(hv_viz_state_t *s)
{
    memset(s, 0, sizeof *s);
    s->speed = 1.0;
}

void hv_viz_state_free(hv_viz_state_t *s)
{
    free(s->blocks);
    free(s->marks);
    free(s->uninit);
    free(s->list_start);
    free(s->list_lo);
    free(s->list_hi);
    free(s->list_addr);
    hv_viz_state_init(s);
}

void hv_viz_state_clear(hv_viz_state_t *s)
{
    s->nblocks = 0;
    s->nuninit = 0;
    s->nlists = 0;
    s->nlist_addr = 0;
    s->nframes = 0;
}

void hv_viz_state_reset(hv_viz_state_t *s)
{
    hv_viz_state_t keep = *s;
    hv_viz_state_init(s);
    s->blocks = keep.blocks, s->marks = keep.marks, s->cap_blocks = keep.cap_blocks;
    s->uninit = keep.uninit, s->cap_uninit = keep.cap_uninit;
    s->list_start = keep.list_start, s->list_lo = keep.list_lo;
    s->list_hi = keep.list_hi, s->cap_lists = keep.cap_lists;
    s->list_addr = keep.list_addr, s->cap_list_addr = keep.cap_list_addr;
}

/* Grow *p (elements of `size` bytes) so that it holds `need`. */
static bool reserve(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *np = realloc(*p, ncap * size);
    if (np == NULL) return false;
    *p = np;
    *cap = ncap;
    return true;
}

bool hv_viz_state_add_block(hv_viz_state_t *s, const hv_block_t *b,
                            uint8_t marks)
{
    size_t cap = s->cap_blocks;
    if (!reserve((void **)&s->blocks, &cap, s->nblocks + 1, sizeof *b))
        return false;
    size_t mcap = s->cap_blocks;
    if (!reserve((void **)&s->marks, &mcap, cap, 1)) return false;
    s->cap_blocks = cap;
    s->blocks[s->nblocks] = *b;
    s->marks[s->nblocks] = marks;
    s->nblocks++;
    return true;
}

bool hv_viz_state_add_uninit(hv_viz_state_t *s, hv_addr_t a, uint64_t len)
{
    if (len == 0) return true;
    if (s->nuninit > 0) { /* merge with the previous run when adjacent */
        hv_viz_run_t *r = &s->uninit[s->nuninit - 1];
        if (r->addr + r->len == a) {
            r->len += len;
            return true;
        }
    }
    if (!reserve((void **)&s->uninit, &s->cap_uninit, s->nuninit + 1,
                 sizeof *s->uninit))
        return false;
    s->uninit[s->nuninit++] = (hv_viz_run_t){a, len};
    return true;
}

bool hv_viz_state_add_list(hv_viz_state_t *s, uint64_t lo, uint64_t hi)
{
    /* list_start has nlists + 1 entries; the three per-list arrays share
     * one capacity. */
    size_t need = (size_t)s->nlists + 2, cap = s->cap_lists;
    size_t c1 = cap, c2 = cap, c3 = cap;
    if (!reserve((void **)&s->list_start, &c1, need, sizeof(uint32_t)) ||
        !reserve((void **)&s->list_lo, &c2, need, sizeof(uint64_t)) ||
        !reserve((void **)&s->list_hi, &c3, need, sizeof(uint64_t)))
        return false;
    s->cap_lists = c1 < c2 ? (c1 < c3 ? c1 : c3) : (c2 < c3 ? c2 : c3);
    s->list_start[s->nlists] = (uint32_t)s->nlist_addr;
    s->list_lo[s->nlists] = lo;
    s->list_hi[s->nlists] = hi;
    s->nlists++;
    s->list_start[s->nlists] = (uint32_t)s->nlist_addr;
    return true;
}

bool hv_viz_state_add_list_member(hv_viz_state_t *s, hv_addr_t block)
{
    if (s->nlists == 0 && !hv_viz_state_add_list(s, 0, UINT64_MAX))
        return false;
    if (!reserve((void **)&s->list_addr, &s->cap_list_addr,
                 s->nlist_addr + 1, sizeof *s->list_addr))
        return false;
    s->list_addr[s->nlist_addr++] = block;
    s->list_start[s->nlists] = (uint32_t)s->nlist_addr;
    return true;
}

void hv_viz_state_add_var(hv_viz_state_t *s, const char *name, hv_addr_t a)
{
    if (s->nvars >= HV_VIZ_MAX_VARS) return;
    hv_viz_var_t *v = &s->vars[s->nvars++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->addr = a;
}

void hv_viz_state_add_log(hv_viz_state_t *s, const char *line)
{
    if (s->nlog == HV_VIZ_LOG_LINES) { /* drop the oldest */
        memmove(s->log[0], s->log[1], sizeof s->log[0] * (HV_VIZ_LOG_LINES - 1));
        s->nlog--;
    }
    snprintf(s->log[s->nlog++], sizeof s->log[0], "%s", line);
}

long hv_viz_state_find(const hv_viz_state_t *s, hv_addr_t a)
{
    /* Blocks are in address order but regions (heap, mmap, stack) leave
     * gaps, so find the last block starting at or before a, then check. */
    size_t lo = 0, hi = s->nblocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->blocks[mid].addr <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return -1;
    const hv_block_t *b = &s->blocks[lo - 1];
    return a < b->addr + b->size ? (long)(lo - 1) : -1;
}

/* An array as big as `n` elements of the source's, copied. */
static bool copy_array(void **dst, size_t *cap, const void *src, size_t n,
                       size_t size)
{
    if (n == 0) return true;
    if (!reserve(dst, cap, n, size)) return false;
    memcpy(*dst, src, n * size);
    return true;
}

bool hv_viz_state_copy(hv_viz_state_t *dst, const hv_viz_state_t *src)
{
    hv_viz_state_reset(dst);
    hv_viz_state_t keep = *dst;
    *dst = *src; /* every scalar and fixed array; the pointers are fixed below */
    dst->blocks = keep.blocks, dst->marks = keep.marks, dst->cap_blocks = keep.cap_blocks;
    dst->uninit = keep.uninit, dst->cap_uninit = keep.cap_uninit;
    dst->list_start = keep.list_start, dst->list_lo = keep.list_lo;
    dst->list_hi = keep.list_hi, dst->cap_lists = keep.cap_lists;
    dst->list_addr = keep.list_addr, dst->cap_list_addr = keep.cap_list_addr;
    size_t mcap = dst->cap_blocks, c1 = dst->cap_lists, c2 = c1, c3 = c1;
    /* marks share the blocks' capacity (hv_viz_state_add_block) */
    bool ok = copy_array((void **)&dst->blocks, &dst->cap_blocks, src->blocks,
                         src->nblocks, sizeof *src->blocks) &&
              reserve((void **)&dst->marks, &mcap, dst->cap_blocks, 1) &&
              copy_array((void **)&dst->marks, &mcap, src->marks, src->nblocks, 1) &&
              copy_array((void **)&dst->uninit, &dst->cap_uninit, src->uninit,
                         src->nuninit, sizeof *src->uninit) &&
              copy_array((void **)&dst->list_addr, &dst->cap_list_addr,
                         src->list_addr, src->nlist_addr, sizeof *src->list_addr);
    if (ok && src->nlists > 0) {
        size_t n = (size_t)src->nlists + 1;
        ok = copy_array((void **)&dst->list_start, &c1, src->list_start, n,
                        sizeof(uint32_t)) &&
             copy_array((void **)&dst->list_lo, &c2, src->list_lo, n, sizeof(uint64_t)) &&
             copy_array((void **)&dst->list_hi, &c3, src->list_hi, n, sizeof(uint64_t));
        dst->cap_lists = c1 < c2 ? (c1 < c3 ? c1 : c3) : (c2 < c3 ? c2 : c3);
    }
    if (!ok) { /* an empty state rather than a half-copied one */
        dst->nblocks = dst->nuninit = dst->nlist_addr = 0;
        dst->nlists = 0;
    }
    return ok;
}
