/* test_pin.c — the heap mapped at its own addresses (the C runtime's
 * heap), and a child's private copy after fork(). */
#include "harness.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

static hv_heap_t *pinned_heap(void)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.base = 0x10000;
    cfg.stack_size = 0;
    hv_heap_t *h = t_heap(cfg);
    hv_err_t err = hv_heap_pin(h, true);
    if (err) { /* something else lives at 0x10000 here (a sanitizer?) */
        fprintf(stderr, "  (test_pin: 0x10000 is taken: %s)\n",
                strerror(errno));
        hv_heap_destroy(h);
        return NULL;
    }
    return h;
}

static void pointers_are_addresses(void)
{
    hv_heap_t *h = pinned_heap();
    if (!h) return;
    bool mm = false;
    CHECK(hv_heap_pinned(h, &mm));
    CHECK(mm);
    hv_addr_t p = t_malloc(h, 100), big = t_malloc(h, 300000);
    CHECK_EQ(p, 0x10010);
    memset((void *)(uintptr_t)p, 'x', 100); /* a C program's own store */
    uint8_t *mem;
    CHECK_OK(hv_resolve(h, p, 100, NULL, &mem));
    CHECK(mem == (uint8_t *)(uintptr_t)p);
    CHECK(big >= 0x7f0000000000ull);
    memset((void *)(uintptr_t)big, 1, 300000);
    CHECK_EQ(((uint8_t *)(uintptr_t)big)[299999], 1);
    hv_addr_t grown = t_malloc(h, 200000 - 1); /* below the threshold? */
    (void)grown;
    t_free(h, big);
    CHECK_EQ(t_violations(h), 0);
    /* the pinned range is taken: a second heap cannot pin there */
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    hv_heap_t *other = t_heap(cfg);
    CHECK_EQ(hv_heap_pin(other, false), HV_ESYS);
    CHECK_EQ(errno, EEXIST);
    hv_heap_destroy(other);
    hv_heap_destroy(h);
    /* destroyed: the addresses are free again */
    h = pinned_heap();
    CHECK(h != NULL);
    hv_heap_destroy(h);
}

/* After fork the child privatizes: its writes and mallocs no longer reach
 * the parent's heap. */
static void fork_copy(void)
{
    hv_heap_t *h = pinned_heap();
    if (!h) return;
    char *p = (char *)(uintptr_t)t_malloc(h, 64);
    char *big = (char *)(uintptr_t)t_malloc(h, 200000);
    strcpy(p, "parent");
    strcpy(big, "big parent");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = hv_heap_privatize(h) == HV_OK;
        ok = ok && strcmp(p, "parent") == 0 && strcmp(big, "big parent") == 0;
        strcpy(p, "child");
        strcpy(big, "big child");
        hv_addr_t q;
        for (int i = 0; i < 50 && ok; i++)
            ok = hv_malloc(h, 1000, 0, &q) == HV_OK && q;
        ok = ok && hv_check(h, NULL, 0) == 0;
        _exit(ok ? 0 : 1);
    }
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strcmp(p, "parent") == 0);
    CHECK(strcmp(big, "big parent") == 0);
    hv_stats_t st;
    hv_stats(h, &st);
    CHECK_EQ(st.alloc_blocks, 2);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

void test_pin(void)
{
    pointers_are_addresses();
    fork_copy();
}
