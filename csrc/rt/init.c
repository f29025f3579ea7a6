/* init.c — start-up: the options, the heap at its own addresses, and the
 * process hygiene a preloaded allocator owes its program.
 *
 * It runs once, on the first allocation or from the library's constructor,
 * whichever comes first (ld.so and libc allocate before any constructor
 * runs).  While it runs, allocations (its own, libc's) come from the pool.
 *
 * The heap goes at `base` (0x10000, the address a Python heap shows), so a
 * C program's first block is at 0x10010 as a script's is.  A program built
 * with -no-pie has its code at 0x400000: the heap then gets the room below
 * it (about 4 MiB) unless the user chose max_size or base.  The mmap region
 * (requests of 128 KiB and more) sits at 0x7f0000000000; should a library
 * already be mapped there, large requests stay in the heap. */
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

hv_rt_t _hv_rt;
hv_rt_map_t hv_rt_map;
__thread int hv_rt_depth;

static const uint64_t MMAP_BASE = 0x7f0000000000ull; /* the core's */

/* Lowest start of a mapping that ends above `from` (UINT64_MAX: none),
 * from /proc/self/maps, read without allocating. */
static uint64_t next_mapping(uint64_t from)
{
    static char buf[1 << 16];
    uint64_t best = UINT64_MAX;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return best;
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0) break;
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            unsigned long long lo, hi;
            if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && hi > from &&
                lo < best)
                best = lo < from ? from : lo;
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
    }
    close(fd);
    return best;
}

static _Noreturn void refuse(const char *what, const char *why)
{
    char line[512];
    int n = snprintf(line, sizeof line, "==heapviz== cannot start: %s%s%s\n",
                     what, why ? ": " : "", why ? why : "");
    if (write(2, line, (size_t)n) < 0) _exit(1);
    _exit(1);
}

/* A placeholder over [at, at+len), so that nothing the runtime maps itself
 * (the arena's tables, the pool: gigabytes, placed by the kernel) lands
 * where the heap must go.  0 when something is there already. */
static int hold(uint64_t at, uint64_t len)
{
    void *want = (void *)(uintptr_t)at;
    void *p =
        mmap(want, len, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
             -1, 0);
    if (p == MAP_FAILED) return 0;
    if (p != want) {
        munmap(p, len);
        return 0;
    }
    return 1;
}

/* max_size and the mmap region made to fit around the program's own
 * mappings (checked before the heap is made: its size is fixed then), and
 * their addresses held until the heap is pinned there. */
static void fit(hv_rt_opts_t *o)
{
    hv_config_t *c = &o->cfg;
    uint64_t room = next_mapping(c->base);
    if (room <= c->base) refuse("the heap's address is taken", NULL);
    uint64_t gap = (room - c->base) & ~(uint64_t)0xFFFF;
    if (gap < c->max_size) {
        if (o->max_size_given)
            refuse("max_size does not fit below the program's own mappings",
                   "give a smaller max_size, or another base");
        c->max_size = gap;
        _hv_rt.clamped = "the program's code is mapped just above the heap "
                         "(built with -no-pie?)";
    }
    if (c->size > c->max_size) c->size = c->max_size;
    uint64_t len = c->max_size & ~4095ull;
    if (!hold(c->base, len)) refuse("the heap's addresses are taken", NULL);
    if (c->mmap_threshold && !hold(MMAP_BASE, len)) {
        if (o->mmap_given)
            refuse("the mmap region's addresses are taken", NULL);
        c->mmap_threshold = 0; /* large blocks stay in the heap */
    }
}

/* The placeholders go just before the heap's own mappings take their
 * place (one thread runs: nothing can come in between). */
static void release(const hv_config_t *c)
{
    uint64_t len = c->max_size & ~4095ull;
    munmap((void *)(uintptr_t)c->base, len);
    if (c->mmap_threshold) munmap((void *)(uintptr_t)MMAP_BASE, len);
}

static int find_cc(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    return info->dlpi_name && strstr(info->dlpi_name, "libheapviz_cc") != NULL;
}

