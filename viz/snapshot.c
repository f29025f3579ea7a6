/* snapshot.c — fill an hv_viz_state_t from a heap, through the walker.
 *
 * The heap may be this process's own, a replay heap, or another process's
 * arena mapped read-only by the viewer.  In the last case the writer keeps
 * going while we read, so hv_viz_state_snapshot copies under the seqlock
 * (hv_heap_version): read the version, copy, re-read; a change means the
 * copy may be torn, so try again.  The walker itself stops safely on a
 * damaged heap, so a torn read costs a retry, never a crash.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "heapviz/viz.h"

typedef struct fill_ctx {
    hv_viz_state_t *s;
    bool oom;
    size_t limit; /* members per free list: a damaged list may loop */
    size_t count;
} fill_ctx_t;

static int add_block_cb(const hv_block_t *b, void *arg)
{
    fill_ctx_t *c = arg;
    if (!hv_viz_state_add_block(c->s, b, 0)) {
        c->oom = true;
        return 1;
    }
    return 0;
}

static int add_member_cb(const hv_block_t *b, void *arg)
{
    fill_ctx_t *c = arg;
    if (++c->count > c->limit) return 1;
    if (!hv_viz_state_add_list_member(c->s, b->addr)) {
        c->oom = true;
        return 1;
    }
    return 0;
}

static bool fill_lists(hv_viz_state_t *s, const hv_heap_t *h)
{
    fill_ctx_t c = {s, false, s->nblocks + 16, 0};
    int n = hv_free_list_count(h);
    for (int i = 0; i < n && !c.oom; i++) {
        uint64_t lo = 0, hi = UINT64_MAX;
        hv_free_list_range(h, i, &lo, &hi);
        if (!hv_viz_state_add_list(s, lo, hi)) return false;
        c.count = 0;
        hv_walk_free_list(h, i, add_member_cb, &c);
    }
    return !c.oom;
}

/* Runs of never-written bytes inside the requested part of each
 * allocated payload, from the shadow memory. */
static bool fill_uninit(hv_viz_state_t *s, const hv_heap_t *h)
{
    if (!s->cfg.shadow) return true;
    for (size_t i = 0; i < s->nblocks; i++) {
        const hv_block_t *b = &s->blocks[i];
        if (b->state != HV_BLOCK_ALLOCATED && b->state != HV_BLOCK_MMAPPED &&
            b->state != HV_BLOCK_STACK)
            continue;
        uint64_t n = b->requested ? b->requested : 0;
        const uint8_t *sh = n ? hv_shadow(h, b->payload, n) : NULL;
        if (sh == NULL) continue;
        for (uint64_t j = 0; j < n;) {
            if (sh[j] != HV_SH_UNINIT) {
                j++;
                continue;
            }
            uint64_t k = j;
            while (k < n && sh[k] == HV_SH_UNINIT) k++;
            if (!hv_viz_state_add_uninit(s, b->payload + j, k - j))
                return false;
            j = k;
        }
    }
    return true;
}

static void fill_frames(hv_viz_state_t *s, const hv_heap_t *h)
{
    uint32_t depth = hv_frame_depth(h);
    s->nframes = 0;
    for (uint32_t i = 0; i < depth && s->nframes < HV_VIZ_MAX_FRAMES; i++) {
        const char *name = NULL;
        hv_addr_t lo = 0, hi = 0;
        if (!hv_frame_get(h, i, &name, &lo, &hi)) break;
        hv_viz_frame_t *f = &s->frames[s->nframes++];
        snprintf(f->name, sizeof f->name, "%s", name ? name : "?");
        f->lo = lo;
        f->hi = hi;
    }
}

/* Blocks the checker complains about are drawn as corrupted. */
static void mark_corrupt(hv_viz_state_t *s, const hv_heap_t *h)
{
    hv_violation_t v[16];
    int n = hv_check(h, v, 16);
    for (int i = 0; i < n && i < 16; i++) {
        long k = v[i].addr ? hv_viz_state_find(s, v[i].addr) : -1;
        if (k >= 0) s->marks[k] |= HV_MARK_CORRUPT;
    }
}

bool hv_viz_state_from_heap(hv_viz_state_t *s, const hv_heap_t *h)
{
    hv_viz_state_clear(s);
    s->cfg = *hv_heap_config(h);
    hv_heap_layout(h, &s->layout);
    hv_stats(h, &s->stats);
    s->brk = hv_brk(h);
    s->rover = hv_rover(h);
    fill_ctx_t c = {s, false, 0, 0};
    hv_walk(h, add_block_cb, &c);
    if (c.oom || !fill_lists(s, h) || !fill_uninit(s, h)) return false;
    fill_frames(s, h);
    mark_corrupt(s, h);
    return true;
}

bool hv_viz_state_snapshot(hv_viz_state_t *s, const hv_heap_t *h, int tries)
{
    for (int i = 0; i < tries; i++) {
        uint64_t v1 = hv_heap_version(h);
        if (v1 & 1) { /* a writer is inside an operation */
            sched_yield();
            continue;
        }
        if (!hv_viz_state_from_heap(s, h)) return false;
        if (hv_heap_version(h) == v1) return true;
    }
    return false;
}
