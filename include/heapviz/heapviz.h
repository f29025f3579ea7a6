/* heapviz.h — the public C API of the heapviz allocator core.
 *
 * The core is plain C11: it never includes Python.h, never prints and never
 * aborts.  Every function that can fail returns an hv_err_t (0 is success)
 * and hands results back through out-parameters.  The Python binding, the
 * viewer and the C tests are all clients of this header.
 *
 * Addresses.  Every address that crosses this API is a *user address*
 * (hv_addr_t): the address a student sees, `base + offset` for the heap, a
 * fixed high range for mmapped chunks and for the simulated stack.  0 is
 * NULL.  Real pointers into the arena never leave the core except through
 * hv_resolve(), which bounds-checks first.
 */
#ifndef HEAPVIZ_HEAPVIZ_H
#define HEAPVIZ_HEAPVIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t hv_addr_t;
typedef struct hv_heap hv_heap_t; /* opaque, process-local handle */

/* ------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */
typedef enum hv_err {
    HV_OK = 0,
    HV_EINVAL,      /* a bad argument or configuration value            */
    HV_ENOMEM,      /* the reservation (max_size) or a table is full    */
    HV_EOVERFLOW,   /* a size computation overflowed                    */
    HV_ESYS,        /* the OS refused (mmap, memfd, ftruncate); errno   */
    HV_EFAULT,      /* address outside every mapping (SIGSEGV)          */
    HV_EBADFREE,    /* free/realloc of a pointer malloc never returned  */
    HV_EDOUBLEFREE, /* free/realloc of a block that is already free     */
    HV_ECORRUPT,    /* the allocator's integrity checks failed          */
    HV_EREADONLY,   /* a mutating call on an attached (reader) heap     */
    HV_ESTACK,      /* stack frame misuse (pop with no frame, overflow) */
    HV_ERR_COUNT
} hv_err_t;

/* A short, stable, lowercase name for an error code ("double free"). */
const char *hv_strerror(hv_err_t err);

/* ------------------------------------------------------------------------
 * Configuration
 * ---------------------------------------------------------------------- */
typedef enum hv_policy {
    HV_POLICY_FIRST = 0,  /* first fit over the explicit free list        */
    HV_POLICY_NEXT,       /* next fit: first fit from a roving pointer     */
    HV_POLICY_BEST,       /* best fit: the smallest block that fits        */
    HV_POLICY_WORST,      /* worst fit: the largest block                  */
    HV_POLICY_SEGREGATED, /* segregated free lists by size class           */
    HV_POLICY_BUDDY,      /* binary buddy allocation                       */
    HV_POLICY_COUNT
} hv_policy_t;

typedef enum hv_order {
    HV_ORDER_ADDRESS = 0, /* free list sorted by address                  */
    HV_ORDER_LIFO,        /* freed blocks pushed at the head               */
    HV_ORDER_FIFO,        /* freed blocks appended at the tail             */
    HV_ORDER_SIZE,        /* sorted by size, ascending (ties by address)   */
    HV_ORDER_SIZE_DESC,   /* sorted by size, descending (ties by address)  */
    HV_ORDER_COUNT
} hv_order_t;

typedef enum hv_coalesce {
    HV_COALESCE_IMMEDIATE = 0, /* merge with free neighbours on free        */
    HV_COALESCE_DEFERRED,      /* merge everything when a request would fail
                                  or would grow the heap                    */
    HV_COALESCE_NONE,          /* never merge                               */
    HV_COALESCE_COUNT
} hv_coalesce_t;

