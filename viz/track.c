/* track.c — what the recent events say about the picture.
 *
 * The walker tells what the heap *is*; the events tell what just
 * *happened*: which block was freed a moment ago (drawn orange, fading),
 * which lost its last pointer (leaked), which an error is about, and the
 * lines of the event log.  The tracker is fed every event in order, by
 * the live viewer as it follows the ring and by a replay as it rebuilds a
 * past moment, and then paints that knowledge onto a state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapviz/viz.h"

enum { RECENT_FREES = 8, JUST_FREED_OPS = 3 };

typedef struct freed {
    hv_addr_t block;
    uint64_t op;
} freed_t;

struct hv_viz_track {
    char log[HV_VIZ_LOG_LINES][160];
    int nlog, log_head;          /* a ring of the last lines          */
    freed_t frees[RECENT_FREES]; /* a ring of the last frees          */
    int free_head;
    uint64_t *leaked; /* open-addressed set of payload addresses      */
    size_t leaked_cap, leaked_n;
    uint64_t last_op, ops;
    hv_addr_t new_block; /* allocated by the last operation          */
    uint64_t new_op;
    bool has_error;
    uint32_t error_kind;
    hv_addr_t error_addr;
    uint64_t error_size;
    char error_text[1024];
    bool quiet;
};

/* ---- a small set of addresses (leaked payloads) ---------------------- */
static size_t slot_of(const hv_viz_track_t *t, uint64_t a)
{
    uint64_t x = a * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(x >> 20) & (t->leaked_cap - 1);
    while (t->leaked[i] != 0 && t->leaked[i] != a)
        i = (i + 1) & (t->leaked_cap - 1);
    return i;
}

static void set_add(hv_viz_track_t *t, uint64_t a)
{
    if (a == 0) return;
    if ((t->leaked_n + 1) * 2 > t->leaked_cap) {
        size_t ncap = t->leaked_cap ? t->leaked_cap * 2 : 64;
        uint64_t *old = t->leaked;
        size_t ocap = t->leaked_cap;
        uint64_t *nw = calloc(ncap, sizeof *nw);
        if (nw == NULL) return; /* a missed leak mark, not a crash */
        t->leaked = nw;
        t->leaked_cap = ncap;
        t->leaked_n = 0;
        for (size_t i = 0; i < ocap; i++)
            if (old[i]) {
                t->leaked[slot_of(t, old[i])] = old[i];
                t->leaked_n++;
            }
        free(old);
    }
    size_t i = slot_of(t, a);
    if (t->leaked[i] == 0) {
        t->leaked[i] = a;
        t->leaked_n++;
    }
}

static bool set_has(const hv_viz_track_t *t, uint64_t a)
{
    return t->leaked_cap && t->leaked[slot_of(t, a)] == a;
}

/* Deletion with backward shift keeps probe chains intact. */
static void set_del(hv_viz_track_t *t, uint64_t a)
{
    if (!set_has(t, a)) return;
    size_t mask = t->leaked_cap - 1, i = slot_of(t, a);
    t->leaked[i] = 0;
    t->leaked_n--;
    for (size_t j = (i + 1) & mask; t->leaked[j] != 0; j = (j + 1) & mask) {
        uint64_t v = t->leaked[j];
        t->leaked[j] = 0;
        t->leaked[slot_of(t, v)] = v;
    }
}

/* ---- life cycle -------------------------------------------------------- */
hv_viz_track_t *hv_viz_track_new(void)
{
    return calloc(1, sizeof(hv_viz_track_t));
}

void hv_viz_track_free(hv_viz_track_t *t)
{
    if (t == NULL) return;
    free(t->leaked);
    free(t);
}

void hv_viz_track_reset(hv_viz_track_t *t)
{
    uint64_t *leaked = t->leaked;
    size_t cap = t->leaked_cap;
    bool quiet = t->quiet;
    memset(t, 0, sizeof *t);
    t->quiet = quiet;
    if (leaked) memset(leaked, 0, cap * sizeof *leaked);
    t->leaked = leaked;
    t->leaked_cap = cap;
}

uint64_t hv_viz_track_ops(const hv_viz_track_t *t) { return t->ops; }

hv_viz_track_t *hv_viz_track_clone(const hv_viz_track_t *t)
{
    hv_viz_track_t *c = malloc(sizeof *c);
    if (c == NULL) return NULL;
    *c = *t;
    c->leaked = NULL;
    if (t->leaked_cap) {
        c->leaked = malloc(t->leaked_cap * sizeof *c->leaked);
        if (c->leaked == NULL) {
            free(c);
            return NULL;
        }
        memcpy(c->leaked, t->leaked, t->leaked_cap * sizeof *c->leaked);
    }
    return c;
}

