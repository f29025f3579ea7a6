/* fork.c — a child gets its own heap.
 *
 * The arena is a MAP_SHARED memfd (so that the viewer can map it): after a
 * plain fork the child would write its parent's heap.  In the child the
 * arena is copied into a fresh memfd and mapped over the same addresses
 * (hv_heap_privatize), before the child runs a line of its own code: every
 * pointer it inherited stays valid and now means its own memory.  The
 * locks are held across fork, so no other thread's half-done malloc is
 * copied. */
#include "rt.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

static void prepare(void)
{
    hv_rt_depth++;
    _hv_rt_lock();
    _hv_rt_pool_hold(1);
}

static void parent(void)
{
    _hv_rt_pool_hold(0);
    _hv_rt_unlock();
    hv_rt_depth--;
}

static void child(void)
{
    _hv_rt_pool_hold(0);
    _hv_rt_lock_reset();
    _hv_rt_threads_forked();
    if (hv_heap_privatize(_hv_rt.heap) != HV_OK) {
        static const char msg[] = "==heapviz== fork: the child's copy of "
                                  "the heap could not be made\n";
        if (write(2, msg, sizeof msg - 1) < 0) _exit(127);
        _exit(127);
    }
    hv_rt_depth--;
}

void _hv_rt_fork_setup(void)
{
    pthread_atfork(prepare, parent, child);
}
