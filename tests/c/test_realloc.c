/* test_realloc.c — realloc's cases with C's semantics, calloc, malloc(0).
 * First fit, address order, align 16, footers: blocks of
 * round_up(n + 8, 16) bytes from offset 0xc. */
#include "harness.h"

enum { BASE = 0x10000 };

static hv_heap_t *heap(void)
{
    return t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
}

static void put(hv_heap_t *h, hv_addr_t p, uint64_t n, uint8_t v)
{
    uint8_t *m;
    CHECK_OK(hv_resolve(h, p, n, NULL, &m));
    memset(m, v, n);
}

static bool holds(hv_heap_t *h, hv_addr_t p, uint64_t n, uint8_t v)
{
    uint8_t *m;
    if (hv_resolve(h, p, n, NULL, &m))
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (m[i] != v)
            return false;
    return true;
}

static hv_addr_t re(hv_heap_t *h, hv_addr_t p, uint64_t n)
{
    hv_addr_t q = 0;
    CHECK_OK(hv_realloc(h, p, n, 0, HV_FREE_CHECKED, &q));
    return q;
}

static void null_and_zero(void)
{
    hv_heap_t *h = heap();
    hv_addr_t p = re(h, 0, 24); /* realloc(NULL, n) is malloc(n) */
    CHECK_EQ(p, BASE + 0x10);
    uint64_t from = hv_ring_head(h);
    CHECK_EQ(re(h, p, 0), 0); /* realloc(p, 0) frees p */
    CHECK(strcmp(t_blocks(h), "c:4080") == 0);
    /* steps first (the merge with the top, the free), the operation last */
    hv_event_t e, first;
    CHECK(hv_ring_get(h, from, &first));
    CHECK_EQ(first.kind, HV_EV_COALESCE);
    CHECK(hv_ring_get(h, from + 1, &e));
    CHECK_EQ(e.kind, HV_EV_FREE);
    CHECK(e.flags & HV_EVF_SUB);
    CHECK(hv_ring_get(h, from + 2, &e));
    CHECK_EQ(e.kind, HV_EV_REALLOC);
    CHECK_EQ(e.a, p);
    CHECK_EQ(e.op, first.op); /* one operation */
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.n_realloc, 2);
    hv_heap_destroy(h);
}