typedef struct hv_config {
    uint64_t size;     /* initial heap, from heap start to the break */
    uint64_t max_size; /* reservation the break may grow to          */
    hv_policy_t policy;
    hv_order_t order;         /* ignored by segregated and buddy            */
    hv_coalesce_t coalesce;   /* buddy always merges buddies                */
    uint32_t align;           /* payload alignment: 4, 8 or 16              */
    uint64_t base;            /* user address of the heap start             */
    uint64_t mmap_threshold;  /* requests >= this get an mmapped chunk; 0 off */
    uint64_t split_threshold; /* do not split off a remainder smaller than
                                 this (0: the minimum block size)           */
    bool footer;              /* boundary tag on every block (textbook);
                                 false: footers on free blocks only         */
    bool magic;               /* a 32-bit magic word in every header        */
    bool record;              /* record events                              */
    bool shadow;              /* maintain per-byte shadow state             */
    bool debug_check;         /* run hv_check after every operation and turn
                                 a violation into HV_ECORRUPT               */
    uint32_t ring_capacity;   /* events in the shared ring, a power of two  */
    uint64_t history_limit;   /* events kept in process history (0: none)   */
    uint32_t stack_size;      /* bytes of simulated stack                   */
} hv_config_t;

/* Fill *cfg with the defaults: 4 KiB heap, 64 MiB reservation, first fit,
 * address order, immediate coalescing, align 16, base 0x10000, mmap
 * threshold 128 KiB, footers and no magic, recording and shadow on,
 * a 2^20-event ring that is also the 1,000,000 events of history (a
 * history_limit above the ring capacity keeps a separate copy), 64 KiB of
 * stack. */
void hv_config_default(hv_config_t *cfg);

/* ------------------------------------------------------------------------
 * Heaps
 * ---------------------------------------------------------------------- */
/* Create a heap over a fresh shared mapping.  The config is validated
 * first: HV_EINVAL and *bad_field set to the name of the offending field
 * (static string) when bad_field is not NULL. */
hv_err_t hv_heap_create(const hv_config_t *cfg, hv_heap_t **out,
                        const char **bad_field);
/* Map another process's arena read-only (fd from hv_heap_fd).  Only the
 * reading functions (walk, stats, check, events, sites, resolve for
 * reading) work on it. */
hv_err_t hv_heap_attach(int fd, hv_heap_t **out);
void hv_heap_destroy(hv_heap_t *h);
/* A private copy of a heap (a checkpoint for time travel): the same
 * configuration, blocks, bytes, shadow, mappings, stack and sites, and the
 * same operation and event numbering; no event history of its own
 * (history_limit 0).  The original is only read. */
hv_err_t hv_heap_clone(const hv_heap_t *src, hv_heap_t **out);
/* The name of the PyCapsule that heapviz._core.Heap._capsule() returns: its
 * pointer is the hv_heap_t, valid (readable) for as long as the capsule
 * lives, even after the Heap is closed (the capsule owns the arena too). */
#define HV_CAPSULE_NAME "heapviz._core.heap"
int hv_heap_fd(const hv_heap_t *h); /* the memfd (or -1 if anonymous) */
const hv_config_t *hv_heap_config(const hv_heap_t *h);

/* The block layout this configuration produces (drawn by the viewer). */
typedef struct hv_layout {
    uint32_t align;
    uint32_t header_size; /* bytes before the payload (size|flags[, magic]) */
    uint32_t footer_size; /* bytes after the payload in allocated blocks   */
    uint32_t min_block;   /* smallest block the allocator makes            */
    uint32_t heap_pad;    /* bytes before the first block (alignment)      */
    uint32_t page_size;   /* the break grows in these steps                */
    hv_addr_t heap_base;  /* user address of heap start                    */
    hv_addr_t mmap_base;  /* user address of the mmap region              */
    hv_addr_t stack_base; /* lowest user address of the stack region       */
    hv_addr_t stack_top;  /* one past the highest                          */
} hv_layout_t;
void hv_heap_layout(const hv_heap_t *h, hv_layout_t *out);

/* A seqlock for readers in another process: even when stable.  A reader
 * copies what it needs, then re-reads the counter; a change means retry. */
uint64_t hv_heap_version(const hv_heap_t *h);

/* ------------------------------------------------------------------------
 * Call sites: file:line of the student's code, interned once per site.
 * Site 0 means "unknown".
 * ---------------------------------------------------------------------- */
