/* start.c — around main, as valgrind sees a run end.
 *
 * The runtime wraps __libc_start_main so that main is called from a
 * trampoline of its own: its frame marks where stacks end (valgrind shows
 * nothing below main) and, once main has returned, where the stack roots
 * of the leak check begin — main's dead frame is no root, so a pointer
 * left in it does not turn a lost block into a reachable one.
 *
 * The end of the run is an on_exit handler registered at start-up, so it
 * runs last, after the program's own atexit handlers and destructors, with
 * the exit status: __libc_freeres() first, as valgrind does (libc gives
 * back its stdio buffers and caches, after flushing them), then the leak
 * check, HEAP and LEAK SUMMARY, ERROR SUMMARY, and --error-exitcode. */
#include "rt.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef int (*main_fn)(int, char **, char **);
typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void),
                        void (*)(void), void *);

static main_fn real_main;

extern void __libc_freeres(void);

__attribute__((noinline)) static int trampoline(int argc, char **argv,
                                                char **envp)
{
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp)); /* main's CFA-to-be */
    _hv_rt_below_main = sp;
    int status = real_main(argc, argv, envp);
    _hv_rt_below_main = 0;
    _hv_rt.below_main_sp = (uintptr_t)__builtin_frame_address(0);
    _hv_rt.main_returned = 1;
    __asm__ volatile("" ::: "memory"); /* no tail call: keep the frame */
    return status;
}

EXPORT int __libc_start_main(main_fn main, int argc, char **argv,
                             void (*init)(void), void (*fini)(void),
                             void (*rtld_fini)(void), void *stack_end)
{
    hv_rt_depth++;
    start_fn real =
        (start_fn)dlvsym(RTLD_NEXT, "__libc_start_main", "GLIBC_2.34");
    if (!real) real = (start_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    hv_rt_depth--;
    if (!real) _exit(127);
    real_main = main;
    return real(trampoline, argc, argv, init, fini, rtld_fini, stack_end);
}

int _hv_rt_finish(int status, uintptr_t sp, const uintptr_t *regs, int nregs)
{
    _hv_rt.exiting = 1;
    if (!_hv_rt_opts.quiet) _hv_rt_out("%s", "");
    int others = _hv_rt_threads_alive();
    if (others)
        _hv_rt_out("(%d other thread%s still running at exit: the leak check "
                   "read their memory as it was, without stopping them)",
                   others, others == 1 ? " was" : "s were");
    _hv_rt_out_flush();
    _hv_rt_quarantine_flush(); /* held back, not leaked */
    _hv_rt_leak_check(sp, regs, nregs);
    return _hv_rt_error_summary(status);
}

static void at_exit(int status, void *arg)
{
    (void)arg;
    if (_hv_rt.exiting || _hv_rt.state != 2) return;
    __libc_freeres(); /* its frees must reach the heap: depth 0 */
    hv_rt_depth++;
    _hv_rt_lock();
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    int code = _hv_rt_finish(
        status, _hv_rt.main_returned ? _hv_rt.below_main_sp : here, NULL, 0);
    _hv_rt_unlock();
    hv_rt_depth--;
    if (code != status) _exit(code);
}

/* Programs that end with _exit (mawk does) get their leak check too, as
 * under valgrind, which sees the exit system call.  libc's buffers are
 * given back only in the process that started: a forked child calls
 * _exit precisely so as not to flush its parent's buffered output. */
typedef void (*exit_fn)(int);

static _Noreturn void end_now(int status, const char *name)
{
    if (_hv_rt.state == 2 && !_hv_rt.exiting && hv_rt_depth == 0) {
        if (getpid() == _hv_rt.pid) __libc_freeres();
        hv_rt_depth++;
        _hv_rt_lock();
        status = _hv_rt_finish(status, (uintptr_t)__builtin_frame_address(0),
                               NULL, 0);
        _hv_rt_unlock();
        hv_rt_depth--;
    }
    hv_rt_depth++;
    exit_fn real = (exit_fn)dlsym(RTLD_NEXT, name);
    if (real) real(status);
    for (;;)
        raise(SIGKILL);
}

EXPORT void _exit(int status)
{
    end_now(status, "_exit");
}

EXPORT void _Exit(int status)
{
    end_now(status, "_Exit");
}

_Noreturn void _hv_rt_die(int sig, uintptr_t sp, const uintptr_t *regs,
                          int nregs)
{
    if (!_hv_rt.exiting)
        _hv_rt_finish(0, sp ? sp : (uintptr_t)__builtin_frame_address(0), regs,
                      nregs);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

void _hv_rt_start_setup(void)
{
    on_exit(at_exit, NULL);
}
