/* test_check.c — hv_check finds damage done by hand (headers, footers,
 * bits, links, magic), counts every violation, never crashes; and a heap
 * scribbled on at random never makes any call read outside the arena
 * (run under ASan and valgrind). */
#include "harness.h"

#include <stdlib.h>

enum { BASE = 0x10000 };

static uint32_t *word(hv_heap_t *h, hv_addr_t a)
{
    uint8_t *m = NULL;
    CHECK_OK(hv_resolve(h, a, 4, NULL, &m));
    return (uint32_t *)(void *)m;
}

/* a (0xc:32) b (0x2c:64, free) c (0x6c:32) d (0x8c:96) top (0xec) */
static hv_heap_t *sample(hv_addr_t p[4], bool magic)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.magic = magic;
    hv_heap_t *h = t_heap(cfg);
    static const uint64_t sizes[4] = {24, 56, 24, 88};
    for (int i = 0; i < 4; i++)
        p[i] = t_malloc(h, magic ? sizes[i] - 4 : sizes[i]);
    t_free(h, p[1]);
    CHECK_EQ(t_violations(h), 0);
    return h;
}

static bool says(const hv_violation_t *v, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        if (strstr(v[i].what, what))
            return true;
    return false;
}

static int blocks_seen(const hv_block_t *b, void *arg)
{
    (void)b;
    ++*(int *)arg;
    return 0;
}

static void damaged_size(void)
{
    hv_addr_t p[4];
    hv_heap_t *h = sample(p, false);
    *word(h, BASE + 0x6c) = 0x7ffffff1; /* c's size leads far outside */
    hv_violation_t v[8];
    int n = hv_check(h, v, 8);
    CHECK(n >= 1);
    CHECK(says(v, n < 8 ? n : 8, "outside the heap"));
    int seen = 0;
    hv_walk(h, blocks_seen, &seen);
    CHECK_EQ(seen, 2); /* a and b, then the walk stops safely */
    hv_stats_t s;
    hv_stats(h, &s);
    hv_block_t b;
    CHECK_EQ(hv_block_containing(h, BASE + 0x200, &b), HV_EFAULT);
    CHECK_EQ(hv_free(h, p[2], 0, HV_FREE_TRUSTING), HV_ECORRUPT);
    CHECK_EQ(hv_free(h, p[2], 0, HV_FREE_CHECKED), HV_ECORRUPT);
    hv_heap_destroy(h);
}

static void damaged_tags(void)
{
    hv_addr_t p[4];
    hv_heap_t *h = sample(p, false);
    hv_violation_t v[8];
    *word(h, BASE + 0x2c + 60) ^= 0x40; /* b's footer */
    int n = hv_check(h, v, 8);
    CHECK_EQ(n, 1);
    CHECK(says(v, n, "footer"));
    CHECK_EQ(v[0].addr, BASE + 0x2c);
    *word(h, BASE + 0x2c + 60) ^= 0x40;
    *word(h, BASE + 0x6c) |= 2; /* c claims b is allocated */
    *word(h, BASE + 0x6c + 28) |= 2;
    n = hv_check(h, v, 8);
    CHECK_EQ(n, 1);
    CHECK(says(v, n, "prev-allocated"));
    *word(h, BASE + 0x6c) &= ~2u;
    *word(h, BASE + 0x6c + 28) &= ~2u;
    CHECK_EQ(hv_check(h, v, 8), 0);
    /* b's next link at c, an allocated block */
    *word(h, BASE + 0x2c + 4) = 0x6c;
    n = hv_check(h, v, 8);
    CHECK(n >= 1);
    CHECK(says(v, n < 8 ? n : 8, "not a free block"));
    /* a cycle: b's next link back at b */
    *word(h, BASE + 0x2c + 4) = 0x2c;
    n = hv_check(h, v, 8);
    CHECK(n >= 1);
    hv_addr_t q;
    hv_err_t err = hv_malloc(h, 4000, 0, &q); /* must stop, not spin */
    CHECK(err == HV_ECORRUPT || err == HV_OK);
    /* at most `max` sentences, all of them counted */
    CHECK_EQ(hv_check(h, v, 1), hv_check(h, NULL, 0));
    hv_heap_destroy(h);
}

