/* describe.c — where an address is, in valgrind's words:
 *
 *   Address 0x10040 is 0 bytes after a block of size 40 alloc'd
 *      at 0x…: malloc (in …/libheapviz_rt.so)
 *      by 0x…: main (prog.c:5)
 *
 *   Address 0x10040 is 8 bytes inside a block of size 40 free'd
 *      at 0x…: free (…)  …  Block was alloc'd at …
 *
 * and "is on thread 1's stack", "is 0 bytes inside data symbol "buf"",
 * "is in a rw- anonymous segment", "is not stack'd, malloc'd or (recently)
 * free'd".  A heap address is judged against the nearest block: the one
 * whose bytes (header, payload, padding, footer) contain it, or its left
 * neighbour when the address is that block's header and the neighbour's
 * data ends closer.  A freed block's size and stacks come from the event
 * history, so a block merged into a bigger free one keeps its story. */
#include "rt.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void where(uintptr_t addr, hv_addr_t lo, uint64_t size, const char *how)
{
    char words[96];
    hv_where(words, sizeof words, addr, lo, size);
    _hv_rt_out(" Address 0x%lx %s %s", (unsigned long)addr, words, how);
}

static void stack_of(uint32_t site)
{
    _hv_rt_out_stack(_hv_rt_stack_get(site), NULL);
}

/* A live block (heap or mmapped chunk), with its allocation stack. */
static void live_block(uintptr_t addr, const hv_block_t *b)
{
    where(addr, b->payload, b->requested, "alloc'd");
    stack_of(b->site);
}

/* The latest free (in the history) of a block whose data held addr, and
 * the allocation before it. */
typedef struct freed {
    hv_event_t free_ev, alloc_ev;
    int found, alloc_found;
} freed_t;

static int is_alloc(const hv_event_t *e, uint64_t payload)
{
    return (e->kind == HV_EV_MALLOC || e->kind == HV_EV_CALLOC ||
            e->kind == HV_EV_REALLOC) &&
           !(e->flags & HV_EVF_FAILED) && e->addr == payload;
}

static freed_t find_freed(uintptr_t addr)
{
    freed_t f = {0};
    const hv_heap_t *h = _hv_rt.heap;
    uint64_t first = hv_history_first(h), seq = hv_history_count(h);
    hv_event_t e;
    while (seq-- > first && !f.alloc_found) {
        if (!hv_history_get(h, seq, &e)) break;
        if (!f.found) {
            uint64_t len = e.size ? e.size : 1;
            if (e.kind == HV_EV_FREE && addr >= e.addr && addr - e.addr < len)
                f.free_ev = e, f.found = 1;
        } else if (is_alloc(&e, f.free_ev.addr)) {
            f.alloc_ev = e, f.alloc_found = 1;
        }
    }
    return f;
}

static void freed_block(uintptr_t addr, const hv_block_t *b)
{
    freed_t f = find_freed(addr);
    if (!f.found) {
        _hv_rt_out(" Address 0x%lx is %lu bytes inside an unallocated block "
                   "of size %lu on heapviz's free list",
                   (unsigned long)addr, (unsigned long)(addr - b->addr),
                   (unsigned long)b->size);
        return;
    }
    where(addr, f.free_ev.addr, f.free_ev.size, "free'd");
    stack_of(f.free_ev.site);
    if (f.alloc_found) {
        _hv_rt_out(" Block was alloc'd at");
        stack_of(f.alloc_ev.site);
    }
}

/* A heap address: the block there, or its left neighbour. */
static int in_heap(uintptr_t addr)
{
    hv_block_t b, left;
    if (hv_block_containing(_hv_rt.heap, addr, &b)) return 0;
    int alloc = b.state == HV_BLOCK_ALLOCATED || b.state == HV_BLOCK_MMAPPED;
    if (addr < b.payload && b.addr > hv_rt_map.heap_lo &&
        !hv_block_containing(_hv_rt.heap, b.addr - 1, &left) &&
        (left.state == HV_BLOCK_ALLOCATED) &&
        addr - (left.payload + left.requested) < b.payload - addr)
        return live_block(addr, &left), 1;
    if (alloc)
        live_block(addr, &b);
    else if (b.state == HV_BLOCK_FREE)
        freed_block(addr, &b);
    else
        return 0;
    return 1;
}

/* ------------------------------------------------------------------------
 * Outside the heap: stacks, globals, other mappings
 * ---------------------------------------------------------------------- */
typedef struct mapping {
    uintptr_t lo, hi;
    char perms[5];
    char name[256];
} mapping_t;

static int mapping_of(uintptr_t addr, mapping_t *m)
{
    static char buf[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), found = 0;
    if (fd < 0) return 0;
    size_t have = 0;
    ssize_t r;
    while (!found && (r = read(fd, buf + have, sizeof buf - 1 - have)) > 0) {
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while (!found && (nl = strchr(line, '\n'))) {
            unsigned long lo, hi;
            int name_at = 0;
            *nl = 0;
            if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &lo, &hi, m->perms,
                       &name_at) >= 3 &&
                addr >= lo && addr < hi) {
                m->lo = lo;
                m->hi = hi;
                snprintf(m->name, sizeof m->name, "%s",
                         name_at ? line + name_at : "");
                found = 1;
            }
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
    }
    close(fd);
    return found;
}

static int global(uintptr_t addr)
{
    const char *name;
    uintptr_t value;
    if (!_hv_rt_data_symbol(addr, &name, &value)) return 0;
    _hv_rt_out(" Address 0x%lx is %lu bytes inside data symbol \"%s\"",
               (unsigned long)addr, (unsigned long)(addr - value), name);
    return 1;
}

static void elsewhere(uintptr_t addr)
{
    mapping_t m;
    if (!mapping_of(addr, &m)) {
        _hv_rt_out(" Address 0x%lx is not stack'd, malloc'd or (recently) "
                   "free'd",
                   (unsigned long)addr);
    } else if (strcmp(m.name, "[stack]") == 0 || _hv_rt_thread_of(addr)) {
        int t = _hv_rt_thread_of(addr);
        _hv_rt_out(" Address 0x%lx is on thread %d's stack",
                   (unsigned long)addr, t ? t : 1);
    } else if (m.name[0] == '/' && global(addr)) {
        return;
    } else {
        char perms[4] = {m.perms[0], m.perms[1], m.perms[2], 0};
        if (m.name[0] == '/')
            _hv_rt_out(" Address 0x%lx is in a %s mapped file %s segment",
                       (unsigned long)addr, perms, m.name);
        else
            _hv_rt_out(" Address 0x%lx is in a %s anonymous segment",
                       (unsigned long)addr, perms);
    }
}

void _hv_rt_describe(uintptr_t addr, uint64_t size)
{
    (void)size;
    if (_hv_rt_in_arena(addr) && _hv_rt_quarantine_describe(addr)) return;
    if (_hv_rt_in_arena(addr) && in_heap(addr)) return;
    if (_hv_rt_in_arena(addr))
        _hv_rt_out(" Address 0x%lx is not stack'd, malloc'd or (recently) "
                   "free'd",
                   (unsigned long)addr);
    else
        elsewhere(addr);
}
