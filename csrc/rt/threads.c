/* threads.c — the program's threads, as the leak check needs them.
 *
 * pthread_create is wrapped so that each thread's stack is known: while
 * the thread runs it is a root like any other memory, once it has ended it
 * is not (glibc keeps the stacks of ended threads for reuse, with their
 * stale pointers; scanning them would call lost blocks reachable).  Each
 * thread also gets an alternate signal stack, so that its stack overflow
 * can be reported. */
#include "rt.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>

#define EXPORT      __attribute__((visibility("default")))
#define MAX_THREADS 1024

typedef struct thread_rec {
    uintptr_t lo, hi; /* its stack */
    pthread_t id;
    int live;
} thread_rec_t;

static thread_rec_t threads[MAX_THREADS];
static int nthreads;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct start {
    void *(*fn)(void *);
    void *arg;
} start_t;

static void ended(void *slot)
{
    pthread_mutex_lock(&lock);
    threads[(intptr_t)slot].live = 0;
    pthread_mutex_unlock(&lock);
}

static intptr_t record_self(void)
{
    pthread_attr_t attr;
    void *lo = NULL;
    size_t size = 0;
    hv_rt_depth++; /* pthread_getattr_np allocates: the pool's */
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &lo, &size);
        pthread_attr_destroy(&attr);
    }
    _hv_rt_signal_stack();
    hv_rt_depth--;
    pthread_mutex_lock(&lock);
    intptr_t slot = nthreads < MAX_THREADS ? nthreads++ : -1;
    if (slot >= 0)
        threads[slot] = (thread_rec_t){(uintptr_t)lo, (uintptr_t)lo + size,
                                       pthread_self(), 1};
    pthread_mutex_unlock(&lock);
    return slot;
}

static void *thread_main(void *p)
{
    start_t s = *(start_t *)p;
    _hv_rt_pool_free(p);
    intptr_t slot = record_self();
    void *result;
    if (slot < 0) return s.fn(s.arg);
    pthread_cleanup_push(ended, (void *)slot);
    result = s.fn(s.arg);
    pthread_cleanup_pop(1);
    return result;
}

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                         void *);

EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg)
{
    static create_fn real;
    hv_rt_depth++;
    if (!real)
        real = (create_fn)dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.34");
    if (!real) real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    start_t *s = _hv_rt_pool_alloc(sizeof *s, 16);
    hv_rt_depth--;
    if (!real || !s) return 11; /* EAGAIN */
    *s = (start_t){fn, arg};
    int err = real(t, attr, thread_main, s);
    if (err) _hv_rt_pool_free(s);
    return err;
}

void _hv_rt_thread_stacks(void (*fn)(uintptr_t lo, uintptr_t hi, int live,
                                     void *arg),
                          void *arg)
{
    for (int i = 0; i < nthreads; i++)
        fn(threads[i].lo, threads[i].hi, threads[i].live, arg);
}

int _hv_rt_threads_alive(void)
{
    int n = 0;
    pthread_t self = pthread_self();
    for (int i = 0; i < nthreads; i++)
        n += threads[i].live && !pthread_equal(threads[i].id, self);
    return n;
}

/* The number valgrind gives the thread whose stack holds addr (1: main). */
int _hv_rt_thread_of(uintptr_t addr)
{
    for (int i = 0; i < nthreads; i++)
        if (addr >= threads[i].lo && addr < threads[i].hi) return i + 2;
    return 0;
}

void _hv_rt_threads_forked(void)
{
    pthread_t self = pthread_self();
    pthread_mutex_init(&lock, NULL);
    for (int i = 0; i < nthreads; i++)
        if (!pthread_equal(threads[i].id, self)) threads[i].live = 0;
}