hv_err_t hv_site_intern(hv_heap_t *h, const char *file, uint32_t line,
                        const char *func, uint32_t *out);
/* Returns false for an unknown id.  Strings stay valid while h lives. */
bool hv_site_get(const hv_heap_t *h, uint32_t site, const char **file,
                 uint32_t *line, const char **func);

/* ------------------------------------------------------------------------
 * The memory API, with C's semantics.  On an ordinary failure (no memory)
 * the result is 0 (NULL), the return value HV_OK, and an HV_EV_FAIL event
 * is recorded.  `site` tags the events.
 * ---------------------------------------------------------------------- */
/* Validation done by free/realloc before trusting a pointer. */
typedef enum hv_free_mode {
    HV_FREE_CHECKED = 0, /* validate: HV_EBADFREE / HV_EDOUBLEFREE, no change */
    HV_FREE_TRUSTING,    /* trust the header like a plain C allocator; only
                            the integrity checks glibc also has remain
                            (HV_ECORRUPT), so a double free can corrupt the
                            free list and be caught later                    */
} hv_free_mode_t;

hv_err_t hv_malloc(hv_heap_t *h, uint64_t n, uint32_t site, hv_addr_t *out);
hv_err_t hv_calloc(hv_heap_t *h, uint64_t nmemb, uint64_t size, uint32_t site,
                   hv_addr_t *out); /* overflow: NULL + HV_EV_FAIL event */
hv_err_t hv_realloc(hv_heap_t *h, hv_addr_t p, uint64_t n, uint32_t site,
                    hv_free_mode_t mode, hv_addr_t *out);
hv_err_t hv_free(hv_heap_t *h, hv_addr_t p, uint32_t site, hv_free_mode_t mode);

/* The system calls the chapter shows.  sbrk rounds the increment up to the
 * alignment so the heap stays walkable; the new bytes become one block of
 * state HV_BLOCK_SBRK owned by the caller.  sbrk(0) returns the break.
 * Negative increments trim a free top block (HV_EINVAL otherwise). */
hv_err_t hv_sbrk(hv_heap_t *h, int64_t incr, uint32_t site, hv_addr_t *old_brk);
hv_addr_t hv_brk(const hv_heap_t *h); /* the current break (user address) */
/* A raw mapping of n bytes rounded up to pages (state HV_BLOCK_MAPPING). */
hv_err_t hv_mmap(hv_heap_t *h, uint64_t n, uint32_t site, hv_addr_t *out);
/* Unmap a raw mapping or an mmapped chunk's whole mapping. */
hv_err_t hv_munmap(hv_heap_t *h, hv_addr_t p, uint32_t site);

/* ------------------------------------------------------------------------
 * Blocks and the walker.  Everything that reads the heap reads through it.
 * ---------------------------------------------------------------------- */
typedef enum hv_block_state {
    HV_BLOCK_ALLOCATED = 0,
    HV_BLOCK_FREE,
    HV_BLOCK_MMAPPED, /* a malloc'd chunk above the mmap threshold         */
    HV_BLOCK_MAPPING, /* a raw mapping from hv_mmap                         */
    HV_BLOCK_SBRK,    /* raw bytes from hv_sbrk                             */
    HV_BLOCK_STACK,   /* a stack object (see frames)                        */
} hv_block_state_t;

typedef struct hv_block {
    hv_addr_t addr;        /* block start, header included                */
    uint64_t size;         /* whole block                                 */
    hv_addr_t payload;     /* payload address                             */
    uint64_t payload_size; /* usable payload bytes                        */
    uint64_t requested;    /* bytes asked for (0 for free blocks)         */
    hv_block_state_t state;
    uint32_t header; /* the raw header word                         */
    uint32_t footer; /* the raw footer word (0 when none)           */
    uint32_t magic;  /* the magic word (0 when none)                */
    bool prev_alloc; /* header flag: the previous block is in use   */
    bool has_footer;
    uint64_t seq;        /* operation number of the allocation          */
    uint32_t site;       /* allocation site                             */
    uint32_t free_site;  /* where it was freed (free blocks)            */
    uint32_t gen;        /* generation: bumped by every free of this
                            block start, the provenance check           */
    int32_t list;        /* free list index (size class, buddy order),
                            -1 when not on a list                       */
    hv_addr_t next_free; /* free-list neighbours (0 when none)          */
    hv_addr_t prev_free;
} hv_block_t;

