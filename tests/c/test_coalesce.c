/* test_coalesce.c — immediate, deferred and no coalescing; the split
 * threshold; growing the break by the shortfall and running out of it.
 * Same layout as test_fit.c: first fit, address order, align 16, blocks
 * of round_up(n + 8, 16) bytes starting at 0xc. */
#include "harness.h"

enum { BASE = 0x10000 };

static hv_heap_t *heap_with(hv_coalesce_t c, uint64_t split_threshold)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.coalesce = c;
    cfg.split_threshold = split_threshold;
    return t_heap(cfg);
}

/* a..e as in test_fit.c, then f takes the rest of the heap exactly. */
static void fill(hv_heap_t *h, hv_addr_t p[6])
{
    static const uint64_t sizes[6] = {24, 56, 24, 88, 24, 3816};
    for (int i = 0; i < 6; i++)
        p[i] = t_malloc(h, sizes[i]);
    CHECK_EQ(p[5], BASE + 0x110);
    CHECK(strcmp(t_list(h, 0), "") == 0);
}

static int count_kind(const hv_heap_t *h, uint64_t from, uint16_t kind)
{
    hv_event_t e;
    int n = 0;
    for (uint64_t s = from; hv_ring_get(h, s, &e); s++)
        n += e.kind == kind;
    return n;
}

