/* replay.c — time travel: rebuild a past moment by re-running operations.
 *
 * The history records every operation with its arguments (malloc's size,
 * free's pointer, ...).  Re-running them, in order, on a private heap of
 * the same configuration gives back exactly the recorded heap — the core
 * is deterministic and addresses are base + offset — including what events
 * cannot tell, such as the free list's order and next fit's rover.  Steps
 * inside an operation (split, coalesce, growth: HV_EVF_SUB) are results,
 * not causes, and are not re-run.  Bytes the script wrote are not in the
 * history, so a replay cannot reproduce a corruption made by an
 * out-of-bounds write in "report" mode; the live view still shows it.
 *
 * Going forward applies the next operations; going back starts over from
 * a fresh heap (with recording off a re-run costs the allocator's own
 * time, ~0.1 µs an operation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapviz/viz.h"

struct hv_viz_replay {
    hv_config_t cfg;
    hv_heap_t *heap;
    hv_viz_track_t *track;
    uint64_t *op_seq; /* seq of the first event of each op                */
    uint64_t nops, cap;
    uint64_t indexed;  /* events indexed so far                           */
    uint64_t last_op;  /* op id of the last indexed event                 */
    uint64_t pos_seq;  /* next event to apply                             */
    uint64_t pos;      /* ops applied                                     */
    char error[160];
};

static hv_err_t fresh_heap(hv_viz_replay_t *r)
{
    if (r->heap) hv_heap_destroy(r->heap);
    r->heap = NULL;
    hv_err_t e = hv_heap_create(&r->cfg, &r->heap, NULL);
    if (e != HV_OK)
        snprintf(r->error, sizeof r->error, "replay heap: %s", hv_strerror(e));
    hv_viz_track_reset(r->track);
    r->pos = 0;
    r->pos_seq = 0;
    return e;
}

hv_viz_replay_t *hv_viz_replay_new(const hv_config_t *cfg, hv_err_t *err)
{
    hv_viz_replay_t *r = calloc(1, sizeof *r);
    *err = HV_ENOMEM;
    if (r == NULL || (r->track = hv_viz_track_new()) == NULL) {
        free(r);
        return NULL;
    }
    r->cfg = *cfg;
    r->cfg.record = false;     /* the replay itself is not history       */
    r->cfg.debug_check = false;
    r->cfg.history_limit = 0;
    *err = fresh_heap(r);
    if (*err != HV_OK) {
        hv_viz_replay_free(r);
        return NULL;
    }
    return r;
}

void hv_viz_replay_free(hv_viz_replay_t *r)
{
    if (r == NULL) return;
    if (r->heap) hv_heap_destroy(r->heap);
    hv_viz_track_free(r->track);
    free(r->op_seq);
    free(r);
}

const hv_heap_t *hv_viz_replay_heap(const hv_viz_replay_t *r) { return r->heap; }
const char *hv_viz_replay_error(const hv_viz_replay_t *r) { return r->error; }
uint64_t hv_viz_replay_ops(const hv_viz_replay_t *r) { return r->nops; }
uint64_t hv_viz_replay_pos(const hv_viz_replay_t *r) { return r->pos; }

uint64_t hv_viz_replay_op_seq(const hv_viz_replay_t *r, uint64_t op)
{
    return op < r->nops ? r->op_seq[op] : r->indexed;
}

uint64_t hv_viz_replay_index(hv_viz_replay_t *r, const hv_viz_events_t *src)
{
    hv_event_t ev;
    if (r->indexed < src->first) r->indexed = src->first;
    for (; r->indexed < src->count; r->indexed++) {
        if (!src->get(src->arg, r->indexed, &ev)) break;
        if (r->nops > 0 && ev.op == r->last_op) continue;
        if (r->nops == r->cap) {
            uint64_t ncap = r->cap ? r->cap * 2 : 4096;
            uint64_t *n = realloc(r->op_seq, ncap * sizeof *n);
            if (n == NULL) break;
            r->op_seq = n;
            r->cap = ncap;
        }
        r->op_seq[r->nops++] = r->indexed;
        r->last_op = ev.op;
    }
    return r->nops;
}

