/* test_fit.c — first, next, best and worst fit with every list order,
 * worked out by hand.
 *
 * Layout: align 16, footers, no magic: header 4 bytes, footer 4, pad 12,
 * min block 16; malloc(n) makes a block of round_up(n + 8, 16) bytes.
 * The first block starts at offset 0xc; the initial heap (4096 bytes) is
 * one free block 0xc:4080 and the epilogue at 0xffc.  Lists are written
 * as "offset:size" in list order.
 *
 *   a = malloc(24)  block 0x0c:32     payload 0x10
 *   b = malloc(56)  block 0x2c:64     payload 0x30
 *   c = malloc(24)  block 0x6c:32     payload 0x70
 *   d = malloc(88)  block 0x8c:96     payload 0x90
 *   e = malloc(24)  block 0xec:32     payload 0xf0
 *   top             block 0x10c:3824  free
 *   free(b); free(d);  then f = malloc(24), a 32-byte block.
 */
#include "harness.h"

enum { BASE = 0x10000 };

typedef struct fit_case {
    hv_policy_t policy;
    hv_order_t order;
    const char *after_b, *after_d; /* the list after free(b), free(d)  */
    hv_addr_t f;                   /* payload of f = malloc(24)         */
    const char *after_f;           /* the list after it                 */
} fit_case_t;

/* After free(b) and free(d) the lists depend on the order only. */
#define A_B "2c:64 10c:3824"
#define A_D "2c:64 8c:96 10c:3824"
#define L_B "2c:64 10c:3824"
#define L_D "8c:96 2c:64 10c:3824"
#define F_B "10c:3824 2c:64"
#define F_D "10c:3824 2c:64 8c:96"
#define S_B "2c:64 10c:3824"
#define S_D "2c:64 8c:96 10c:3824"
#define D_B "10c:3824 2c:64"
#define D_D "10c:3824 8c:96 2c:64"

static const fit_case_t CASES[] = {
    /* first fit: the first block in list order that fits */
    {HV_POLICY_FIRST, HV_ORDER_ADDRESS, A_B, A_D, 0x30, "4c:32 8c:96 10c:3824"},
    {HV_POLICY_FIRST, HV_ORDER_LIFO, L_B, L_D, 0x90, "ac:64 2c:64 10c:3824"},
    {HV_POLICY_FIRST, HV_ORDER_FIFO, F_B, F_D, 0x110, "2c:64 8c:96 12c:3792"},
    {HV_POLICY_FIRST, HV_ORDER_SIZE, S_B, S_D, 0x30, "4c:32 8c:96 10c:3824"},
    {HV_POLICY_FIRST, HV_ORDER_SIZE_DESC, D_B, D_D, 0x110,
     "12c:3792 8c:96 2c:64"},
    /* best fit: b (64 bytes) is the smallest that fits, in every order */
    {HV_POLICY_BEST, HV_ORDER_ADDRESS, A_B, A_D, 0x30, "4c:32 8c:96 10c:3824"},
    {HV_POLICY_BEST, HV_ORDER_LIFO, L_B, L_D, 0x30, "4c:32 8c:96 10c:3824"},
    {HV_POLICY_BEST, HV_ORDER_FIFO, F_B, F_D, 0x30, "10c:3824 8c:96 4c:32"},
    {HV_POLICY_BEST, HV_ORDER_SIZE, S_B, S_D, 0x30, "4c:32 8c:96 10c:3824"},
    {HV_POLICY_BEST, HV_ORDER_SIZE_DESC, D_B, D_D, 0x30,
     "10c:3824 8c:96 4c:32"},
    /* worst fit: the top block (3824 bytes), in every order */
    {HV_POLICY_WORST, HV_ORDER_ADDRESS, A_B, A_D, 0x110,
     "2c:64 8c:96 12c:3792"},
    {HV_POLICY_WORST, HV_ORDER_LIFO, L_B, L_D, 0x110, "12c:3792 8c:96 2c:64"},
    {HV_POLICY_WORST, HV_ORDER_FIFO, F_B, F_D, 0x110, "2c:64 8c:96 12c:3792"},
    {HV_POLICY_WORST, HV_ORDER_SIZE, S_B, S_D, 0x110, "2c:64 8c:96 12c:3792"},
    {HV_POLICY_WORST, HV_ORDER_SIZE_DESC, D_B, D_D, 0x110,
     "12c:3792 8c:96 2c:64"},
    /* next fit: the rover is still on the top block, where e came from */
    {HV_POLICY_NEXT, HV_ORDER_ADDRESS, A_B, A_D, 0x110, "2c:64 8c:96 12c:3792"},
    {HV_POLICY_NEXT, HV_ORDER_LIFO, L_B, L_D, 0x110, "12c:3792 8c:96 2c:64"},
    {HV_POLICY_NEXT, HV_ORDER_FIFO, F_B, F_D, 0x110, "2c:64 8c:96 12c:3792"},
    {HV_POLICY_NEXT, HV_ORDER_SIZE, S_B, S_D, 0x110, "2c:64 8c:96 12c:3792"},
    {HV_POLICY_NEXT, HV_ORDER_SIZE_DESC, D_B, D_D, 0x110,
     "12c:3792 8c:96 2c:64"},
};