static void damaged_magic(void)
{
    hv_addr_t p[4];
    hv_heap_t *h = sample(p, true);
    hv_layout_t l;
    hv_heap_layout(h, &l);
    CHECK_EQ(l.header_size, 8);
    CHECK_EQ(l.heap_pad, 8);
    hv_block_t b;
    CHECK_OK(hv_block_containing(h, p[0], &b));
    CHECK_EQ(b.magic, 0x4856424B);
    *word(h, b.addr + 4) = 0xdeadbeef;
    hv_violation_t v[4];
    int n = hv_check(h, v, 4);
    CHECK_EQ(n, 1);
    CHECK(says(v, n, "magic"));
    hv_heap_destroy(h);
}

/* "report" mode in the binding lets a write run past a block: it lands on
 * the next header, and the allocator's own checks find it. */
static void overflow(void)
{
    hv_addr_t p[4];
    hv_heap_t *h = sample(p, false);
    uint8_t *m;
    CHECK_OK(hv_resolve(h, p[2], 40, NULL, &m)); /* c holds 24, then d */
    memset(m, 'A', 40);
    CHECK(t_violations(h) > 0);
    CHECK_EQ(hv_free(h, p[3], 0, HV_FREE_CHECKED), HV_ECORRUPT);
    CHECK_EQ(hv_free(h, p[2], 0, HV_FREE_CHECKED), HV_ECORRUPT);
    hv_heap_destroy(h);
}

/* Scribble on the heap's metadata at random and call everything: no call
 * may crash or read outside the arena (ASan/valgrind watch). */
static void scribbles(void)
{
    uint64_t x = 159876543;
    int rounds = t_quick ? 30 : 600;
    for (int r = 0; r < rounds; r++) {
        hv_config_t cfg = t_cfg((hv_policy_t)(r % HV_POLICY_COUNT),
                                (hv_order_t)(r / 7 % HV_ORDER_COUNT));
        cfg.coalesce = (hv_coalesce_t)(r / 3 % HV_COALESCE_COUNT);
        hv_heap_t *h = t_heap(cfg);
        hv_addr_t p[32] = {0};
        for (int i = 0; i < 32; i++)
            hv_malloc(h, 8 + (i * 37) % 300, 0, &p[i]);
        for (int i = 0; i < 32; i += 3)
            hv_free(h, p[i], 0, HV_FREE_CHECKED), p[i] = 0;
        uint8_t *heap;
        uint64_t brk = hv_brk(h) - BASE;
        CHECK_OK(hv_resolve(h, BASE, brk, NULL, &heap));
        for (int k = 0; k < 1 + r % 6; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t at = (x % (brk / 4)) * 4;
            /* garbage, or a plausible offset, size or flag change */
            uint32_t val = (uint32_t)(x >> 32);
            if (k % 3 == 1)
                val = (uint32_t)((x >> 40) % brk) & ~3u;
            else if (k % 3 == 2)
                memcpy(&val, heap + at, 4), val ^= 1u << (x >> 60);
            memcpy(heap + at, &val, 4);
        }
        hv_check(h, NULL, 0);
        for (int i = 0; i < 32; i++) {
            hv_addr_t q;
            hv_block_t b;
            hv_block_containing(h, BASE + (x + i * 52) % brk, &b);
            hv_free(h, p[i], 0, (hv_free_mode_t)(i & 1));
            hv_malloc(h, (i * 53) % 500, 0, &q);
            hv_realloc(h, q, 700, 0, HV_FREE_TRUSTING, &q);
        }
        hv_stats_t s;
        hv_stats(h, &s);
        for (int l = 0; l < hv_free_list_count(h); l++)
            hv_walk_free_list(h, l, blocks_seen, &(int){0});
        hv_check(h, NULL, 0);
        hv_heap_destroy(h);
    }
    CHECK(1); /* reaching here is the test */
}

void test_check(void)
{
    damaged_size();
    damaged_tags();
    damaged_magic();
    overflow();
    scribbles();
}
