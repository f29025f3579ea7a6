/* test_shadow.c — the per-byte states the allocator writes: metadata,
 * free, uninitialised up to the request, slack after it; kept across
 * realloc; calloc initialised; off when cfg.shadow is false. */
#include "harness.h"

enum { BASE = 0x10000 };

static bool all(const uint8_t *s, uint64_t n, uint8_t st)
{
    for (uint64_t i = 0; i < n; i++)
        if (s[i] != st)
            return false;
    return true;
}

static void states(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    const uint8_t *s = hv_shadow(h, BASE, 4096);
    CHECK(s != NULL);
    CHECK(all(s, 12, HV_SH_META));           /* alignment pad        */
    CHECK(all(s + 0xc, 12, HV_SH_META));     /* header + links        */
    CHECK(all(s + 0x18, 4064, HV_SH_FREE));  /* free body             */
    CHECK(all(s + 0xff8, 8, HV_SH_META));    /* footer, epilogue      */
    CHECK(hv_shadow(h, BASE + 4096, 16)[0] == HV_SH_UNMAPPED);
    hv_addr_t p = t_malloc(h, 10); /* block 0xc:32 */
    CHECK(all(s + 0xc, 4, HV_SH_META));
    CHECK(all(s + 0x10, 10, HV_SH_UNINIT));
    CHECK(all(s + 0x1a, 14, HV_SH_SLACK));
    CHECK(all(s + 0x28, 4, HV_SH_META));     /* its footer            */
    CHECK(all(s + 0x2c, 12, HV_SH_META));    /* the rest's header     */
    CHECK(all(s + 0x38, 16, HV_SH_FREE));
    hv_shadow_set(h, p, 4, HV_SH_INIT);      /* the binding's store   */
    hv_addr_t q = 0;
    CHECK_OK(hv_realloc(h, p, 20, 0, HV_FREE_CHECKED, &q));
    CHECK_EQ(q, p);
    CHECK(all(s + 0x10, 4, HV_SH_INIT));     /* kept                  */
    CHECK(all(s + 0x14, 16, HV_SH_UNINIT));  /* the rest of 20        */
    CHECK(all(s + 0x24, 4, HV_SH_SLACK));
    hv_addr_t r = t_malloc(h, 24); /* 0x2c:32: p cannot grow in place */
    CHECK_OK(hv_realloc(h, p, 60, 0, HV_FREE_CHECKED, &q));
    CHECK(q != p);
    const uint8_t *sq = hv_shadow(h, q, 60);
    CHECK(all(sq, 4, HV_SH_INIT));           /* copied with the bytes */
    CHECK(all(sq + 4, 56, HV_SH_UNINIT));
    CHECK(all(s + 0x18, 16, HV_SH_FREE));    /* p's old block         */
    t_free(h, r);
    hv_addr_t c = 0;
    CHECK_OK(hv_calloc(h, 3, 8, 0, &c));
    CHECK(all(hv_shadow(h, c, 24), 24, HV_SH_INIT));
    hv_shadow_copy(h, c, q, 8);              /* memmove semantics     */
    CHECK(all(hv_shadow(h, c, 4), 4, HV_SH_INIT));
    CHECK(all(hv_shadow(h, c + 4, 4), 4, HV_SH_UNINIT));
    CHECK(hv_shadow(h, 0x1000, 4) == NULL);  /* outside every region  */
    hv_heap_destroy(h);
}

static void chunk_states(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_addr_t p = t_malloc(h, 200000);
    const uint8_t *s = hv_shadow(h, p - 16, 200704);
    CHECK(all(s, 16, HV_SH_META));
    CHECK(all(s + 16, 200000, HV_SH_UNINIT));
    CHECK(all(s + 200016, 200704 - 200016, HV_SH_SLACK));
    t_free(h, p);
    CHECK(all(s, 200704, HV_SH_UNMAPPED));
    hv_heap_destroy(h);
}

static void off(void)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.shadow = false;
    hv_heap_t *h = t_heap(cfg);
    hv_addr_t p = t_malloc(h, 10);
    CHECK(all(hv_shadow(h, p, 10), 10, HV_SH_UNMAPPED)); /* not kept */
    hv_shadow_set(h, p, 4, HV_SH_INIT);
    CHECK(all(hv_shadow(h, p, 4), 4, HV_SH_UNMAPPED));
    hv_heap_destroy(h);
}

void test_shadow(void)
{
    states();
    chunk_states();
    off();
}
