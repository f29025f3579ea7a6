/* test_errors.c — free's two modes.  CHECKED validates through the side
 * table and changes nothing on a bad pointer; TRUSTING believes the header
 * like a plain C allocator, so a double free corrupts the free list and is
 * caught later, by a list check or by hv_check.  Also config validation. */
#include "harness.h"

enum { BASE = 0x10000 };

static hv_heap_t *heap(hv_order_t order)
{
    return t_heap(t_cfg(HV_POLICY_FIRST, order));
}

static void checked(void)
{
    hv_heap_t *h = heap(HV_ORDER_ADDRESS);
    hv_addr_t a = t_malloc(h, 24), b = t_malloc(h, 24), c = t_malloc(h, 24);
    const char *before = t_blocks(h);
    char snap[256];
    snprintf(snap, sizeof snap, "%s", before);
    CHECK_EQ(hv_free(h, a + 8, 0, HV_FREE_CHECKED), HV_EBADFREE);
    CHECK_EQ(hv_free(h, BASE + 0x5000, 0, HV_FREE_CHECKED), HV_EBADFREE);
    CHECK_EQ(hv_free(h, 0x1234, 0, HV_FREE_CHECKED), HV_EBADFREE);
    CHECK_EQ(hv_free(h, 0x7ffffffff000ull - 16, 0, HV_FREE_CHECKED),
             HV_EBADFREE);
    CHECK(strcmp(t_blocks(h), snap) == 0); /* nothing changed */
    t_free(h, b);
    CHECK_EQ(hv_free(h, b, 0, HV_FREE_CHECKED), HV_EDOUBLEFREE);
    t_free(h, a); /* merges with b: b's start is inside a's block now */
    CHECK_EQ(hv_free(h, b, 0, HV_FREE_CHECKED), HV_EDOUBLEFREE);
    CHECK_EQ(hv_free(h, a, 0, HV_FREE_CHECKED), HV_EDOUBLEFREE);
    CHECK_EQ(hv_free(h, a + 32, 0, HV_FREE_CHECKED), HV_EDOUBLEFREE);
    CHECK_EQ(hv_free(h, a + 16, 0, HV_FREE_CHECKED), HV_EBADFREE);
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.n_errors, 9);
    CHECK_EQ(t_violations(h), 0);
    (void)c;
    hv_heap_destroy(h);
}

/* free(a); free(b); free(a) in LIFO order: a is not at the head (b is),
 * so the cheap "fasttop" check lets it through, as glibc's would. */
static void trusting_double_free(void)
{
    hv_heap_t *h = heap(HV_ORDER_LIFO);
    hv_addr_t a = t_malloc(h, 24), x = t_malloc(h, 24);
    hv_addr_t b = t_malloc(h, 24), y = t_malloc(h, 24);
    CHECK_OK(hv_free(h, a, 0, HV_FREE_TRUSTING));
    CHECK_OK(hv_free(h, b, 0, HV_FREE_TRUSTING));
    /* at the head: caught at once, as glibc's "double free (fasttop)" */
    CHECK_EQ(hv_free(h, b, 0, HV_FREE_TRUSTING), HV_ECORRUPT);
    hv_err_t err = hv_free(h, a, 0, HV_FREE_TRUSTING);
    /* debug builds check after every operation and catch it right here */
    CHECK(err == HV_OK || err == HV_ECORRUPT);
    CHECK(t_violations(h) > 0);
    /* the list now runs a -> b -> a -> ...: the first malloc takes a, the
     * second finds b's links no longer agree */
    hv_addr_t p = 0, q = 0;
    hv_err_t e1 = hv_malloc(h, 24, 0, &p);
    hv_err_t e2 = hv_malloc(h, 24, 0, &q);
    CHECK(e1 == HV_ECORRUPT || e2 == HV_ECORRUPT);
    (void)x;
    (void)y;
    hv_heap_destroy(h);
}