/* Return nonzero to stop the walk; that value is returned by hv_walk. */
typedef int (*hv_visit_fn)(const hv_block_t *b, void *arg);

/* Every block in address order: heap blocks, then mmapped chunks and raw
 * mappings, then stack objects.  A damaged heap stops the walk safely. */
int hv_walk(const hv_heap_t *h, hv_visit_fn fn, void *arg);
/* Number of free lists (1 for the fit policies, the number of size classes
 * for segregated, of orders for buddy) and one list in list order. */
int hv_free_list_count(const hv_heap_t *h);
int hv_walk_free_list(const hv_heap_t *h, int list, hv_visit_fn fn, void *arg);
/* Size range of a list: [lo, hi], hi = UINT64_MAX when unbounded. */
void hv_free_list_range(const hv_heap_t *h, int list, uint64_t *lo,
                        uint64_t *hi);
/* Next fit's roving pointer (0 when none or another policy). */
hv_addr_t hv_rover(const hv_heap_t *h);

/* The block whose [addr, addr+size) contains a (any state, stack objects
 * included).  HV_EFAULT when a lies in no block. */
hv_err_t hv_block_containing(const hv_heap_t *h, hv_addr_t a, hv_block_t *out);
/* The block that starts at block start `start` (for provenance). */
hv_err_t hv_block_at(const hv_heap_t *h, hv_addr_t start, hv_block_t *out);
/* The identity of the block whose payload starts at `payload`: its start,
 * the operation number of its allocation, its state and (when requested is
 * not NULL) the bytes requested, in O(1) for heap blocks (the binding's hot
 * path).  HV_EFAULT when no payload starts there.  For a block freed and
 * not reused it answers HV_BLOCK_FREE without a walk, even when the freed
 * block has since been merged into a neighbour: "not live" is exact, the
 * start may then be a stale one. */
hv_err_t hv_block_ident(const hv_heap_t *h, hv_addr_t payload, hv_addr_t *start,
                        uint64_t *seq, hv_block_state_t *state,
                        uint64_t *requested);
/* Is the payload at `payload` still the allocation made by operation `seq`
 * of the block starting at `start`, and allocated (or an mmapped chunk)?
 * free()'s double-free test, as hv_block_ident answers it but without
 * describing the block. */
bool hv_block_live(const hv_heap_t *h, hv_addr_t payload, hv_addr_t start,
                   uint64_t seq);
/* When `payload` is the heap block the last operation allocated (malloc,
 * calloc, or a realloc that moved): its start and the operation number,
 * as hv_block_ident would say, without looking at the block; else false.
 * The binding's hot path: every malloc makes a Pointer. */
bool hv_block_fresh(const hv_heap_t *h, hv_addr_t payload, hv_addr_t *start,
                    uint64_t *seq);

/* ------------------------------------------------------------------------
 * Memory access for the binding: user address -> real bytes.
 * ---------------------------------------------------------------------- */
typedef enum hv_region {
    HV_REGION_NONE = 0, /* outside every mapping: SIGSEGV                 */
    HV_REGION_HEAP,     /* [heap_base, brk)                                */
    HV_REGION_MMAP,     /* inside a live mmapped chunk or raw mapping      */
    HV_REGION_STACK,    /* inside the live part of the stack region        */
} hv_region_t;

/* Resolve [a, a+len) to real memory if it lies wholly inside one mapped
 * region, else HV_EFAULT (and *region = HV_REGION_NONE when even `a` is
 * outside).  The pointer stays valid until the next mutating call. */
hv_err_t hv_resolve(const hv_heap_t *h, hv_addr_t a, uint64_t len,
                    hv_region_t *region, uint8_t **out);

