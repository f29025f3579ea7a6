/* signals.c — a fatal signal, reported as valgrind reports it:
 *
 *   Process terminating with default action of signal 11 (SIGSEGV)
 *    Access not within mapped region at address 0x0
 *      at 0x109156: main (null.c:6)
 *
 * then the leak check and the summaries, and then the process dies by the
 * same signal (its parent sees what it would have seen natively).  The
 * handler runs on an alternate stack, so a stack overflow is reported too.
 * Handlers are installed only where the program left the default action,
 * and a program that installs its own replaces them. */
#include "rt.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static const int FATAL[] = {SIGSEGV, SIGBUS,  SIGFPE, SIGILL,
                            SIGABRT, SIGTRAP, SIGSYS};

static const char *event_of(int sig, int code)
{
    switch (sig) {
    case SIGSEGV:
        return code == SEGV_MAPERR   ? "Access not within mapped region"
               : code == SEGV_ACCERR ? "Bad permissions for mapped region"
               : code == SI_KERNEL   ? "General Protection Fault"
                                     : NULL;
    case SIGFPE:
        return code == FPE_INTDIV   ? "Integer divide by zero"
               : code == FPE_INTOVF ? "Integer overflow"
               : code == FPE_FLTDIV ? "FP divide by zero"
               : code == FPE_FLTINV ? "FP invalid operation"
                                    : NULL;
    case SIGILL:
        return code == ILL_ILLOPC   ? "Illegal opcode"
               : code == ILL_ILLOPN ? "Illegal operand"
               : code == ILL_PRVOPC ? "Privileged opcode"
                                    : NULL;
    case SIGBUS:
        return code == BUS_ADRALN   ? "Invalid address alignment"
               : code == BUS_ADRERR ? "Non-existent physical address"
                                    : NULL;
    }
    return NULL;
}

static const char *advice_of(int sig, uintptr_t addr)
{
    if (sig != SIGSEGV) return NULL;
    if (addr < 4096) return "null";
    return _hv_rt_in_arena(addr) ? "segv" : "wild";
}

static void raw(const char *s)
{
    if (write(2, s, strlen(s)) < 0) return;
}

/* Another thread may be inside malloc: wait for it a little. */
static int take_lock(void)
{
    for (int i = 0; i < 200; i++) {
        if (_hv_rt_trylock()) return 1;
        usleep(5000);
    }
    return 0;
}

static void report(int sig, const siginfo_t *info, const ucontext_t *uc,
                   const hv_rt_stack_t *st)
{
    uintptr_t addr = (uintptr_t)info->si_addr;
    int kernel = info->si_code > 0;
    if (kernel && hv_rt_map.instrumented) _hv_rt_fault_access(addr, st);
    if (!kernel) return; /* abort(), kill: valgrind says nothing here */
    const char *event = event_of(sig, info->si_code);
    _hv_rt_out("%s", "");
    _hv_rt_out("Process terminating with default action of signal %d (SIG%s)",
               sig, sigabbrev_np(sig));
    if (event && info->si_code == SI_KERNEL)
        _hv_rt_out(" %s", event);
    else if (event)
        _hv_rt_out(" %s at address 0x%lX", event, (unsigned long)addr);
    _hv_rt_out_stack(st, NULL);
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    if (sig == SIGSEGV && addr < sp && sp - addr < 65536 && addr + 4096 > 4096)
        _hv_rt_out(" (the address is just below the stack pointer: most "
                   "likely a stack overflow, a recursion that never ends)");
    const char *advice = advice_of(sig, addr);
    if (advice) {
        _hv_rt_out("%s", "");
        _hv_rt_out_text(hv_advice(advice));
    }
    _hv_rt_out("%s", "");
    _hv_rt_out_flush();
}

static void on_fatal(int sig, siginfo_t *info, void *ctx)
{
    const ucontext_t *uc = ctx;
    if (hv_rt_depth > 0 || _hv_rt.state != 2) {
        char line[160];
        snprintf(line, sizeof line,
                 "==heapviz== signal %d (SIG%s) inside heapviz's runtime: "
                 "a bug in heapviz, not in the program\n",
                 sig, sigabbrev_np(sig));
        raw(line);
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    hv_rt_depth++;
    const greg_t *g = uc->uc_mcontext.gregs;
    uintptr_t regs[NGREG];
    for (int i = 0; i < NGREG; i++)
        regs[i] = (uintptr_t)g[i];
    hv_rt_stack_t st;
    _hv_rt_stack_from(&st, (uintptr_t)g[REG_RIP], (uintptr_t)g[REG_RBP],
                      (uintptr_t)g[REG_RSP]);
    if (!take_lock()) {
        raw("==heapviz== (another thread holds the heap: no leak check)\n");
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    report(sig, info, uc, &st);
    _hv_rt_die(sig, (uintptr_t)g[REG_RSP], regs, NGREG);
}

void _hv_rt_signal_stack(void)
{
    const size_t size = 64 * 1024;
    stack_t ss = {.ss_sp = _hv_rt_pool_alloc(size, 16), .ss_size = size};
    if (ss.ss_sp) sigaltstack(&ss, NULL);
}

void _hv_rt_signals_setup(void)
{
    _hv_rt_signal_stack();
    for (size_t i = 0; i < sizeof FATAL / sizeof FATAL[0]; i++) {
        struct sigaction old, sa = {.sa_sigaction = on_fatal,
                                    .sa_flags = SA_SIGINFO | SA_ONSTACK};
        sigemptyset(&sa.sa_mask);
        if (sigaction(FATAL[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(FATAL[i], &sa, NULL);
    }
}