/* Is the instrumentation library loaded (a `heapviz cc` program)?  Its
 * constructor has not run yet, but ld.so mapped every library first. */
static int instrumented_program(void)
{
    return dl_iterate_phdr(find_cc, NULL) != 0;
}

static void make_heap(hv_rt_opts_t *o)
{
    /* without instrumentation nothing reads the per-byte shadow, and
     * keeping it would touch a byte for every byte of the heap: a program
     * that allocates a large buffer paid for it twice */
    o->cfg.shadow = instrumented_program();
    const char *bad = NULL;
    hv_heap_t *h = NULL;
    hv_err_t err = hv_heap_create(&o->cfg, &h, &bad);
    if (err == HV_EINVAL) refuse("a bad heap option", bad);
    if (err) refuse("no memory for the heap", strerror(errno));
    release(&o->cfg);
    if (hv_heap_pin(h, o->cfg.mmap_threshold != 0))
        refuse("the heap cannot be mapped at its address", strerror(errno));
    const uint8_t *sh = hv_shadow(h, o->cfg.base, 1);
    const uint8_t *msh = hv_shadow(h, MMAP_BASE, 1);
    bool mm = false;
    hv_heap_pinned(h, &mm);
    hv_rt_map.heap_lo = o->cfg.base;
    hv_rt_map.heap_len = (uint64_t)(msh - sh);
    hv_rt_map.mmap_lo = mm ? MMAP_BASE : 0;
    hv_rt_map.mmap_len = mm ? hv_rt_map.heap_len : 0;
    hv_rt_map.shadow = (uint8_t *)sh;
    hv_rt_map.checks = o->checks;
    _hv_rt.heap = h;
}

/* The program's children run natively (LD_PRELOAD dropped) unless
 * trace_children: a child of a preloaded program inherits the preload,
 * and a runtime in every child is what nobody asked for. */
static void forget_preload(void)
{
    if (_hv_rt_opts.trace_children) return;
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "libheapviz_rt")) unsetenv("LD_PRELOAD");
}

/* The seam for the viewer (issue 12): a launcher that wants to watch the
 * heap passes a Unix socket in HEAPVIZ_ARENA_SOCKET; the arena's memfd goes
 * over it (SCM_RIGHTS) before the program runs a line, and the viewer maps
 * it read-only as it maps a Python heap's. */
static void hand_over_arena(void)
{
    const char *text = getenv("HEAPVIZ_ARENA_SOCKET");
    int sock = text ? atoi(text) : -1, fd = hv_heap_fd(_hv_rt.heap);
    if (text) unsetenv("HEAPVIZ_ARENA_SOCKET");
    if (sock < 0 || fd < 0) return;
    char byte = 'H';
    struct iovec io = {&byte, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg = {.msg_iov = &io,
                         .msg_iovlen = 1,
                         .msg_control = ctl.buf,
                         .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) { /* nobody listens: go on */
    }
    close(sock);
}

static void command_line(void)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, _hv_rt.command, sizeof _hv_rt.command - 1);
    close(fd);
    for (ssize_t i = 0; i + 1 < n; i++)
        if (!_hv_rt.command[i]) _hv_rt.command[i] = ' ';
}

void _hv_rt_start(void)
{
    if (_hv_rt.state) return; /* ready, or starting in this very call */
    _hv_rt.state = 1;
    hv_rt_depth++;
    char err[200];
    if (_hv_rt_parse_options(getenv("HEAPVIZ_OPTIONS"), &_hv_rt_opts, err,
                             sizeof err))
        refuse("HEAPVIZ_OPTIONS", err);
    fit(&_hv_rt_opts);
    make_heap(&_hv_rt_opts);
    _hv_rt_out_init();
    hand_over_arena();
    command_line();
    _hv_rt.pid = getpid();
    forget_preload();
    _hv_rt_fork_setup();
    _hv_rt_signals_setup();
    _hv_rt_start_setup();
    hv_rt_depth--;
    __atomic_store_n(&_hv_rt.state, 2, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void at_load(void)
{
    _hv_rt_start();
}