/* ------------------------------------------------------------------------
 * Shadow memory: one state byte per byte of heap, mmap and stack.
 * ---------------------------------------------------------------------- */
enum {
    HV_SH_UNMAPPED = 0, /* not addressable                                  */
    HV_SH_META = 1,     /* allocator metadata: header, footer, links        */
    HV_SH_FREE = 2,     /* inside a free block                              */
    HV_SH_UNINIT = 3,   /* allocated, never written                         */
    HV_SH_INIT = 4,     /* allocated and written                            */
    HV_SH_SLACK = 5,    /* allocated beyond the requested size (padding)    */
};
/* Pointer to the state bytes of [a, a+len) (NULL when outside). */
const uint8_t *hv_shadow(const hv_heap_t *h, hv_addr_t a, uint64_t len);
void hv_shadow_set(hv_heap_t *h, hv_addr_t a, uint64_t len, uint8_t state);
/* Copies state as memcpy copies bytes (memmove semantics). */
void hv_shadow_copy(hv_heap_t *h, hv_addr_t dst, hv_addr_t src, uint64_t len);

/* ------------------------------------------------------------------------
 * The simulated stack (frames for the chapter's contrast with the heap).
 * ---------------------------------------------------------------------- */
/* The deepest the simulated stack nests: hv_frame_push of frame
 * HV_FRAMES_MAX + 1 returns HV_ESTACK and pushes nothing. */
#define HV_FRAMES_MAX 256

hv_err_t hv_frame_push(hv_heap_t *h, const char *name, uint32_t site,
                       uint32_t *depth);
hv_err_t hv_frame_alloc(hv_heap_t *h, uint64_t n, uint32_t site,
                        hv_addr_t *out);
hv_err_t hv_frame_pop(hv_heap_t *h, uint32_t site);
uint32_t hv_frame_depth(const hv_heap_t *h);
/* Frame i (0 = outermost): its name and [lo, hi) user addresses. */
bool hv_frame_get(const hv_heap_t *h, uint32_t i, const char **name,
                  hv_addr_t *lo, hv_addr_t *hi);

/* ------------------------------------------------------------------------
 * Statistics
 * ---------------------------------------------------------------------- */
typedef struct hv_stats {
    uint64_t heap_size;    /* heap start to break, plus mmapped chunks   */
    uint64_t brk_size;     /* heap start to break                          */
    uint64_t mmapped;      /* bytes in mmapped chunks and raw mappings     */
    uint64_t in_use;       /* bytes of allocated blocks (whole blocks)     */
    uint64_t payload;      /* requested bytes now live                     */
    uint64_t peak_payload; /* the maximum of `payload` over time           */
    uint64_t free_bytes;   /* bytes of free blocks                         */
    uint64_t largest_free;
    uint64_t free_blocks;
    uint64_t alloc_blocks;
    double utilization;   /* peak_payload / heap_size (CS:APP)            */
    double frag_internal; /* 1 - payload / in_use                         */
    double frag_external; /* 1 - largest_free / free_bytes                */
    uint64_t n_malloc, n_calloc, n_realloc, n_free, n_failed;
    uint64_t n_split, n_coalesce, n_grow, n_mmap, n_munmap, n_errors;
    uint64_t ops; /* operations so far                            */
} hv_stats_t;
void hv_stats(const hv_heap_t *h, hv_stats_t *out);

/* ------------------------------------------------------------------------
 * Invariant checker.  Counts violations, never aborts.
 * ---------------------------------------------------------------------- */
typedef struct hv_violation {
    hv_addr_t addr; /* the block concerned (0 when global) */
    char what[120]; /* one sentence                          */
} hv_violation_t;
/* Writes at most max violations to out (out may be NULL); returns how many
 * there are in all (0: consistent). */
int hv_check(const hv_heap_t *h, hv_violation_t *out, int max);

/* ------------------------------------------------------------------------
 * Events: fixed-size records in the shared ring and the process history.
 * ---------------------------------------------------------------------- */
