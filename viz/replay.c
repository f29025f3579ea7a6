/* replay.c — time travel: rebuild a past moment by re-running operations.
 *
 * The history records every operation with its arguments (malloc's size,
 * free's pointer, ...).  Re-running them, in order, on a private heap of
 * the same configuration gives back exactly the recorded heap — the core
 * is deterministic and addresses are base + offset — including what events
 * cannot tell, such as the free list's order and next fit's rover.  Steps
 * inside an operation (split, coalesce, growth: HV_EVF_SUB) are results,
 * not causes, and are not re-run.  Failed and refused operations are re-run
 * too (they fail again, and count); the binding's own events (errors,
 * leaks, notes, writes) are recorded as they were, so the replay numbers
 * operations as the heap did: a replayed block's seq and the stats are the
 * recorded ones, and every view of the past (window, pictures, notebook,
 * recordings) agrees with the live heap of that moment.  Bytes the script
 * wrote are not in the history, so a replay cannot reproduce a corruption
 * made by an out-of-bounds write in "report" mode; the live view still
 * shows it.
 *
 * Checkpoints keep a scrub through a long history fast: every `every`
 * operations passed on the way forward, the replay heap is cloned
 * (hv_heap_clone) together with the event tracker.  Going to operation k
 * starts from the last checkpoint at or before k (or from where the replay
 * is, when that is nearer), so a scrub re-runs fewer than `every`
 * operations once the history has been walked through.  Memory is bounded:
 * at most CK_MAX checkpoints and CK_BUDGET bytes; past either, `every`
 * doubles and every other checkpoint goes.  Without checkpoints (a clone
 * that fails) it still works, from operation 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapviz/viz.h"

enum {
    CK_MAX = 48,          /* checkpoints at most (each holds a memfd)      */
    CK_FIRST_EVERY = 2048 /* ops between checkpoints to begin with          */
};
#define CK_BUDGET ((uint64_t)256 << 20) /* bytes of checkpoints at most    */

typedef struct checkpoint {
    uint64_t op, seq;       /* the moment: after `op` ops, next event seq */
    hv_heap_t *heap;        /* a clone of the replay heap then           */
    hv_viz_track_t *track;  /* and of the tracker                        */
    uint64_t bytes;
} checkpoint_t;

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
    checkpoint_t ck[CK_MAX]; /* in op order                              */
    int nck;
    uint64_t every, ck_bytes, ops_rerun;
    bool no_ck;        /* cloning failed: go on without checkpoints      */
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

