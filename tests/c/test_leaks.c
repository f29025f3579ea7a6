/* test_leaks.c — the leak scanner's verdicts (valgrind's four kinds) on
 * small object graphs, and the shared report words. */
#include "harness.h"

#include <stdlib.h>

/* Store pointer value v at payload p + off (user addresses). */
static void put_ptr(hv_heap_t *h, hv_addr_t p, uint64_t off, uint64_t v)
{
    uint8_t *mem;
    CHECK_OK(hv_resolve(h, p + off, 8, NULL, &mem));
    memcpy(mem, &v, 8);
}

static const hv_leak_t *leak_of(const hv_leak_scan_t *s, hv_addr_t payload)
{
    for (uint64_t i = 0; i < hv_leak_count(s); i++)
        if (hv_leak_get(s, i)->payload == payload) return hv_leak_get(s, i);
    return NULL;
}

static int kind_of(const hv_leak_scan_t *s, hv_addr_t payload)
{
    const hv_leak_t *l = leak_of(s, payload);
    return l ? l->kind : -1;
}

static void graph(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_addr_t a = t_malloc(h, 32), b = t_malloc(h, 32), c = t_malloc(h, 40);
    hv_addr_t d = t_malloc(h, 24), e = t_malloc(h, 48), f = t_malloc(h, 16);
    hv_addr_t g = t_malloc(h, 16), x = t_malloc(h, 8);
    put_ptr(h, a, 0, b);     /* a -> b (start)                  */
    put_ptr(h, b, 8, c + 8); /* b -> into c: c possibly lost    */
    put_ptr(h, d, 0, e);     /* d lost, owns e                  */
    put_ptr(h, f, 0, g);     /* f <-> g: a lost cycle           */
    put_ptr(h, g, 0, f);
    put_ptr(h, x, 0, x); /* a pointer to itself does not count  */
    hv_leak_scan_t *s;
    CHECK_OK(hv_leak_begin(h, &s));
    CHECK_EQ(hv_leak_count(s), 8);
    CHECK_EQ(hv_leak_find(s, c + 39), 2);
    CHECK_EQ(hv_leak_find(s, c + 40), -1);
    uint64_t root = a;
    hv_leak_root_range(s, &root, sizeof root);
    hv_leak_finish(s);
    CHECK_EQ(kind_of(s, a), HV_LEAK_REACHABLE);
    CHECK_EQ(kind_of(s, b), HV_LEAK_REACHABLE);
    CHECK_EQ(kind_of(s, c), HV_LEAK_POSSIBLE);
    CHECK_EQ(kind_of(s, d), HV_LEAK_DEFINITE);
    CHECK_EQ(leak_of(s, d)->indirect, 48);
    CHECK_EQ(kind_of(s, e), HV_LEAK_INDIRECT);
    CHECK_EQ(kind_of(s, f), HV_LEAK_DEFINITE); /* first in address order */
    CHECK_EQ(leak_of(s, f)->indirect, 16);
    CHECK_EQ(kind_of(s, g), HV_LEAK_INDIRECT);
    CHECK_EQ(kind_of(s, x), HV_LEAK_DEFINITE);
    for (uint64_t i = 1; i < hv_leak_count(s); i++) /* by kind, payload */
        CHECK(hv_leak_get(s, i - 1)->kind < hv_leak_get(s, i)->kind ||
              (hv_leak_get(s, i - 1)->kind == hv_leak_get(s, i)->kind &&
               hv_leak_get(s, i - 1)->payload < hv_leak_get(s, i)->payload));
    CHECK_EQ(hv_leak_find(s, a), -1); /* finished: no lookups */
    hv_leak_end(s);
    hv_heap_destroy(h);
}

/* Held blocks (the binding's Pointers): a stale allocation number is no
 * root; an interior pointer makes the block possibly lost. */
