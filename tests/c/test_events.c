/* test_events.c — what an operation records and in which order, the ring
 * wrapping round, the history limit, recording off, events from the
 * binding; and rebuilding the block layout by replaying the events. */
#include "harness.h"

#include <stdlib.h>

enum { BASE = 0x10000 };

static hv_heap_t *heap(uint32_t ring, uint64_t history)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.ring_capacity = ring;
    cfg.history_limit = history;
    return t_heap(cfg);
}

/* malloc from the initial heap: PLACE, SPLIT, then MALLOC, one op. */
static void one_malloc(void)
{
    hv_heap_t *h = heap(64, 1000);
    uint32_t site;
    CHECK_OK(hv_site_intern(h, "lesson.py", 12, "main", &site));
    hv_addr_t p = 0;
    CHECK_OK(hv_malloc(h, 24, site, &p));
    CHECK_EQ(hv_ring_head(h), 3);
    hv_event_t e[3];
    for (int i = 0; i < 3; i++)
        CHECK(hv_ring_get(h, (uint64_t)i, &e[i]));
    CHECK_EQ(e[0].kind, HV_EV_PLACE);
    CHECK_EQ(e[0].addr, BASE + 0xc);
    CHECK_EQ(e[0].size, 4080);
    CHECK_EQ(e[0].a, 1);
    CHECK_EQ(e[1].kind, HV_EV_SPLIT);
    CHECK_EQ(e[1].addr, BASE + 0xc);
    CHECK_EQ(e[1].size, 32);
    CHECK_EQ(e[1].a, BASE + 0x2c);
    CHECK_EQ(e[1].b, 4048);
    CHECK_EQ(e[2].kind, HV_EV_MALLOC);
    CHECK_EQ(e[2].flags, 0);
    CHECK_EQ(e[2].addr, p);
    CHECK_EQ(e[2].size, 24);
    CHECK_EQ(e[2].a, BASE + 0xc);
    CHECK_EQ(e[2].b, 32);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(e[i].seq, (uint64_t)i);
        CHECK_EQ(e[i].op, e[2].op);
        CHECK_EQ(e[i].site, site);
        CHECK_EQ(!!(e[i].flags & HV_EVF_SUB), i < 2);
    }
    hv_block_t b;
    CHECK_OK(hv_block_at(h, BASE + 0xc, &b));
    CHECK_EQ(b.seq, e[2].op);
    CHECK_EQ(b.site, site);
    CHECK(sizeof(hv_event_t) == 56);
    hv_heap_destroy(h);
}

static void ring_wraps(void)
{
    hv_heap_t *h = heap(16, 1000);
    hv_addr_t p;
    for (int i = 0; i < 10; i++) {
        p = t_malloc(h, 24);
        t_free(h, p);
    }
    uint64_t head = hv_ring_head(h);
    CHECK(head > 16);
    CHECK_EQ(hv_ring_capacity(h), 16);
    hv_event_t e;
    CHECK(!hv_ring_get(h, head - 17, &e)); /* overwritten */
    CHECK(hv_ring_get(h, head - 16, &e));
    CHECK_EQ(e.seq, head - 16);
    CHECK(hv_ring_get(h, head - 1, &e));
    CHECK(!hv_ring_get(h, head, &e)); /* not written yet */
    /* the history still has all of them */
    CHECK_EQ(hv_history_first(h), 0);
    CHECK_EQ(hv_history_count(h), head);
    CHECK(hv_history_get(h, 0, &e));
    CHECK_EQ(e.seq, 0);
    hv_heap_destroy(h);
}

static void history_limit(void)
{
    hv_heap_t *h = heap(1024, 10);
    for (int i = 0; i < 5; i++)
        t_free(h, t_malloc(h, 24)); /* 3 + 2 events a pair */
    CHECK_EQ(hv_history_count(h), 25);
    CHECK_EQ(hv_history_first(h), 15); /* truncated: the oldest dropped */
    hv_event_t e, r;
    CHECK(!hv_history_get(h, 14, &e));
    for (uint64_t s = 15; s < 25; s++) {
        CHECK(hv_history_get(h, s, &e));
        CHECK(hv_ring_get(h, s, &r));
        CHECK(memcmp(&e, &r, sizeof e) == 0);
    }
    CHECK(!hv_history_get(h, 25, &e));
    hv_heap_destroy(h);

    h = heap(1024, 0); /* no history at all */
    t_free(h, t_malloc(h, 24));
    CHECK_EQ(hv_history_count(h), hv_history_first(h));
    CHECK(hv_ring_get(h, 0, &e));
    hv_heap_destroy(h);

    /* a limit that the buffer reaches by growing, then wraps */
    h = heap(1024, 3000);
    for (int i = 0; i < 1000; i++)
        t_free(h, t_malloc(h, 24));
    CHECK_EQ(hv_history_count(h), 5000);
    CHECK_EQ(hv_history_first(h), 2000);
    CHECK(hv_history_get(h, 4999, &e));
    CHECK_EQ(e.seq, 4999);
    CHECK(hv_history_get(h, 2000, &e));
    CHECK_EQ(e.seq, 2000);
    hv_heap_destroy(h);
}