static void immediate(void)
{
    hv_heap_t *h = heap_with(HV_COALESCE_IMMEDIATE, 0);
    hv_addr_t p[6];
    fill(h, p);
    t_free(h, p[1]);
    CHECK(strcmp(t_list(h, 0), "2c:64") == 0);
    uint64_t from = hv_ring_head(h);
    t_free(h, p[2]); /* merges with b before it */
    CHECK(strcmp(t_list(h, 0), "2c:96") == 0);
    hv_event_t e;
    CHECK(hv_ring_get(h, from, &e));
    CHECK_EQ(e.kind, HV_EV_COALESCE);
    CHECK_EQ(e.addr, BASE + 0x2c);
    CHECK_EQ(e.size, 96);
    CHECK_EQ(e.a, BASE + 0x6c);
    CHECK_EQ(e.b, 32);
    CHECK(hv_ring_get(h, from + 1, &e));
    CHECK_EQ(e.kind, HV_EV_FREE); /* the operation comes last */
    t_free(h, p[3]);
    CHECK(strcmp(t_list(h, 0), "2c:192") == 0);
    t_free(h, p[5]); /* merges with nothing: e is allocated before it */
    CHECK(strcmp(t_list(h, 0), "2c:192 10c:3824") == 0);
    t_free(h, p[4]); /* merges with both neighbours */
    CHECK(strcmp(t_list(h, 0), "2c:4048") == 0);
    t_free(h, p[0]);
    CHECK(strcmp(t_blocks(h), "c:4080") == 0);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void deferred(void)
{
    hv_heap_t *h = heap_with(HV_COALESCE_DEFERRED, 0);
    hv_addr_t p[6];
    fill(h, p);
    t_free(h, p[1]);
    t_free(h, p[2]);
    t_free(h, p[3]);
    CHECK(strcmp(t_list(h, 0), "2c:64 6c:32 8c:96") == 0);
    CHECK_EQ(t_violations(h), 0); /* adjacent free blocks are allowed */
    uint64_t from = hv_ring_head(h);
    /* 192 bytes fit nowhere until the three are merged */
    CHECK_EQ(t_malloc(h, 184), BASE + 0x30);
    CHECK_EQ(count_kind(h, from, HV_EV_COALESCE), 2);
    CHECK_EQ(count_kind(h, from, HV_EV_GROW), 0);
    CHECK_EQ(hv_brk(h), BASE + 4096);
    CHECK(strcmp(t_list(h, 0), "") == 0);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void none(void)
{
    hv_heap_t *h = heap_with(HV_COALESCE_NONE, 0);
    hv_addr_t p[6];
    fill(h, p);
    t_free(h, p[1]);
    t_free(h, p[2]);
    t_free(h, p[3]);
    CHECK(strcmp(t_list(h, 0), "2c:64 6c:32 8c:96") == 0);
    /* never merged: the heap grows by a page, a block of its own */
    CHECK_EQ(t_malloc(h, 184), BASE + 0x1000);
    CHECK_EQ(hv_brk(h), BASE + 8192);
    CHECK(strcmp(t_list(h, 0), "2c:64 6c:32 8c:96 10bc:3904") == 0);
    t_free(h, p[5]);
    CHECK(strcmp(t_list(h, 0), "2c:64 6c:32 8c:96 10c:3824 10bc:3904") == 0);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void split_threshold(void)
{
    hv_heap_t *h = heap_with(HV_COALESCE_IMMEDIATE, 64);
    hv_addr_t p[6];
    fill(h, p);
    t_free(h, p[1]); /* 2c:64 */
    /* a 32-byte block would leave 32 < 64: the whole block is taken */
    CHECK_EQ(t_malloc(h, 24), BASE + 0x30);
    hv_block_t b;
    CHECK_OK(hv_block_at(h, BASE + 0x2c, &b));
    CHECK_EQ(b.size, 64);
    CHECK_EQ(b.payload_size, 56);
    CHECK_EQ(b.requested, 24);
    t_free(h, p[3]); /* 8c:96: a 32-byte block leaves exactly 64 */
    CHECK_EQ(t_malloc(h, 24), BASE + 0x90);
    CHECK(strcmp(t_list(h, 0), "ac:64") == 0);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void growth(void)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.max_size = 8192;
    hv_heap_t *h = t_heap(cfg);
    CHECK_EQ(t_malloc(h, 4008), BASE + 0x10); /* 0xc:4016, 64 left */
    uint64_t from = hv_ring_head(h);
    CHECK_EQ(t_malloc(h, 200), BASE + 0xfc0); /* 208 > 64: grow */
    hv_event_t e;
    CHECK(hv_ring_get(h, from, &e));
    CHECK_EQ(e.kind, HV_EV_GROW);
    CHECK_EQ(e.addr, BASE + 4096);
    CHECK_EQ(e.size, 4096); /* the shortfall, 144, in whole pages */
    CHECK_EQ(hv_brk(h), BASE + 8192);
    CHECK(strcmp(t_list(h, 0), "108c:3952") == 0);
    /* the reservation is full: NULL, no error, a FAIL step */
    hv_addr_t q = 1;
    from = hv_ring_head(h);
    CHECK_OK(hv_malloc(h, 4000, 0, &q));
    CHECK_EQ(q, 0);
    CHECK(hv_ring_get(h, from, &e));
    CHECK_EQ(e.kind, HV_EV_FAIL);
    CHECK_EQ(e.a, HV_FAIL_NOMEM);
    CHECK(hv_ring_get(h, from + 1, &e));
    CHECK_EQ(e.kind, HV_EV_MALLOC);
    CHECK(e.flags & HV_EVF_FAILED);
    CHECK_OK(hv_malloc(h, 1ull << 40, 0, &q));
    CHECK_EQ(q, 0);
    CHECK(hv_ring_get(h, from + 2, &e));
    CHECK_EQ(e.a, HV_FAIL_TOOBIG);
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.n_failed, 2);
    CHECK_EQ(s.n_grow, 1);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

/* An empty initial heap (size 0) is just the epilogue; the first request
 * grows it. */
static void empty_start(void)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.size = 0;
    hv_heap_t *h = t_heap(cfg);
    CHECK_EQ(hv_brk(h), BASE + 16);
    CHECK(strcmp(t_blocks(h), "") == 0);
    CHECK_EQ(t_malloc(h, 10), BASE + 0x10);
    CHECK_EQ(hv_brk(h), BASE + 16 + 4096);
    CHECK(strcmp(t_blocks(h), "c:32* 2c:4064") == 0);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

/* max_size need not be whole pages: the heap stops at the last one. */
static void odd_max_size(void)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.max_size = 10000;
    cfg.size = 10000;
    hv_heap_t *h = t_heap(cfg);
    CHECK_EQ(hv_brk(h), BASE + 8192);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

void test_coalesce(void)
{
    odd_max_size();
    immediate();
    deferred();
    none();
    split_threshold();
    growth();
    empty_start();
}