typedef enum hv_event_kind {
    HV_EV_NONE = 0,
    HV_EV_MALLOC,     /* addr=payload size=requested a=block b=block size    */
    HV_EV_CALLOC,     /* same as malloc                                       */
    HV_EV_REALLOC,    /* addr=new payload size=requested a=old payload
                         b=old requested; flags: HV_EVF_MOVED, _INPLACE      */
    HV_EV_FREE,       /* addr=payload size=requested a=block b=block size    */
    HV_EV_SPLIT,      /* addr=block size=its new size a=remainder b=rem size */
    HV_EV_COALESCE,   /* addr=merged block size=merged size a=absorbed block
                         b=absorbed size                                      */
    HV_EV_GROW,       /* addr=old break size=increment; a=bytes asked for by
                         an explicit hv_sbrk (0: the allocator grew it)      */
    HV_EV_SHRINK,     /* addr=new break size=decrement                        */
    HV_EV_MMAP,       /* addr=mapping size=bytes (page-rounded) a=asked for   */
    HV_EV_MUNMAP,     /* addr=mapping size=bytes                              */
    HV_EV_FAIL,       /* a failed request: size=bytes a=hv_fail_reason        */
    HV_EV_ERROR,      /* a memory error: a=error kind (hv_error_kind_t)
                         addr=faulting address size=access size
                         b=id of an interned "site" whose file string is the
                         full report text (line 0, func "report")          */
    HV_EV_LOST,       /* last reference dropped: addr=payload size=requested */
    HV_EV_WRITE,      /* bytes written: addr, size                            */
    HV_EV_FRAME_PUSH, /* addr=frame low size=0 a=depth b=site id of the name
                         (an interned site whose file is the frame's name)   */
    HV_EV_FRAME_POP,  /* addr=frame low size=bytes a=depth                 */
    HV_EV_STACK_ALLOC, /* addr size                                          */
    HV_EV_PLACE,       /* the fit chose a block: addr=block size=its size
                          a=entries searched b=list index                      */
    HV_EV_NOTE,        /* free text from the binding: a=site of note string   */
    HV_EV_KIND_COUNT
} hv_event_kind_t;

enum {
    HV_EVF_MOVED = 1u << 0,   /* realloc moved the block                    */
    HV_EVF_INPLACE = 1u << 1, /* realloc grew or shrank in place           */
    HV_EVF_SUB = 1u << 2,     /* a step inside an operation (split, …)     */
    HV_EVF_FAILED = 1u << 3,  /* the operation failed                      */
};

/* Memory errors the binding detects (HV_EV_ERROR's `a`). */
typedef enum hv_error_kind {
    HV_ERR_SEGV = 1,     /* access outside every mapping            */
    HV_ERR_OVERFLOW = 2, /* access outside its block                */
    HV_ERR_UNINIT = 3,   /* read of never-written bytes             */
    HV_ERR_USE_AFTER_FREE = 4,
    HV_ERR_DOUBLE_FREE = 5,
    HV_ERR_INVALID_FREE = 6,
    HV_ERR_USE_AFTER_RETURN = 7,
    HV_ERR_OVERLAP = 8,     /* memcpy with overlapping regions         */
    HV_ERR_FISHY = 9,       /* an absurd size argument                 */
    HV_ERR_CORRUPTION = 10, /* the allocator found its metadata damaged */
    HV_ERR_LEAK = 11,
} hv_error_kind_t;

typedef enum hv_fail_reason {
    HV_FAIL_NOMEM = 1,    /* the reservation is exhausted                  */
    HV_FAIL_OVERFLOW = 2, /* nmemb * size overflowed (calloc)             */
    HV_FAIL_TOOBIG = 3,   /* larger than the reservation could ever hold   */
} hv_fail_reason_t;