static hv_heap_t *fit_heap(hv_policy_t p, hv_order_t o)
{
    hv_config_t cfg = t_cfg(p, o);
    cfg.size = 4096;
    return t_heap(cfg);
}

static void list_is(const hv_heap_t *h, const char *want, const char *what)
{
    const char *got = t_list(h, 0);
    if (strcmp(got, want) != 0) {
        char m[512];
        snprintf(m, sizeof m, "%s: list \"%s\", expected \"%s\"", what, got,
                 want);
        t_report(__FILE__, __LINE__, m);
    } else {
        t_passed++;
    }
}

static void run_case(const fit_case_t *c)
{
    char what[64];
    snprintf(what, sizeof what, "%s/%s", hv_policy_name(c->policy),
             hv_order_name(c->order));
    hv_heap_t *h = fit_heap(c->policy, c->order);
    list_is(h, "c:4080", what);
    static const uint64_t sizes[5] = {24, 56, 24, 88, 24};
    static const hv_addr_t at[5] = {0x10, 0x30, 0x70, 0x90, 0xf0};
    hv_addr_t p[5];
    for (int i = 0; i < 5; i++) {
        p[i] = t_malloc(h, sizes[i]);
        CHECK_EQ(p[i], BASE + at[i]);
    }
    list_is(h, "10c:3824", what);
    t_free(h, p[1]);
    list_is(h, c->after_b, what);
    t_free(h, p[3]);
    list_is(h, c->after_d, what);
    CHECK(strcmp(t_blocks(h), "c:32* 2c:64 6c:32* 8c:96 ec:32* 10c:3824") ==
          0);
    CHECK_EQ(t_malloc(h, 24), BASE + c->f);
    list_is(h, c->after_f, what);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

/* Next fit in address order, following the rover:
 *   after f:            rover 0x12c (the remainder of the top block)
 *   malloc(3784) takes 0x12c:3792 whole; the rover wraps to the head 0x2c
 *   malloc(24) splits 0x2c:64 -> rover on the remainder 0x4c:32
 *   malloc(56) skips 0x4c:32, splits 0x8c:96 -> rover 0xcc:32
 *   malloc(8): next fit splits 0xcc:32 where first fit would split 0x4c. */
static void next_fit_rover(void)
{
    hv_heap_t *h = fit_heap(HV_POLICY_NEXT, HV_ORDER_ADDRESS);
    hv_addr_t p[5];
    static const uint64_t sizes[5] = {24, 56, 24, 88, 24};
    for (int i = 0; i < 5; i++)
        p[i] = t_malloc(h, sizes[i]);
    CHECK_EQ(hv_rover(h), BASE + 0x10c);
    t_free(h, p[1]);
    t_free(h, p[3]);
    CHECK_EQ(t_malloc(h, 24), BASE + 0x110);
    CHECK_EQ(hv_rover(h), BASE + 0x12c);
    CHECK_EQ(t_malloc(h, 3784), BASE + 0x130);
    CHECK_EQ(hv_rover(h), BASE + 0x2c);
    list_is(h, "2c:64 8c:96", "next rover");
    CHECK_EQ(t_malloc(h, 24), BASE + 0x30);
    CHECK_EQ(hv_rover(h), BASE + 0x4c);
    CHECK_EQ(t_malloc(h, 56), BASE + 0x90);
    CHECK_EQ(hv_rover(h), BASE + 0xcc);
    list_is(h, "4c:32 cc:32", "next rover");
    CHECK_EQ(t_malloc(h, 8), BASE + 0xd0);
    CHECK_EQ(hv_rover(h), BASE + 0xdc);
    list_is(h, "4c:32 dc:16", "next rover");
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);

    h = fit_heap(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    CHECK_EQ(hv_rover(h), 0); /* only next fit has a rover */
    hv_heap_destroy(h);
}

/* The PLACE event names the block chosen and how many entries the search
 * looked at: best fit in address order reads the whole list unless it
 * meets an exact fit. */
static void entries_searched(void)
{
    hv_heap_t *h = fit_heap(HV_POLICY_BEST, HV_ORDER_ADDRESS);
    hv_addr_t p[5];
    static const uint64_t sizes[5] = {24, 56, 24, 88, 24};
    for (int i = 0; i < 5; i++)
        p[i] = t_malloc(h, sizes[i]);
    t_free(h, p[1]);
    t_free(h, p[3]);
    uint64_t from = hv_ring_head(h);
    t_malloc(h, 24);  /* 3 entries looked at, 0x2c chosen */
    t_malloc(h, 80);  /* exact fit 0x8c:96 after 2 entries */
    hv_event_t e;
    int places = 0;
    for (uint64_t s = from; hv_ring_get(h, s, &e); s++) {
        if (e.kind != HV_EV_PLACE)
            continue;
        CHECK(e.flags & HV_EVF_SUB);
        if (places == 0) {
            CHECK_EQ(e.addr, BASE + 0x2c);
            CHECK_EQ(e.size, 64);
            CHECK_EQ(e.a, 3);
        } else {
            CHECK_EQ(e.addr, BASE + 0x8c);
            CHECK_EQ(e.a, 2);
        }
        places++;
    }
    CHECK_EQ(places, 2);
    hv_heap_destroy(h);
}

void test_fit(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        run_case(&CASES[i]);
    next_fit_rover();
    entries_searched();
}
