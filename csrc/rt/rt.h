/* rt.h — the C runtime's private names (libheapviz_rt.so).
 *
 * The runtime runs a real C program on heapviz's allocator: it defines the
 * malloc family over a pinned heapviz heap (the heap at its own addresses,
 * so a C pointer is the address the pictures show), reports what goes
 * wrong in valgrind memcheck's words, and checks for leaks at exit.  It is
 * plain C over the core (csrc/core) and never includes Python.h.
 *
 *   pool.c      the runtime's own memory (never the student's heap)
 *   options.c   HEAPVIZ_OPTIONS: the heap options `heapviz run` takes
 *   init.c      start-up: the heap, its pinning, process hygiene
 *   malloc.c    the malloc family, under one lock
 *   quarantine.c freed blocks held back (option quarantine=BYTES)
 *   fork.c      a child gets its own copy of the heap
 *   stack.c     call stacks: capture (frame pointers or CFI) and a depot
 *   symbols.c   pc -> function (file.c:LINE), in process, by libbacktrace
 *   out.c       the ==heapviz== lines on stderr
 *   describe.c  "Address 0x… is 4 bytes after a block of size 40 alloc'd"
 *   report.c    error reports, their explanation, counting, dedupe
 *   access.c    the judgement of a heapviz cc program's loads and stores
 *   leakcheck.c the roots of a C process and the leak report
 *   signals.c   fatal signals reported as valgrind does
 *   start.c     around main: the leak check after main and on exit()
 *   threads.c   thread stacks, for the leak check
 *
 * Names here are `_hv_rt_`; the symbols the .so exports are the C library's
 * own (malloc, free, …, __libc_start_main) and the `hv_rt_` API of
 * include/heapviz/rt.h for the instrumentation library (csrc/rt/cc). */
#ifndef HEAPVIZ_RT_H
#define HEAPVIZ_RT_H

#include "heapviz/heapviz.h"
#include "heapviz/rt.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define HV_RT_HIDDEN __attribute__((visibility("hidden")))
#define HV_RT_TLS    __attribute__((tls_model("initial-exec")))

/* ------------------------------------------------------------------------
 * options.c
 * ---------------------------------------------------------------------- */
enum { HV_RT_LEAK_NO = 0, HV_RT_LEAK_SUMMARY, HV_RT_LEAK_FULL };

typedef struct hv_rt_opts {
    hv_config_t cfg;
    int checks;           /* HV_RT_CHECKS_*                               */
    int leak_check;       /* HV_RT_LEAK_*                                 */
    unsigned show_kinds;  /* bit k: loss records of hv_leak_kind_t k shown */
    unsigned error_kinds; /* bit k: kind k counts as an error             */
    int error_exitcode;   /* exit status when errors were found (0: none) */
    int trace_children;   /* keep LD_PRELOAD for the program's children   */
    int quiet;            /* no banner; summaries only when something is
                             wrong                                         */
    int max_size_given;   /* the user chose max_size (else it may shrink
                             to fit below the program's own mappings)     */
    int mmap_given;       /* the user chose mmap_threshold               */
    uint64_t quarantine;  /* bytes of freed blocks held back (0: none)   */
} hv_rt_opts_t;

extern hv_rt_opts_t _hv_rt_opts HV_RT_HIDDEN;

/* Parse "name=value:name=value" into o (defaults first).  On a bad option:
 * -1 and a sentence in err. */
int _hv_rt_parse_options(const char *text, hv_rt_opts_t *o, char *err,
                         size_t n) HV_RT_HIDDEN;

/* ------------------------------------------------------------------------
 * pool.c — memory for the runtime itself and for what it is asked for while
 * busy (the core's tables, libc's bookkeeping during start-up): a reserved
 * region of its own, never the student's heap.
 * ---------------------------------------------------------------------- */
void *_hv_rt_pool_alloc(size_t n, size_t align) HV_RT_HIDDEN;
void *_hv_rt_pool_realloc(void *p, size_t n) HV_RT_HIDDEN;
void _hv_rt_pool_free(void *p) HV_RT_HIDDEN;
int _hv_rt_pool_owns(const void *p) HV_RT_HIDDEN;
size_t _hv_rt_pool_size(const void *p) HV_RT_HIDDEN;
void _hv_rt_pool_span(uintptr_t *lo, uintptr_t *hi) HV_RT_HIDDEN;
void _hv_rt_pool_hold(int on) HV_RT_HIDDEN; /* its lock, around fork */

/* ------------------------------------------------------------------------
 * init.c / malloc.c — the state and the lock
 * ---------------------------------------------------------------------- */
