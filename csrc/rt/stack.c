/* stack.c — call stacks: where a block was allocated and freed, where an
 * error happened.
 *
 * Capture.  A `heapviz cc` program is built with frame pointers, so when
 * the caller is its code the stack is a walk up the frame chain (a few
 * nanoseconds a frame).  Anything else — libc's frames, a program run by
 * LD_PRELOAD — has no frame pointers: then the CFI unwinder of libgcc
 * (_Unwind_Backtrace, the one C++ exceptions use) reads the call frame
 * information, a few microseconds a stack.  Either way the stack ends at
 * main, as valgrind's do: main's caller is the runtime's own trampoline
 * (start.c), whose frame marks the end.
 *
 * The depot keeps each distinct stack once and gives it a 32-bit id: the
 * id is what the core records as an allocation's "site", so every block
 * and event knows its full stack for the price of four bytes. */
#include "rt.h"

#include <string.h>
#include <unwind.h>

uintptr_t _hv_rt_below_main;

/* _hv_rt_below_main is the trampoline's stack pointer when it called
 * main: main's CFA.  Frames of main and its callees lie below it. */
static int on_main_stack(uintptr_t a)
{
    uintptr_t end = _hv_rt_below_main;
    return end && a >= end - (1ull << 30) && a < end + (1ull << 30);
}

/* A frame whose CFA (its caller's stack pointer at the call) is above
 * main's is the trampoline's or beyond. */
static int past_main(uintptr_t cfa)
{
    return on_main_stack(cfa) && cfa > _hv_rt_below_main;
}

/* Code with frame pointers: the instrumented program's, and heapviz's own
 * (the checked libc functions call malloc: strdup). */
static int traced_code(uintptr_t pc)
{
    return (pc >= _hv_rt.text_lo && pc < _hv_rt.text_hi) ||
           (_hv_rt.text_hi && _hv_rt_is_own_pc(pc));
}

/* The frame-pointer walk from the runtime function whose frame is `frame`
 * and whose return address is `ret`; 0 when it leaves the traced code
 * before main (the caller of a libc function, a callback from qsort): then
 * the unwinder must do it.  f[0] is the caller's frame, f[1] the return
 * address into it; a frame's CFA is f + 16. */
static int fp_walk(hv_rt_stack_t *st, const uintptr_t *frame, uintptr_t ret)
{
    st->n = 0;
    st->pc[st->n++] = ret;
    const uintptr_t *f = (const uintptr_t *)frame[0];
    while (st->n < HV_RT_FRAMES) {
        if (((uintptr_t)f & 7) || f <= frame) return 0;
        if (past_main(f[0] + 16)) return 1; /* f is main's frame */
        uintptr_t pc = f[1];
        if (!traced_code(pc)) return 0;
        st->pc[st->n++] = pc;
        frame = f;
        f = (const uintptr_t *)f[0];
    }
    return 1;
}

typedef struct unwind_state {
    hv_rt_stack_t *st;
    uintptr_t first; /* the frame to start at (frames before are ours) */
    int started;
} unwind_state_t;

static _Unwind_Reason_Code one_frame(struct _Unwind_Context *ctx, void *arg)
{
    unwind_state_t *u = arg;
    int before = 0;
    uintptr_t pc = (uintptr_t)_Unwind_GetIPInfo(ctx, &before);
    if (!pc) return _URC_END_OF_STACK;
    if (!u->started) {
        if (pc != u->first) return _URC_NO_REASON;
        u->started = 1;
    } else {
        /* libgcc gives the stack pointer of this frame at its call (the
         * callee's CFA): at main's CFA or above, this is the trampoline */
        uintptr_t sp = (uintptr_t)_Unwind_GetCFA(ctx);
        if (on_main_stack(sp) && sp >= _hv_rt_below_main)
            return _URC_END_OF_STACK;
    }
    /* a signal frame's pc is the faulting instruction, not a return
     * address: stored +1 so that every entry reads as "return address" */
    u->st->pc[u->st->n++] = before ? pc + 1 : pc;
    return u->st->n < HV_RT_FRAMES ? _URC_NO_REASON : _URC_END_OF_STACK;
}

static void unwind(hv_rt_stack_t *st, uintptr_t first)
{
    unwind_state_t u = {st, first, 0};
    st->n = 0;
    _Unwind_Backtrace(one_frame, &u);
    if (!u.started) { /* `first` never seen: at least the frame itself */
        st->n = 1;
        st->pc[0] = first;
    }
}

void _hv_rt_stack_here(hv_rt_stack_t *st, void *fp, uintptr_t ret)
{
    st->entry = NULL;
    if (traced_code(ret) && fp_walk(st, fp, ret)) return;
    unwind(st, ret);
}

void _hv_rt_stack_from(hv_rt_stack_t *st, uintptr_t pc, uintptr_t fp,
                       uintptr_t sp)
{
    (void)fp;
    (void)sp;
    st->entry = NULL;
    unwind(st, pc + 1);
}

/* ------------------------------------------------------------------------
 * The depot
 * ---------------------------------------------------------------------- */
static hv_rt_stack_t *stacks; /* stacks[id - 1] */
static uint32_t nstacks, cap;
static uint32_t *table; /* open addressing: ids, 0 empty */
static uint32_t table_mask;

static uint64_t hash(const hv_rt_stack_t *st)
{
    uint64_t h = (1469598103934665603ull ^ st->n) + (uintptr_t)st->entry;
    for (uint32_t i = 0; i < st->n; i++)
        h = (h ^ st->pc[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int same(const hv_rt_stack_t *a, const hv_rt_stack_t *b)
{
    return a->n == b->n && a->entry == b->entry &&
           !memcmp(a->pc, b->pc, a->n * sizeof a->pc[0]);
}

static int grow_table(void)
{
    uint32_t n = table_mask ? 2 * (table_mask + 1) : 4096;
    uint32_t *t = _hv_rt_pool_alloc(n * sizeof *t, 16);
    if (!t) return -1;
    memset(t, 0, n * sizeof *t);
    for (uint32_t id = 1; id <= nstacks; id++) {
        uint64_t i = hash(&stacks[id - 1]) & (n - 1);
        while (t[i])
            i = (i + 1) & (n - 1);
        t[i] = id;
    }
    _hv_rt_pool_free(table);
    table = t;
    table_mask = n - 1;
    return 0;
}

uint32_t _hv_rt_stack_intern(const hv_rt_stack_t *st)
{
    if (2 * (nstacks + 1) > table_mask && grow_table()) return 0;
    uint64_t i = hash(st) & table_mask;
    for (; table[i]; i = (i + 1) & table_mask)
        if (same(&stacks[table[i] - 1], st)) return table[i];
    if (nstacks == cap) {
        uint32_t ncap = cap ? 2 * cap : 1024;
        hv_rt_stack_t *s =
            _hv_rt_pool_realloc(stacks, (size_t)ncap * sizeof *stacks);
        if (!s) return 0;
        stacks = s;
        cap = ncap;
    }
    stacks[nstacks++] = *st;
    return table[i] = nstacks;
}

const hv_rt_stack_t *_hv_rt_stack_get(uint32_t id)
{
    return id && id <= nstacks ? &stacks[id - 1] : NULL;
}