typedef struct hv_event {
    uint64_t seq;   /* index in the history, from 0, never reused      */
    uint64_t op;    /* operation number; sub-events share their op's   */
    uint16_t kind;  /* hv_event_kind_t                                  */
    uint16_t flags; /* HV_EVF_*                                         */
    uint32_t site;
    hv_addr_t addr;
    uint64_t size;
    uint64_t a, b; /* kind-specific, see hv_event_kind_t              */
} hv_event_t;      /* 56 bytes */

/* Short lowercase name of a kind ("malloc", "split"). */
const char *hv_event_kind_name(uint16_t kind);

/* Append an event (the binding records errors, leaks, writes, notes). The
 * seq is assigned here; op = 0 means "a new operation". Returns the seq. */
uint64_t hv_event_record(hv_heap_t *h, const hv_event_t *ev);

/* Recording on or off at run time (the ring and history keep what they
 * have). */
void hv_set_recording(hv_heap_t *h, bool on);

/* History kept in this process: events [first, count) are available;
 * first > 0 once the history limit dropped older ones (truncated). */
uint64_t hv_history_count(const hv_heap_t *h);
uint64_t hv_history_first(const hv_heap_t *h);
bool hv_history_get(const hv_heap_t *h, uint64_t seq, hv_event_t *out);

/* The shared ring (what another process reads): events with seq in
 * [head - capacity, head) are in the ring.  hv_ring_get returns false when
 * seq has been overwritten or not yet written. */
uint64_t hv_ring_head(const hv_heap_t *h);
uint32_t hv_ring_capacity(const hv_heap_t *h);
bool hv_ring_get(const hv_heap_t *h, uint64_t seq, hv_event_t *out);

/* ------------------------------------------------------------------------
 * The heap at its own addresses (the C runtime, csrc/rt)
 * ---------------------------------------------------------------------- */
/* Map the heap (and, with mmap_region, the mmap region) a second time at
 * their user addresses and use those views from now on, so that a C
 * program's pointers are the addresses every view shows.  Needs the memfd
 * and, for the mmap region, no chunk handed out yet.  HV_ESYS with errno
 * EEXIST when something is mapped there already. */
hv_err_t hv_heap_pin(hv_heap_t *h, bool mmap_region);
/* Is the heap pinned (and the mmap region, in *mmap_region)? */
bool hv_heap_pinned(const hv_heap_t *h, bool *mmap_region);
/* After fork(): this process gets its own copy of the arena (a fresh memfd
 * with the same contents, mapped at the same addresses), so that parent
 * and child no longer write one shared heap. */
hv_err_t hv_heap_privatize(hv_heap_t *h);
/* The real address range of the arena's main mapping (ring, tables,
 * shadow): memory a leak scan must not take for roots. */
void hv_heap_span(const hv_heap_t *h, const void **lo, uint64_t *len);

/* ------------------------------------------------------------------------
 * Leaks: valgrind memcheck's classification, LSan's flood fill.
 *
 * Roots are given by the client: memory to scan for pointer values (the C
 * runtime: registers, stacks, data and bss of every module) and single
 * blocks held (the Python binding: its live Pointers).  Every aligned
 * 8-byte word whose value lies in a live block's payload [payload,
 * payload + max(requested, 1)) points at that block; a word pointing at
 * the payload's first byte is a start pointer, any other an interior one.
 * A block reached from the roots through start pointers only is still
 * reachable; through an interior pointer somewhere on every path, possibly
 * lost; not at all, definitely lost — unless another lost block points to
 * it, then indirectly lost (freeing its owner would free it). A block's
 * pointers to itself do not count.
 * ---------------------------------------------------------------------- */
typedef enum hv_leak_kind {
    HV_LEAK_DEFINITE = 0, /* "definitely lost"  (valgrind's order)       */
    HV_LEAK_INDIRECT,     /* "indirectly lost"                            */
    HV_LEAK_POSSIBLE,     /* "possibly lost"                              */
    HV_LEAK_REACHABLE,    /* "still reachable"                            */
    HV_LEAK_KIND_COUNT
} hv_leak_kind_t;