typedef struct hv_rt {
    hv_heap_t *heap;   /* NULL until start-up made it             */
    int state;         /* 0 not started, 1 starting, 2 ready,
                          3 failed (allocations from the pool)     */
    uintptr_t text_lo; /* the instrumented program's code         */
    uintptr_t text_hi;
    uint64_t errors;      /* errors reported (ERROR SUMMARY)          */
    uint64_t contexts;    /* of which distinct                       */
    uint64_t bytes_alloc; /* bytes asked for by every allocation     */
    uint64_t n_alloc, n_free;
    int exiting;             /* the leak check has run (or is running) */
    int main_returned;       /* main returned: its frame is dead        */
    uintptr_t below_main_sp; /* the stack pointer main was called with */
    const char *clamped;     /* why max_size was cut down (or NULL)     */
    char command[256];       /* argv, for the banner                    */
    int pid;                 /* the process that started the runtime     */
} hv_rt_t;

extern hv_rt_t _hv_rt HV_RT_HIDDEN;
/* hv_rt_depth (heapviz/rt.h) > 0: this thread runs runtime code; its
 * allocations go to the pool. */

void _hv_rt_start(void) HV_RT_HIDDEN; /* idempotent; from any entry */
void _hv_rt_lock(void) HV_RT_HIDDEN;
void _hv_rt_unlock(void) HV_RT_HIDDEN;
int _hv_rt_trylock(void) HV_RT_HIDDEN;
void _hv_rt_lock_reset(void) HV_RT_HIDDEN; /* a fork child's */
/* Die as a program that got signal sig would, after the leak check and
 * the summaries (the caller holds the lock; sp/regs: the roots of the
 * dying thread, 0/NULL for here). */
_Noreturn void _hv_rt_die(int sig, uintptr_t sp, const uintptr_t *regs,
                          int nregs) HV_RT_HIDDEN;
/* Each over-aligned block: the pointer handed out, the block's payload,
 * the bytes asked for. */
void _hv_rt_aliases(void (*fn)(uintptr_t aligned, uintptr_t payload,
                               uint64_t size, void *arg),
                    void *arg) HV_RT_HIDDEN;
/* Is p a heap address (the heap or the mmap region)? */
static inline int _hv_rt_in_arena(uintptr_t p)
{
    return p - hv_rt_map.heap_lo < hv_rt_map.heap_len ||
           (hv_rt_map.mmap_lo && p - hv_rt_map.mmap_lo < hv_rt_map.mmap_len);
}

/* ------------------------------------------------------------------------
 * quarantine.c — freed blocks held back (option quarantine=BYTES)
 * ---------------------------------------------------------------------- */
/* free(p) of a live block, held back: 1 (else 0: free it now). */
int _hv_rt_quarantine_hold(uintptr_t p, uint32_t free_site) HV_RT_HIDDEN;
int _hv_rt_quarantined(uintptr_t p) HV_RT_HIDDEN;
void _hv_rt_quarantine_flush(void) HV_RT_HIDDEN; /* before the leak check */
/* " Address … free'd" for an address in a held block (1), else 0. */
int _hv_rt_quarantine_describe(uintptr_t addr) HV_RT_HIDDEN;

/* ------------------------------------------------------------------------
 * fork.c
 * ---------------------------------------------------------------------- */
void _hv_rt_fork_setup(void) HV_RT_HIDDEN;

/* ------------------------------------------------------------------------
 * stack.c — call stacks
 * ---------------------------------------------------------------------- */
#define HV_RT_FRAMES 16

typedef struct hv_rt_stack {
    const char *entry; /* the runtime function it starts in ("malloc"), or
                          NULL for the program's own code                */
    uint32_t n;
    uintptr_t pc[HV_RT_FRAMES]; /* return addresses, innermost first */
} hv_rt_stack_t;

/* The stack of the caller of the runtime function whose frame is `fp`
 * (its __builtin_frame_address(0)) and whose return address is `ret`. */
void _hv_rt_stack_here(hv_rt_stack_t *st, void *fp, uintptr_t ret) HV_RT_HIDDEN;
/* From a signal's context (pc and frame registers). */
void _hv_rt_stack_from(hv_rt_stack_t *st, uintptr_t pc, uintptr_t fp,
                       uintptr_t sp) HV_RT_HIDDEN;
/* The depot: a stack kept once, known by a 32-bit id (0: none). */
uint32_t _hv_rt_stack_intern(const hv_rt_stack_t *st) HV_RT_HIDDEN;
const hv_rt_stack_t *_hv_rt_stack_get(uint32_t id) HV_RT_HIDDEN;
/* The frame of the function that called main, while main runs: stacks on
 * the main thread end below it, as valgrind's end at main. */
extern uintptr_t _hv_rt_below_main HV_RT_HIDDEN;

/* ------------------------------------------------------------------------
 * symbols.c
 * ---------------------------------------------------------------------- */
typedef struct hv_rt_frame {
    const char *function; /* NULL: unknown                          */
    const char *file;     /* source file (base name shown), or NULL */
    int line;
    const char *object; /* the module's path when no line is known */
} hv_rt_frame_t;

/* Describe return address pc; calls fn for each frame there (inlined
 * functions first, as valgrind prints them). */