static void held_blocks(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_addr_t a = t_malloc(h, 32), b = t_malloc(h, 32), c = t_malloc(h, 64);
    hv_block_t ba, bb, bc;
    CHECK_OK(hv_block_containing(h, a, &ba));
    CHECK_OK(hv_block_containing(h, b, &bb));
    CHECK_OK(hv_block_containing(h, c, &bc));
    hv_leak_scan_t *s;
    CHECK_OK(hv_leak_begin(h, &s));
    hv_leak_root_block(s, ba.addr, ba.seq, true);
    hv_leak_root_block(s, bb.addr, bb.seq + 1, true);
    hv_leak_root_block(s, bc.addr, bc.seq, false);
    hv_leak_finish(s);
    CHECK_EQ(kind_of(s, a), HV_LEAK_REACHABLE);
    CHECK_EQ(kind_of(s, b), HV_LEAK_DEFINITE);
    CHECK_EQ(kind_of(s, c), HV_LEAK_POSSIBLE);
    hv_leak_end(s);
    hv_heap_destroy(h);
}

/* The heap's own root memory: an mmapped chunk is a block, a raw mapping
 * and the simulated stack are roots. */
static void arena_roots(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_addr_t a = t_malloc(h, 32), big = t_malloc(h, 200000), raw, obj;
    uint32_t depth;
    CHECK_OK(hv_mmap(h, 4096, 0, &raw));
    CHECK_OK(hv_frame_push(h, "main", 0, &depth));
    CHECK_OK(hv_frame_alloc(h, 16, 0, &obj));
    put_ptr(h, raw, 16, big);
    put_ptr(h, obj, 0, a + 4);
    hv_leak_scan_t *s;
    CHECK_OK(hv_leak_begin(h, &s));
    CHECK_EQ(hv_leak_count(s), 2);
    hv_leak_root_arena(s);
    hv_leak_finish(s);
    CHECK_EQ(kind_of(s, a), HV_LEAK_POSSIBLE);
    CHECK_EQ(kind_of(s, big), HV_LEAK_REACHABLE);
    CHECK_EQ(leak_of(s, big)->state, HV_BLOCK_MMAPPED);
    hv_leak_end(s);
    hv_heap_destroy(h);
}

/* Many blocks in one chain: the flood fill's work stack is bounded. */
static void long_chain(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    enum { N = 2000 };
    hv_addr_t p[N];
    for (int i = 0; i < N; i++)
        p[i] = t_malloc(h, 16);
    for (int i = 0; i + 1 < N; i++)
        put_ptr(h, p[i], 0, p[i + 1]);
    hv_leak_scan_t *s;
    CHECK_OK(hv_leak_begin(h, &s));
    hv_leak_root_value(s, p[N / 2]);
    hv_leak_finish(s);
    CHECK_EQ(kind_of(s, p[0]), HV_LEAK_DEFINITE);
    CHECK_EQ(leak_of(s, p[0])->indirect, 16 * (N / 2 - 1));
    CHECK_EQ(kind_of(s, p[N / 2 - 1]), HV_LEAK_INDIRECT);
    CHECK_EQ(kind_of(s, p[N - 1]), HV_LEAK_REACHABLE);
    hv_leak_end(s);
    hv_heap_destroy(h);
}

static void words(void)
{
    char buf[80];
    hv_where(buf, sizeof buf, 0x10058, 0x10030, 40);
    CHECK(strcmp(buf, "is 0 bytes after a block of size 40") == 0);
    hv_where(buf, sizeof buf, 0x10028, 0x10030, 40);
    CHECK(strcmp(buf, "is 8 bytes before a block of size 40") == 0);
    hv_where(buf, sizeof buf, 0x10034, 0x10030, 40);
    CHECK(strcmp(buf, "is 4 bytes inside a block of size 40") == 0);
    CHECK(hv_advice("double-free") != NULL);
    CHECK(hv_advice("no such advice") == NULL);
    CHECK(hv_advice_count() > 10);
    CHECK(strcmp(hv_advice_key(0), "null") == 0);
    CHECK(hv_advice_key(hv_advice_count()) == NULL);
    CHECK(strcmp(hv_leak_kind_name(HV_LEAK_INDIRECT), "indirectly lost") == 0);
}

void test_leaks(void)
{
    graph();
    held_blocks();
    arena_roots();
    long_chain();
    words();
}