typedef struct hv_leak {
    hv_addr_t block;    /* block start                                  */
    hv_addr_t payload;  /* payload address                              */
    uint64_t requested; /* bytes asked for                              */
    uint64_t seq;       /* operation number of the allocation           */
    uint64_t indirect;  /* definitely lost: the bytes it owns indirectly */
    uint32_t site;      /* allocation site                              */
    uint8_t kind;       /* hv_leak_kind_t                               */
    uint8_t state;      /* hv_block_state_t: allocated or mmapped       */
} hv_leak_t;

typedef struct hv_leak_scan hv_leak_scan_t;

/* Start a scan: every allocated block and mmapped chunk, in address
 * order.  HV_ENOMEM when the tables cannot be made. */
hv_err_t hv_leak_begin(const hv_heap_t *h, hv_leak_scan_t **out);
/* Roots: the aligned words of real memory [mem, mem+len) (read as user
 * addresses); one pointer value; a block held by its start `block` and
 * allocation number `seq` (a start pointer when at_start, else an interior
 * one; a stale seq is ignored); the heap's own root memory (stack objects,
 * sbrk'd bytes and raw mappings of the simulated process). */
void hv_leak_root_range(hv_leak_scan_t *s, const void *mem, uint64_t len);
void hv_leak_root_value(hv_leak_scan_t *s, uint64_t value);
void hv_leak_root_block(hv_leak_scan_t *s, hv_addr_t block, uint64_t seq,
                        bool at_start);
void hv_leak_root_arena(hv_leak_scan_t *s);
/* Pointers to `start`, inside the block whose payload is `payload`, count
 * as pointers to its start (an over-aligned block handed out inside a
 * bigger one). */
void hv_leak_alias(hv_leak_scan_t *s, hv_addr_t payload, hv_addr_t start);
/* Flood fill and classify; then the results, sorted by kind and payload. */
void hv_leak_finish(hv_leak_scan_t *s);
uint64_t hv_leak_count(const hv_leak_scan_t *s);
const hv_leak_t *hv_leak_get(const hv_leak_scan_t *s, uint64_t i);
/* The block containing address a (index into hv_leak_get), or -1. */
int64_t hv_leak_find(const hv_leak_scan_t *s, uint64_t a);
void hv_leak_end(hv_leak_scan_t *s);
/* "definitely lost", "indirectly lost", "possibly lost", "still reachable". */
const char *hv_leak_kind_name(hv_leak_kind_t k);

/* ------------------------------------------------------------------------
 * The words of the reports, shared by the Python side and the C runtime
 * ---------------------------------------------------------------------- */
/* valgrind's words for an address against the block [lo, lo+size):
 * "is 4 bytes after a block of size 40" (no leading "Address"). */
int hv_where(char *buf, size_t n, hv_addr_t addr, hv_addr_t lo, uint64_t size);
/* heapviz's one-paragraph explanation of a kind of error for a student
 * ("use-after-free", "double-free", …): NULL for an unknown key.  Keys in
 * order by index i < hv_advice_count() through hv_advice_key(i). */
const char *hv_advice(const char *key);
unsigned hv_advice_count(void);
const char *hv_advice_key(unsigned i);
/* The message glibc's malloc would abort with for the damage this heap's
 * checks found in function fn ("free", "realloc", "malloc"), given the
 * pointer p passed to it when has_p: "free(): invalid next size (fast)". */
int hv_glibc_words(const hv_heap_t *h, const char *fn, hv_addr_t p, bool has_p,
                   char *buf, size_t n);

/* ------------------------------------------------------------------------
 * Misc
 * ---------------------------------------------------------------------- */
const char *hv_policy_name(hv_policy_t p); /* "first", "segregated", … */
const char *hv_order_name(hv_order_t o);   /* "address", "size-desc", … */
const char *hv_coalesce_name(hv_coalesce_t c);
const char *hv_block_state_name(hv_block_state_t s); /* "allocated", … */

#ifdef __cplusplus
}
#endif
#endif /* HEAPVIZ_HEAPVIZ_H */