size_t hv_viz_track_bytes(const hv_viz_track_t *t)
{
    return sizeof *t + t->leaked_cap * sizeof *t->leaked;
}

void hv_viz_track_quiet(hv_viz_track_t *t, bool quiet) { t->quiet = quiet; }

/* ---- feeding ------------------------------------------------------------- */
static void add_line(hv_viz_track_t *t, const hv_heap_t *h,
                     const hv_event_t *ev)
{
    int i = (t->log_head + t->nlog) % HV_VIZ_LOG_LINES;
    if (t->nlog == HV_VIZ_LOG_LINES)
        t->log_head = (t->log_head + 1) % HV_VIZ_LOG_LINES;
    else
        t->nlog++;
    hv_viz_event_line(h, ev, t->log[i], sizeof t->log[i]);
}

static void note_error(hv_viz_track_t *t, const hv_heap_t *h,
                       const hv_event_t *ev)
{
    t->has_error = true;
    t->error_kind = (uint32_t)ev->a;
    t->error_addr = ev->addr;
    t->error_size = ev->size;
    const char *report = NULL, *func = NULL;
    uint32_t line = 0;
    if (h && ev->b && hv_site_get(h, (uint32_t)ev->b, &report, &line, &func) &&
        report)
        snprintf(t->error_text, sizeof t->error_text, "%s", report);
    else
        snprintf(t->error_text, sizeof t->error_text, "%s at 0x%llx",
                 hv_viz_error_name(ev->a), (unsigned long long)ev->addr);
}

void hv_viz_track_event(hv_viz_track_t *t, const hv_heap_t *h,
                        const hv_event_t *ev)
{
    if (ev->op != t->last_op || t->ops == 0) {
        t->last_op = ev->op;
        t->ops++;
    }
    switch (ev->kind) {
    case HV_EV_FREE:
        if (!(ev->flags & HV_EVF_FAILED)) {
            t->frees[t->free_head] = (freed_t){ev->a, ev->op};
            t->free_head = (t->free_head + 1) % RECENT_FREES;
            set_del(t, ev->addr);
        }
        break;
    case HV_EV_MALLOC:
    case HV_EV_CALLOC:
    case HV_EV_REALLOC:
        t->new_block = ev->addr;
        t->new_op = ev->op;
        break;
    case HV_EV_LOST:
        set_add(t, ev->addr);
        break;
    case HV_EV_ERROR:
        note_error(t, h, ev);
        break;
    default:
        break;
    }
    if (!t->quiet && hv_viz_event_logged(ev)) add_line(t, h, ev);
}

/* ---- painting onto a state ------------------------------------------------ */
static void apply_marks(const hv_viz_track_t *t, hv_viz_state_t *s)
{
    for (int i = 0; i < RECENT_FREES; i++) {
        const freed_t *f = &t->frees[i];
        if (f->block == 0 || t->last_op - f->op >= JUST_FREED_OPS) continue;
        long k = hv_viz_state_find(s, f->block);
        if (k >= 0 && s->blocks[k].state == HV_BLOCK_FREE)
            s->marks[k] |= HV_MARK_JUST_FREED;
    }
    for (size_t i = 0; t->leaked_n && i < s->nblocks; i++) {
        const hv_block_t *b = &s->blocks[i];
        if (b->state != HV_BLOCK_FREE && set_has(t, b->payload))
            s->marks[i] |= HV_MARK_LEAKED;
    }
    if (t->new_block && t->new_op == t->last_op) {
        long k = hv_viz_state_find(s, t->new_block);
        if (k >= 0) s->marks[k] |= HV_MARK_NEW;
    }
    if (t->has_error && t->error_addr) {
        long k = hv_viz_state_find(s, t->error_addr);
        if (k < 0 && t->error_addr > 0) /* an access just past the end */
            k = hv_viz_state_find(s, t->error_addr - 1);
        if (k >= 0) s->marks[k] |= HV_MARK_ERROR;
    }
}

void hv_viz_track_apply(const hv_viz_track_t *t, hv_viz_state_t *s)
{
    apply_marks(t, s);
    s->nlog = 0;
    for (int i = 0; i < t->nlog; i++)
        hv_viz_state_add_log(s, t->log[(t->log_head + i) % HV_VIZ_LOG_LINES]);
    s->has_error = t->has_error;
    s->error_kind = t->error_kind;
    s->error_addr = t->error_addr;
    s->error_size = t->error_size;
    snprintf(s->error_text, sizeof s->error_text, "%s", t->error_text);
    s->op = t->ops;
}
