/* test_segregated.c — size classes, the lists free blocks go on, near
 * best fit placement, the wilderness kept for last, large requests placed
 * at the back of the block they split. */
#include "harness.h"

enum { BASE = 0x10000 };

static hv_heap_t *heap(void)
{
    hv_config_t cfg = t_cfg(HV_POLICY_SEGREGATED, HV_ORDER_ADDRESS);
    return t_heap(cfg);
}

static void classes(void)
{
    hv_heap_t *h = heap();
    uint64_t lo, hi;
    CHECK(hv_free_list_count(h) > 100);
    hv_free_list_range(h, 5, &lo, &hi);
    CHECK(lo == 80 && hi == 95);
    hv_free_list_range(h, 16, &lo, &hi);
    CHECK(lo == 256 && hi == 271);
    hv_free_list_range(h, 79, &lo, &hi);
    CHECK(lo == 3968 && hi == 4095);
    hv_free_list_range(h, 1000, &lo, &hi);
    CHECK(lo == 0 && hi == 0);
    /* every class follows the last without a gap */
    uint64_t prev_hi = 15;
    bool contiguous = true;
    for (int l = 1; l < hv_free_list_count(h); l++) {
        hv_free_list_range(h, l, &lo, &hi);
        contiguous &= lo == prev_hi + 1 && hi >= lo;
        prev_hi = hi;
    }
    CHECK(contiguous);
    /* the initial free block, 4080 bytes, sits on class 79 */
    CHECK(strcmp(t_list(h, 79), "c:4080") == 0);
    hv_block_t b;
    CHECK_OK(hv_block_containing(h, BASE + 0x100, &b));
    CHECK_EQ(b.list, 79);
    hv_heap_destroy(h);
}

static hv_addr_t placed_at(const hv_heap_t *h, uint64_t from)
{
    hv_event_t e;
    for (uint64_t s = from; hv_ring_get(h, s, &e); s++)
        if (e.kind == HV_EV_PLACE)
            return e.addr;
    return 0;
}

static void placement(void)
{
    hv_heap_t *h = heap();
    hv_addr_t p[8];
    /* blocks of 64, 16, 48, 16, 160, 16, 96, 16 bytes */
    static const uint64_t n[8] = {56, 8, 40, 8, 152, 8, 88, 8};
    for (int i = 0; i < 8; i++)
        p[i] = t_malloc(h, n[i]);
    hv_block_t b64, b48, b160, b96;
    CHECK_OK(hv_block_containing(h, p[0], &b64));
    CHECK_OK(hv_block_containing(h, p[2], &b48));
    CHECK_OK(hv_block_containing(h, p[4], &b160));
    CHECK_OK(hv_block_containing(h, p[6], &b96));
    for (int i = 0; i < 8; i += 2)
        t_free(h, p[i]);
    CHECK_EQ(t_violations(h), 0);
    char want[64];
    snprintf(want, sizeof want, "%llx:64",
             (unsigned long long)(b64.addr - BASE));
    CHECK(strcmp(t_list(h, 4), want) == 0);
    /* exact class, exact size */
    uint64_t from = hv_ring_head(h);
    t_malloc(h, 40);
    CHECK_EQ(placed_at(h, from), b48.addr);
    /* 112 bytes: class 7 is empty; the next non-empty class (96 is below,
     * 160 above) holds the 160-byte block */
    from = hv_ring_head(h);
    t_malloc(h, 104);
    CHECK_EQ(placed_at(h, from), b160.addr);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

/* The top block is taken only when nothing else fits.  Blocks of 256
 * bytes (not above the starting mean) all go at the front. */
static void wilderness(void)
{
    hv_heap_t *h = heap();
    hv_addr_t p[15];
    for (int i = 0; i < 15; i++)
        p[i] = t_malloc(h, 248);
    CHECK(strcmp(t_list(h, 15), "f0c:240") == 0); /* the top, class 15 */
    t_free(h, p[3]);                               /* 0x30c:256 */
    uint64_t from = hv_ring_head(h);
    t_malloc(h, 200); /* 208: the top would do, the 256 is taken */
    CHECK_EQ(placed_at(h, from), BASE + 0x30c);
    CHECK(strcmp(t_list(h, 15), "f0c:240") == 0);
    from = hv_ring_head(h);
    t_malloc(h, 200); /* now only the top fits */
    CHECK_EQ(placed_at(h, from), BASE + 0xf0c);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

/* Requests above the running mean go to the back of the block they
 * split, smaller ones to the front. */
static void back_placement(void)
{
    hv_heap_t *h = heap();
    for (int i = 0; i < 4; i++)
        t_malloc(h, 24);
    hv_addr_t big = t_malloc(h, 400);
    hv_block_t b;
    CHECK_OK(hv_block_containing(h, big, &b));
    CHECK_EQ(b.addr + b.size, hv_brk(h) - 4); /* the end of the heap */
    hv_addr_t small = t_malloc(h, 24);
    CHECK_EQ(small, BASE + 0x10 + 4 * 32);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

void test_segregated(void)
{
    classes();
    placement();
    wilderness();
    back_placement();
}