static void shrink(void)
{
    hv_heap_t *h = heap();
    hv_addr_t p = t_malloc(h, 88); /* c:96 */
    put(h, p, 88, 0x5a);
    CHECK_EQ(re(h, p, 24), p); /* c:32, the rest joins the top */
    CHECK(holds(h, p, 24, 0x5a));
    CHECK(strcmp(t_blocks(h), "c:32* 2c:4048") == 0);
    CHECK_EQ(re(h, p, 20), p); /* 32 still: nothing to split off */
    hv_block_t b;
    CHECK_OK(hv_block_at(h, BASE + 0xc, &b));
    CHECK_EQ(b.size, 32);
    CHECK_EQ(b.requested, 20);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void grow_into_neighbour(void)
{
    hv_heap_t *h = heap();
    hv_addr_t a = t_malloc(h, 24), b = t_malloc(h, 24), c = t_malloc(h, 24);
    put(h, a, 24, 0x11);
    t_free(h, b);                /* 2c:32 free between a and c */
    uint64_t from = hv_ring_head(h);
    CHECK_EQ(re(h, a, 40), a);   /* 48 of the 64: 16 split off */
    CHECK(holds(h, a, 24, 0x11));
    CHECK(strcmp(t_blocks(h), "c:48* 3c:16 4c:32* 6c:3984") == 0);
    hv_event_t e;
    bool coalesced = false, inplace = false;
    for (uint64_t s = from; hv_ring_get(h, s, &e); s++) {
        coalesced |= e.kind == HV_EV_COALESCE && e.addr == BASE + 0xc;
        inplace |= e.kind == HV_EV_REALLOC && (e.flags & HV_EVF_INPLACE);
    }
    CHECK(coalesced && inplace);
    CHECK_EQ(re(h, a, 56), a); /* 64: all of it */
    CHECK(strcmp(t_blocks(h), "c:64* 4c:32* 6c:3984") == 0);
    (void)c;
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void grow_at_break(void)
{
    hv_heap_t *h = heap();
    hv_addr_t a = t_malloc(h, 4000); /* c:4016, top fe0... 64 left */
    put(h, a, 4000, 0x22);
    CHECK_EQ(re(h, a, 5000), a); /* needs 5008: the break moves a page */
    CHECK_EQ(hv_brk(h), BASE + 8192);
    CHECK(holds(h, a, 4000, 0x22));
    CHECK(strcmp(t_blocks(h), "c:5008* 139c:3168") == 0);
    hv_addr_t b = t_malloc(h, 3160); /* exactly the top: a is not last */
    CHECK(strcmp(t_blocks(h), "c:5008* 139c:3168*") == 0);
    CHECK_EQ(re(h, b, 3300), b); /* b is last: grows at the break */
    CHECK_EQ(hv_brk(h), BASE + 12288);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void move(void)
{
    hv_heap_t *h = heap();
    hv_addr_t a = t_malloc(h, 24), b = t_malloc(h, 24);
    put(h, a, 24, 0x33);
    uint64_t from = hv_ring_head(h);
    hv_addr_t q = re(h, a, 200); /* b is in the way */
    CHECK_EQ(q, BASE + 0x50);
    CHECK(holds(h, q, 24, 0x33));
    CHECK(strcmp(t_list(h, 0), "c:32 11c:3808") == 0);
    int mallocs = 0, frees = 0;
    hv_event_t e;
    for (uint64_t s = from; hv_ring_get(h, s, &e); s++) {
        mallocs += e.kind == HV_EV_MALLOC && (e.flags & HV_EVF_SUB);
        frees += e.kind == HV_EV_FREE && (e.flags & HV_EVF_SUB);
        if (e.kind == HV_EV_REALLOC) {
            CHECK(e.flags & HV_EVF_MOVED);
            CHECK_EQ(e.addr, q);
            CHECK_EQ(e.a, a);
            CHECK_EQ(e.b, 24);
        }
    }
    CHECK_EQ(mallocs, 1);
    CHECK_EQ(frees, 1);
    (void)b;
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void fails_keeps_old(void)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.max_size = 4096;
    cfg.mmap_threshold = 0;
    hv_heap_t *h = t_heap(cfg);
    hv_addr_t a = t_malloc(h, 24), b = t_malloc(h, 24);
    put(h, a, 24, 0x44);
    hv_addr_t q = 1;
    uint64_t from = hv_ring_head(h);
    CHECK_OK(hv_realloc(h, a, 10000, 0, HV_FREE_CHECKED, &q));
    CHECK_EQ(q, 0);
    /* FAIL and the failed MALLOC are steps; the failed REALLOC the op */
    hv_event_t e;
    CHECK(hv_ring_get(h, from, &e) && e.kind == HV_EV_FAIL);
    CHECK(hv_ring_get(h, from + 1, &e) && e.kind == HV_EV_MALLOC);
    CHECK_EQ(e.flags, HV_EVF_SUB | HV_EVF_FAILED);
    CHECK(hv_ring_get(h, from + 2, &e) && e.kind == HV_EV_REALLOC);
    CHECK_EQ(e.flags, HV_EVF_FAILED);
    CHECK_EQ(e.a, a);
    CHECK(!hv_ring_get(h, from + 3, &e));
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.n_failed, 1);
    CHECK(holds(h, a, 24, 0x44));
    hv_block_t blk;
    CHECK_OK(hv_block_at(h, BASE + 0xc, &blk));
    CHECK_EQ(blk.state, HV_BLOCK_ALLOCATED);
    (void)b;
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void bad_pointers(void)
{
    hv_heap_t *h = heap();
    hv_addr_t a = t_malloc(h, 24), q = 1;
    CHECK_EQ(hv_realloc(h, a + 4, 8, 0, HV_FREE_CHECKED, &q), HV_EBADFREE);
    CHECK_EQ(q, 0);
    t_free(h, a);
    CHECK_EQ(hv_realloc(h, a, 8, 0, HV_FREE_CHECKED, &q), HV_EDOUBLEFREE);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void calloc_cases(void)
{
    hv_heap_t *h = heap();
    hv_addr_t a = t_malloc(h, 64);
    put(h, a, 64, 0xab);
    t_free(h, a);
    hv_addr_t c = 0;
    CHECK_OK(hv_calloc(h, 8, 8, 0, &c)); /* the same, dirty, bytes */
    CHECK_EQ(c, a);
    CHECK(holds(h, c, 64, 0));
    const uint8_t *sh = hv_shadow(h, c, 64);
    CHECK(sh && sh[0] == HV_SH_INIT && sh[63] == HV_SH_INIT);
    /* nmemb * size overflows: NULL, no error, a FAIL(OVERFLOW) step */
    uint64_t from = hv_ring_head(h);
    hv_addr_t q = 1;
    CHECK_OK(hv_calloc(h, 1ull << 33, 1ull << 33, 0, &q));
    CHECK_EQ(q, 0);
    hv_event_t e;
    CHECK(hv_ring_get(h, from, &e));
    CHECK_EQ(e.kind, HV_EV_FAIL);
    CHECK_EQ(e.a, HV_FAIL_OVERFLOW);
    CHECK(hv_ring_get(h, from + 1, &e));
    CHECK_EQ(e.kind, HV_EV_CALLOC);
    CHECK(e.flags & HV_EVF_FAILED);
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.n_calloc, 2);
    CHECK_EQ(s.n_failed, 1);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void malloc_zero(void)
{
    hv_heap_t *h = heap();
    hv_addr_t a = t_malloc(h, 0), b = t_malloc(h, 0);
    CHECK(a && b && a != b); /* unique minimum blocks, as glibc's */
    hv_block_t blk;
    CHECK_OK(hv_block_at(h, a - 4, &blk));
    CHECK_EQ(blk.size, 16);
    CHECK_EQ(blk.requested, 0);
    t_free(h, a);
    t_free(h, b);
    CHECK_OK(hv_free(h, 0, 0, HV_FREE_CHECKED)); /* free(NULL) */
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

void test_realloc(void)
{
    null_and_zero();
    shrink();
    grow_into_neighbour();
    grow_at_break();
    move();
    fails_keeps_old();
    bad_pointers();
    calloc_cases();
    malloc_zero();
}