static void recording_off(void)
{
    hv_heap_t *h = heap(64, 1000);
    hv_set_recording(h, false);
    t_free(h, t_malloc(h, 24));
    CHECK_EQ(hv_ring_head(h), 0);
    CHECK_EQ(hv_event_record(h, &(hv_event_t){.kind = HV_EV_NOTE}),
             UINT64_MAX);
    hv_set_recording(h, true);
    hv_stats_t s;
    hv_stats(h, &s);
    uint64_t ops = s.ops;
    /* the binding's own events: op 0 means a new operation */
    uint64_t seq = hv_event_record(
        h, &(hv_event_t){.kind = HV_EV_ERROR, .a = HV_ERR_OVERFLOW,
                         .addr = BASE + 0x30, .size = 4});
    CHECK_EQ(seq, 0);
    hv_event_t e;
    CHECK(hv_ring_get(h, 0, &e));
    CHECK_EQ(e.kind, HV_EV_ERROR);
    CHECK_EQ(e.op, ops + 1);
    CHECK_EQ(hv_event_record(h, &(hv_event_t){.kind = HV_EV_WRITE,
                                               .op = 5}),
             1);
    CHECK(hv_ring_get(h, 1, &e));
    CHECK_EQ(e.op, 5);
    hv_heap_destroy(h);
}

/* ------------------------------------------------------------------------
 * Replay: rebuild the layout from GROW/SPLIT/COALESCE and the operation
 * events, as a viewer would, and compare it with the walker.
 * ---------------------------------------------------------------------- */
typedef struct rblock {
    hv_addr_t addr;
    uint64_t size;
    bool used;
} rblock_t;

typedef struct model {
    rblock_t b[1024];
    int n;
    uint32_t epilogue; /* bytes of epilogue header (0 for buddy) */
} model_t;

static int find_at(model_t *m, hv_addr_t a)
{
    for (int i = 0; i < m->n; i++)
        if (m->b[i].addr <= a && a < m->b[i].addr + m->b[i].size)
            return i;
    return -1;
}

static void insert_at(model_t *m, int i, rblock_t b)
{
    memmove(&m->b[i + 1], &m->b[i], (size_t)(m->n - i) * sizeof b);
    m->b[i] = b;
    m->n++;
}

static void apply(model_t *m, const hv_event_t *e)
{
    int i;
    switch (e->kind) {
    case HV_EV_GROW: /* the old epilogue becomes a new block, free unless
                        it is hv_sbrk's (an operation, not a step) */
        m->b[m->n] = (rblock_t){e->addr - m->epilogue, e->size,
                                !(e->flags & HV_EVF_SUB)};
        m->n++;
        break;
    case HV_EV_SPLIT: /* the block keeps its state; the new one is free */
        i = find_at(m, e->addr);
        m->b[i].size = e->size;
        insert_at(m, i + 1, (rblock_t){e->a, e->b, false});
        break;
    case HV_EV_COALESCE: /* the block at addr swallows its neighbour */
        i = find_at(m, e->addr);
        m->b[i].size = e->size;
        memmove(&m->b[i + 1], &m->b[i + 2],
                (size_t)(m->n - i - 2) * sizeof m->b[0]);
        m->n--;
        break;
    case HV_EV_MALLOC:
    case HV_EV_CALLOC:
        if (e->addr)
            m->b[find_at(m, e->a)].used = true;
        break;
    case HV_EV_FREE:
        m->b[find_at(m, e->a)].used = false;
        break;
    }
}

static int compare(const hv_block_t *b, void *arg)
{
    model_t *m = arg;
    int i = find_at(m, b->addr);
    if (b->state == HV_BLOCK_MMAPPED)
        return 0;
    if (i < 0 || m->b[i].addr != b->addr || m->b[i].size != b->size ||
        m->b[i].used != (b->state != HV_BLOCK_FREE))
        return 1;
    return 0;
}

static int seed_model(const hv_block_t *b, void *arg)
{
    model_t *m = arg;
    m->b[m->n++] = (rblock_t){b->addr, b->size, b->state != HV_BLOCK_FREE};
    return 0;
}

static void replay(hv_policy_t policy, hv_order_t order, hv_coalesce_t co)
{
    hv_config_t cfg = t_cfg(policy, order);
    cfg.coalesce = co;
    cfg.size = 0;
    cfg.ring_capacity = 1 << 16;
    cfg.mmap_threshold = 0;
    hv_heap_t *h = t_heap(cfg);
    model_t *m = calloc(1, sizeof *m);
    hv_layout_t l;
    hv_heap_layout(h, &l);
    m->epilogue = policy == HV_POLICY_BUDDY ? 0 : l.header_size;
    hv_walk(h, seed_model, m); /* the initial heap */
    hv_addr_t p[40] = {0};
    uint64_t x = 99, seen = 0;
    int bad = 0;
    for (int step = 0; step < (t_quick ? 150 : 1500); step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        hv_addr_t *s = &p[x % 40];
        if (*s && x % 3 == 0)
            hv_realloc(h, *s, x % 700, 0, HV_FREE_CHECKED, s);
        else if (*s)
            hv_free(h, *s, 0, HV_FREE_CHECKED), *s = 0;
        else
            hv_malloc(h, x % 500, 0, s);
        hv_event_t e;
        for (; hv_history_get(h, seen, &e); seen++)
            apply(m, &e);
        bad += hv_walk(h, compare, m) != 0;
        if (step == 100) {
            hv_addr_t old;
            bad += policy != HV_POLICY_BUDDY && hv_sbrk(h, 40, 0, &old);
        }
    }
    if (bad)
        fprintf(stderr, "replay %s/%s/%s differs\n", hv_policy_name(policy),
                hv_order_name(order), hv_coalesce_name(co));
    CHECK_EQ(bad, 0);
    free(m);
    hv_heap_destroy(h);
}

void test_events(void)
{
    one_malloc();
    ring_wraps();
    history_limit();
    recording_off();
    for (int p = 0; p < HV_POLICY_COUNT; p++)
        for (int c = 0; c < HV_COALESCE_COUNT; c++)
            replay((hv_policy_t)p, (hv_order_t)((p + c) % HV_ORDER_COUNT),
                   (hv_coalesce_t)c);
}