static void ck_drop(checkpoint_t *c)
{
    if (c->heap) hv_heap_destroy(c->heap);
    hv_viz_track_free(c->track);
    memset(c, 0, sizeof *c);
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
    /* The replay records into a ring of its own, as small as can be and
     * never read: recording is what numbers the binding's operations
     * (record_as_is) as they were numbered. */
    r->cfg.record = true;
    r->cfg.ring_capacity = 16;
    r->cfg.history_limit = 0;
    r->cfg.debug_check = false;
    r->every = CK_FIRST_EVERY;
    hv_viz_track_quiet(r->track, true); /* log lines: hv_viz_replay_state */
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
    for (int i = 0; i < r->nck; i++) ck_drop(&r->ck[i]);
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

/* Operations the binding records (an error, a leak, a note, a write) are
 * not the allocator's: the replay records them as they were, so that its
 * heap counts the same operations (block seq numbers and stats.ops are the
 * recorded ones) and a write's bytes count as initialized. */
static void record_as_is(hv_viz_replay_t *r, const hv_event_t *ev)
{
    hv_heap_t *h = r->heap;
    hv_event_t e = *ev;
    e.op = 0; /* a new operation, as the binding's own are */
    hv_event_record(h, &e);
    if (ev->kind == HV_EV_WRITE && r->cfg.shadow && hv_shadow(h, ev->addr, ev->size))
        hv_shadow_set(h, ev->addr, ev->size, HV_SH_INIT);
}

static void rerun_frame_push(hv_heap_t *h, const hv_event_t *ev,
                             const hv_heap_t *sites)
{
    uint32_t depth, line; /* b: the frame's name, interned as a site */
    const char *name = NULL, *func = NULL;
    if (!(ev->b && sites && hv_site_get(sites, (uint32_t)ev->b, &name, &line, &func) &&
          name && name[0]))
        name = "frame";
    hv_frame_push(h, name, ev->site, &depth);
}

/* Re-run one recorded operation's main event on the replay heap.  Failed
 * operations are re-run too (the allocator is deterministic, so they fail
 * again and count as they did); a free or realloc the allocator refused is
 * re-run in the mode it was refused in (b), one that went through trusted
 * (it was valid, or a double free the allocator did not see). */
static void rerun(hv_viz_replay_t *r, const hv_event_t *ev, const hv_heap_t *sites)
{
    hv_heap_t *h = r->heap;
    hv_addr_t out;
    bool failed = ev->flags & HV_EVF_FAILED;
    hv_free_mode_t mode = failed && ev->b == HV_FREE_CHECKED ? HV_FREE_CHECKED
                                                              : HV_FREE_TRUSTING;
    switch (ev->kind) {
    case HV_EV_MALLOC:
        hv_malloc(h, ev->size, ev->site, &out);
        break;
    case HV_EV_CALLOC: /* size UINT64_MAX: nmemb * size overflowed */
        if (failed && ev->size == UINT64_MAX)
            hv_calloc(h, UINT64_MAX, 2, ev->site, &out);
        else
            hv_calloc(h, 1, ev->size, ev->site, &out);
        break;
    case HV_EV_REALLOC:
        hv_realloc(h, ev->a, ev->size, ev->site, mode, &out);
        break;
    case HV_EV_FREE:
        hv_free(h, ev->addr, ev->site, mode);
        break;
    case HV_EV_GROW: /* a: the bytes asked for (the break moves by whole pages) */
        hv_sbrk(h, (int64_t)(ev->a ? ev->a : ev->size), ev->site, &out);
        break;
    case HV_EV_SHRINK:
        hv_sbrk(h, -(int64_t)ev->size, ev->site, &out);
        break;
    case HV_EV_MMAP: /* a: the bytes asked for (size is page-rounded) */
        hv_mmap(h, ev->a ? ev->a : ev->size, ev->site, &out);
        break;
    case HV_EV_FAIL: /* an mmap that found no room */
        hv_mmap(h, ev->size, ev->site, &out);
        break;
    case HV_EV_MUNMAP:
        hv_munmap(h, ev->addr, ev->site);
        break;
    case HV_EV_FRAME_PUSH:
        rerun_frame_push(h, ev, sites);
        break;
    case HV_EV_FRAME_POP:
        hv_frame_pop(h, ev->site);
        break;
    case HV_EV_STACK_ALLOC:
        hv_frame_alloc(h, ev->size, ev->site, &out);
        break;
    default:
        record_as_is(r, ev);
        break;
    }
}

/* Re-run the operation whose events are [lo, hi): its main event (steps
 * inside it, flagged SUB, are results, not causes); an sbrk that found no
 * room left only its FAIL step. */
static bool apply_op(hv_viz_replay_t *r, const hv_viz_events_t *src,
                     uint64_t lo, uint64_t hi)
{
    hv_event_t ev;
    bool main = false;
    for (uint64_t q = lo; q < hi && !main; q++) {
        if (!src->get(src->arg, q, &ev)) return false;
        main = !(ev.flags & HV_EVF_SUB);
    }
    for (uint64_t q = lo; q < hi; q++) {
        if (!src->get(src->arg, q, &ev)) return false;
        if (!(ev.flags & HV_EVF_SUB))
            rerun(r, &ev, src->sites);
        else if (!main && ev.kind == HV_EV_FAIL)
            hv_sbrk(r->heap, (int64_t)ev.size, ev.site, &(hv_addr_t){0});
        hv_viz_track_event(r->track, src->sites, &ev);
    }
    return true;
}

/* ---- checkpoints ------------------------------------------------------ */
static uint64_t ck_cost(const hv_heap_t *h)
{
    /* the clone's memory: bytes, shadow and side table of the heap up to
     * the break, the mappings and their shadow, the stack */
    hv_stats_t st;
    hv_stats(h, &st);
    const hv_config_t *c = hv_heap_config(h);
    return 2 * (st.heap_size + st.mmapped) + 2 * (uint64_t)c->stack_size + 65536;
}

/* Fewer checkpoints, twice as far apart: keep those at multiples of the
 * new interval. */
static void ck_thin(hv_viz_replay_t *r)
{
    r->every *= 2;
    int n = 0;
    for (int i = 0; i < r->nck; i++) {
        if (r->ck[i].op % r->every == 0) {
            r->ck[n++] = r->ck[i];
        } else {
            r->ck_bytes -= r->ck[i].bytes;
            ck_drop(&r->ck[i]);
        }
    }
    for (int i = n; i < r->nck; i++) memset(&r->ck[i], 0, sizeof r->ck[i]);
    r->nck = n;
}

/* Index of the last checkpoint at or before op, or -1. */
static int ck_find(const hv_viz_replay_t *r, uint64_t op)
{
    int lo = 0, hi = r->nck;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (r->ck[mid].op <= op)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

/* At a multiple of `every`: keep this moment, unless one is kept already. */
static void ck_maybe_take(hv_viz_replay_t *r)
{
    if (r->no_ck || r->pos == 0 || r->pos % r->every != 0) return;
    int i = ck_find(r, r->pos);
    if (i >= 0 && r->ck[i].op == r->pos) return;
    uint64_t cost = ck_cost(r->heap) + hv_viz_track_bytes(r->track);
    while (r->nck > 0 && (r->nck == CK_MAX || r->ck_bytes + cost > CK_BUDGET)) {
        ck_thin(r);
        if (r->pos % r->every != 0) return;
    }
    if (cost > CK_BUDGET) return; /* one heap larger than the budget */
    checkpoint_t c = {r->pos, r->pos_seq, NULL, NULL, cost};
    if (hv_heap_clone(r->heap, &c.heap) != HV_OK) {
        r->no_ck = true; /* out of memory or descriptors: do without */
        return;
    }
    if ((c.track = hv_viz_track_clone(r->track)) == NULL) {
        hv_heap_destroy(c.heap);
        return;
    }
    i = ck_find(r, r->pos) + 1; /* keep them in op order */
    memmove(&r->ck[i + 1], &r->ck[i], (size_t)(r->nck - i) * sizeof r->ck[0]);
    r->ck[i] = c;
    r->nck++;
    r->ck_bytes += cost;
}

/* Continue from checkpoint i: a clone of it (it stays as it is). */
static bool ck_restore(hv_viz_replay_t *r, int i)
{
    const checkpoint_t *c = &r->ck[i];
    hv_heap_t *h;
    hv_viz_track_t *t = hv_viz_track_clone(c->track);
    if (t == NULL || hv_heap_clone(c->heap, &h) != HV_OK) {
        hv_viz_track_free(t);
        return false;
    }
    if (r->heap) hv_heap_destroy(r->heap);
    hv_viz_track_free(r->track);
    r->heap = h;
    r->track = t;
    r->pos = c->op;
    r->pos_seq = c->seq;
    return true;
}

void hv_viz_replay_info(const hv_viz_replay_t *r, hv_viz_replay_info_t *out)
{
    out->checkpoints = (uint64_t)r->nck;
    out->every = r->every;
    out->bytes = r->ck_bytes;
    out->ops_rerun = r->ops_rerun;
}

/* ---- going somewhere ----------------------------------------------------- */
bool hv_viz_replay_goto_some(hv_viz_replay_t *r, const hv_viz_events_t *src,
                             uint64_t op, uint64_t max_ops)
{
    r->error[0] = '\0';
    if (src->first > 0) {
        snprintf(r->error, sizeof r->error,
                 "the history was truncated (events before %llu are gone), so "
                 "it cannot be replayed",
                 (unsigned long long)src->first);
        return false;
    }
    hv_viz_replay_index(r, src);
    if (op > r->nops) op = r->nops;
    /* Start from the nearest known moment at or before op. */
    int i = ck_find(r, op);
    uint64_t from = r->pos <= op ? r->pos : 0;
    if (i >= 0 && r->ck[i].op > from) {
        if (!ck_restore(r, i) && r->pos > op && fresh_heap(r) != HV_OK) return false;
    } else if (r->pos > op && fresh_heap(r) != HV_OK) {
        return false;
    }
    uint64_t done = 0;
    while (r->pos < op) {
        if (max_ops && done == max_ops) return false; /* not yet: call again */
        uint64_t end = hv_viz_replay_op_seq(r, r->pos + 1);
        if (!apply_op(r, src, r->pos_seq, end)) {
            snprintf(r->error, sizeof r->error, "an event of operation %llu is missing",
                     (unsigned long long)r->pos + 1);
            return false;
        }
        r->pos_seq = end;
        r->pos++;
        done++;
        ck_maybe_take(r);
    }
    r->ops_rerun += done;
    return true;
}

bool hv_viz_replay_goto(hv_viz_replay_t *r, const hv_viz_events_t *src,
                        uint64_t op)
{
    return hv_viz_replay_goto_some(r, src, op, 0);
}

/* The log panel of the moment: the last lines before it, read back from
 * the history (the tracker runs quiet in a replay: a checkpoint's own
 * lines would be those of some earlier moment). */
static void replay_log(const hv_viz_replay_t *r, const hv_viz_events_t *src,
                       hv_viz_state_t *s)
{
    char lines[HV_VIZ_LOG_LINES][160];
    int n = 0;
    hv_event_t ev;
    for (uint64_t q = r->pos_seq; q > src->first && n < HV_VIZ_LOG_LINES;) {
        if (!src->get(src->arg, --q, &ev)) break;
        if (hv_viz_event_logged(&ev))
            hv_viz_event_line(src->sites, &ev, lines[n++], sizeof lines[0]);
    }
    s->nlog = 0;
    while (n > 0) hv_viz_state_add_log(s, lines[--n]);
}

bool hv_viz_replay_state(hv_viz_replay_t *r, const hv_viz_events_t *src,
                         hv_viz_state_t *s)
{
    if (!hv_viz_state_from_heap(s, r->heap)) return false;
    hv_viz_track_apply(r->track, s);
    replay_log(r, src, s);
    s->op = r->pos;
    s->ops_total = r->nops;
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