/* In address order the insertion walk meets the block itself. */
static void trusting_address_order(void)
{
    hv_heap_t *h = heap(HV_ORDER_ADDRESS);
    hv_addr_t a = t_malloc(h, 24), x = t_malloc(h, 24);
    CHECK_OK(hv_free(h, a, 0, HV_FREE_TRUSTING));
    CHECK_EQ(hv_free(h, a, 0, HV_FREE_TRUSTING), HV_ECORRUPT);
    CHECK_EQ(hv_free(h, a + 3, 0, HV_FREE_TRUSTING), HV_EBADFREE);
    CHECK_EQ(hv_free(h, BASE + 0x9000, 0, HV_FREE_TRUSTING), HV_EBADFREE);
    (void)x;
    hv_heap_destroy(h);
}

typedef struct bad_cfg {
    const char *field;
    hv_config_t cfg;
} bad_cfg_t;

static bad_cfg_t spoiled(const char *field)
{
    bad_cfg_t b = {field, {0}};
    hv_config_default(&b.cfg);
    return b;
}

static void config_validation(void)
{
    bad_cfg_t cases[10];
    const char *field;
    hv_heap_t *h = NULL;
    int n = 0;
    cases[n] = spoiled("policy"), cases[n++].cfg.policy = HV_POLICY_COUNT;
    cases[n] = spoiled("order"), cases[n++].cfg.order = (hv_order_t)9;
    cases[n] = spoiled("coalesce");
    cases[n++].cfg.coalesce = (hv_coalesce_t)7;
    cases[n] = spoiled("align"), cases[n++].cfg.align = 32;
    cases[n] = spoiled("max_size"), cases[n++].cfg.max_size = 100;
    cases[n] = spoiled("size"), cases[n++].cfg.size = 1ull << 40;
    cases[n] = spoiled("base"), cases[n++].cfg.base = 0x10008;
    cases[n] = spoiled("base"), cases[n++].cfg.base = 0;
    cases[n] = spoiled("ring_capacity"), cases[n++].cfg.ring_capacity = 1000;
    cases[n] = spoiled("split_threshold");
    cases[n++].cfg.split_threshold = 1ull << 40;
    for (int i = 0; i < n; i++) {
        field = NULL;
        CHECK_EQ(hv_heap_create(&cases[i].cfg, &h, &field), HV_EINVAL);
        CHECK(h == NULL);
        CHECK(field && strcmp(field, cases[i].field) == 0);
    }
    CHECK(strcmp(hv_strerror(HV_EDOUBLEFREE), "double free") == 0);
    CHECK(strcmp(hv_strerror((hv_err_t)99), "unknown error") == 0);
    CHECK(strcmp(hv_policy_name(HV_POLICY_SEGREGATED), "segregated") == 0);
    CHECK(strcmp(hv_order_name(HV_ORDER_SIZE_DESC), "size-desc") == 0);
    CHECK(strcmp(hv_coalesce_name(HV_COALESCE_DEFERRED), "deferred") == 0);
    CHECK(strcmp(hv_block_state_name(HV_BLOCK_MMAPPED), "mmapped") == 0);
    CHECK(strcmp(hv_event_kind_name(HV_EV_SPLIT), "split") == 0);
}

static void readonly_calls(void)
{
    hv_heap_t *h = heap(HV_ORDER_ADDRESS);
    hv_heap_t *r = NULL;
    CHECK_OK(hv_heap_attach(hv_heap_fd(h), &r));
    hv_addr_t p = 1;
    CHECK_EQ(hv_malloc(r, 8, 0, &p), HV_EREADONLY);
    CHECK_EQ(p, 0);
    CHECK_EQ(hv_free(r, BASE + 0x10, 0, HV_FREE_CHECKED), HV_EREADONLY);
    CHECK_EQ(hv_sbrk(r, 8, 0, &p), HV_EREADONLY);
    uint32_t id;
    CHECK_EQ(hv_site_intern(r, "a.py", 1, "f", &id), HV_EREADONLY);
    CHECK_EQ(hv_event_record(r, &(hv_event_t){.kind = HV_EV_NOTE}),
             UINT64_MAX);
    hv_heap_destroy(r);
    hv_heap_destroy(h);
}

void test_errors(void)
{
    checked();
    trusting_double_free();
    trusting_address_order();
    config_validation();
    readonly_calls();
}