typedef void (*hv_rt_frame_fn)(const hv_rt_frame_t *f, uintptr_t pc, void *arg);
void _hv_rt_symbolize(uintptr_t pc, hv_rt_frame_fn fn, void *arg) HV_RT_HIDDEN;
/* The global variable at addr: its name and start (0: none known). */
int _hv_rt_data_symbol(uintptr_t addr, const char **name,
                       uintptr_t *value) HV_RT_HIDDEN;
/* Is pc inside this runtime's own code? */
int _hv_rt_is_own_pc(uintptr_t pc) HV_RT_HIDDEN;

/* ------------------------------------------------------------------------
 * out.c — the report on stderr
 * ---------------------------------------------------------------------- */
void _hv_rt_out(const char *fmt, ...) HV_RT_HIDDEN
    __attribute__((format(printf, 1, 2)));
void _hv_rt_out_text(const char *text) HV_RT_HIDDEN; /* long lines as is */
/* `   at 0x…: fn (file.c:12)` and `by` lines, from the runtime function
 * `entry` (or the stack's own entry when NULL). */
void _hv_rt_out_stack(const hv_rt_stack_t *st, const char *entry) HV_RT_HIDDEN;
void _hv_rt_out_flush(void) HV_RT_HIDDEN;
void _hv_rt_out_init(void) HV_RT_HIDDEN; /* at start-up: the log's fd */
/* The report gathered since the last flush, without prefixes. */
const char *_hv_rt_out_report(void) HV_RT_HIDDEN;
/* The innermost frame in the program's own files: "file.c:12" (for
 * dedupe and the viewer's event), or "" */
void _hv_rt_site_text(const hv_rt_stack_t *st, char *buf,
                      size_t n) HV_RT_HIDDEN;

/* ------------------------------------------------------------------------
 * describe.c / report.c — errors
 * ---------------------------------------------------------------------- */
/* " Address 0x… is …" and the alloc/free stacks of the block there. */
void _hv_rt_describe(uintptr_t addr, uint64_t size) HV_RT_HIDDEN;
/* Finish an error: the explanation (`advice`, an hv_advice key), the
 * event for the viewer (tagged with stack st), and the lines written. */
void _hv_rt_error_end(int kind, uintptr_t addr, uint64_t size,
                      const char *advice, const hv_rt_stack_t *st) HV_RT_HIDDEN;
/* The line of the last invalid write reported ("prog.c:12"), the likely
 * cause of a damaged heap found later. */
extern char _hv_rt_last_write[128] HV_RT_HIDDEN;
/* Is this error new?  Errors of one kind (hv_error_kind_t), with the same
 * `detail` (access size, write) and the same innermost four frames are one
 * context: counted, printed once, as valgrind does. */
int _hv_rt_error_new(int kind, uint64_t detail,
                     const hv_rt_stack_t *st) HV_RT_HIDDEN;
/* free()/realloc() of pointer p failed with err in function fn. */
void _hv_rt_free_error(hv_err_t err, uintptr_t p, const char *fn,
                       const hv_rt_stack_t *st) HV_RT_HIDDEN;
/* The final lines: ERROR SUMMARY and the exit status to use. */
int _hv_rt_error_summary(int status) HV_RT_HIDDEN;

/* ------------------------------------------------------------------------
 * leakcheck.c / threads.c / signals.c / start.c
 * ---------------------------------------------------------------------- */
/* The leak check and HEAP/LEAK SUMMARY.  `sp`: the current thread's stack
 * is scanned from there up; regs/nregs: register values that are roots. */
void _hv_rt_leak_check(uintptr_t sp, const uintptr_t *regs,
                       int nregs) HV_RT_HIDDEN;
/* The end of the run: leak check, ERROR SUMMARY; the exit status. */
int _hv_rt_finish(int status, uintptr_t sp, const uintptr_t *regs,
                  int nregs) HV_RT_HIDDEN;
void _hv_rt_signals_setup(void) HV_RT_HIDDEN;
void _hv_rt_signal_stack(void) HV_RT_HIDDEN; /* this thread's */
/* A fault in instrumented code at addr: the invalid access valgrind
 * reports before the signal, from the last check this thread made. */
void _hv_rt_fault_access(uintptr_t addr, const hv_rt_stack_t *st) HV_RT_HIDDEN;
void _hv_rt_start_setup(void) HV_RT_HIDDEN;
/* Thread stacks known to the runtime: fn(lo, hi, live, arg) for each. */
void _hv_rt_thread_stacks(void (*fn)(uintptr_t lo, uintptr_t hi, int live,
                                     void *arg),
                          void *arg) HV_RT_HIDDEN;
/* Threads still running besides the caller. */
int _hv_rt_threads_alive(void) HV_RT_HIDDEN;
/* valgrind's number of the thread whose stack holds addr (0: none known;
 * the main thread is 1). */
int _hv_rt_thread_of(uintptr_t addr) HV_RT_HIDDEN;
void _hv_rt_threads_forked(void) HV_RT_HIDDEN; /* only the caller lives */

#endif /* HEAPVIZ_RT_H */