/* Re-run one recorded event on the replay heap. */
static void apply(hv_viz_replay_t *r, const hv_event_t *ev)
{
    hv_heap_t *h = r->heap;
    hv_addr_t out;
    if (ev->flags & (HV_EVF_SUB | HV_EVF_FAILED)) return;
    switch (ev->kind) {
    case HV_EV_MALLOC:
        hv_malloc(h, ev->size, ev->site, &out);
        break;
    case HV_EV_CALLOC:
        hv_calloc(h, 1, ev->size, ev->site, &out);
        break;
    case HV_EV_REALLOC:
        hv_realloc(h, ev->a, ev->size, ev->site, HV_FREE_TRUSTING, &out);
        break;
    case HV_EV_FREE:
        hv_free(h, ev->addr, ev->site, HV_FREE_TRUSTING);
        break;
    case HV_EV_GROW:
        hv_sbrk(h, (int64_t)ev->size, ev->site, &out);
        break;
    case HV_EV_SHRINK:
        hv_sbrk(h, -(int64_t)ev->size, ev->site, &out);
        break;
    case HV_EV_MMAP:
        hv_mmap(h, ev->size, ev->site, &out);
        break;
    case HV_EV_MUNMAP:
        hv_munmap(h, ev->addr, ev->site);
        break;
    case HV_EV_FRAME_PUSH: {
        uint32_t depth;
        hv_frame_push(h, "frame", ev->site, &depth);
        break;
    }
    case HV_EV_FRAME_POP:
        hv_frame_pop(h, ev->site);
        break;
    case HV_EV_STACK_ALLOC:
        hv_frame_alloc(h, ev->size, ev->site, &out);
        break;
    case HV_EV_WRITE: /* only the shadow: the bytes are not recorded */
        if (r->cfg.shadow && hv_shadow(h, ev->addr, ev->size))
            hv_shadow_set(h, ev->addr, ev->size, HV_SH_INIT);
        break;
    default:
        break;
    }
}

bool hv_viz_replay_goto(hv_viz_replay_t *r, const hv_viz_events_t *src,
                        uint64_t op)
{
    if (src->first > 0) {
        snprintf(r->error, sizeof r->error,
                 "the history was truncated (events before %llu are gone), so "
                 "it cannot be replayed",
                 (unsigned long long)src->first);
        return false;
    }
    hv_viz_replay_index(r, src);
    if (op > r->nops) op = r->nops;
    if (op < r->pos && fresh_heap(r) != HV_OK) return false;
    uint64_t end = hv_viz_replay_op_seq(r, op);
    /* Only the last events make log lines; older ones update marks. */
    uint64_t loud = end > HV_VIZ_LOG_LINES * 4 ? end - HV_VIZ_LOG_LINES * 4 : 0;
    hv_event_t ev;
    for (; r->pos_seq < end; r->pos_seq++) {
        if (!src->get(src->arg, r->pos_seq, &ev)) {
            snprintf(r->error, sizeof r->error, "event %llu is missing",
                     (unsigned long long)r->pos_seq);
            return false;
        }
        apply(r, &ev);
        hv_viz_track_quiet(r->track, r->pos_seq < loud);
        hv_viz_track_event(r->track, src->sites, &ev);
    }
    r->pos = op;
    return true;
}

bool hv_viz_replay_state(hv_viz_replay_t *r, const hv_viz_events_t *src,
                         hv_viz_state_t *s)
{
    if (!hv_viz_state_from_heap(s, r->heap)) return false;
    hv_viz_track_apply(r->track, s);
    s->op = r->pos;
    s->ops_total = r->nops;
    (void)src;
    return true;
}

void hv_viz_replay_anim(const hv_viz_replay_t *r, const hv_viz_events_t *src,
                        hv_viz_state_t *s)
{
    s->anim_kind = 0;
    if (r->pos == 0) return;
    uint64_t a = r->op_seq[r->pos - 1], b = hv_viz_replay_op_seq(r, r->pos);
    hv_event_t ev, best = {0};
    int best_rank = 0;
    for (uint64_t q = a; q < b && src->get(src->arg, q, &ev); q++) {
        int rank = ev.kind == HV_EV_GROW       ? 5
                   : ev.kind == HV_EV_COALESCE ? 4
                   : (ev.kind == HV_EV_MALLOC || ev.kind == HV_EV_CALLOC ||
                      ev.kind == HV_EV_REALLOC)
                       ? 3
                   : ev.kind == HV_EV_FREE  ? 2
                   : ev.kind == HV_EV_SPLIT ? 1
                                            : 0;
        if (rank > best_rank) best_rank = rank, best = ev;
    }
    if (best_rank == 0) return;
    s->anim_kind = best.kind;
    s->anim_size = best.size;
    s->anim_addr = best.kind == HV_EV_FREE ? best.a : best.addr;
    if (best.kind == HV_EV_MALLOC || best.kind == HV_EV_CALLOC ||
        best.kind == HV_EV_REALLOC)
        s->anim_addr = best.addr; /* payload: inside the block */
    s->anim_addr2 = best.a;
}
