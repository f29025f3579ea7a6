/* internal.h — names shared between the core's files, never installed.
 *
 * Two structures hold everything:
 *
 *   hv_arena_t  the header at the start of the shared mapping.  ALL allocator
 *               state lives here (config, break, free-list heads, counters,
 *               ring indices, the mmap and stack tables) and every reference
 *               is an offset, never a pointer, so that a reader in another
 *               process can map the same memfd read-only and walk it.
 *   hv_heap     the process-local handle: real pointers to the sections of
 *               this process's mapping, cached layout values for the hot
 *               path, and the process-local event history.
 *
 * Cross-file functions are `_hv_` and grouped below by the file that
 * defines them; the block layout's (block.c) are in block.h, the free
 * lists' (freelist.c) and the policies' vtable in policy.h.
 */
#ifndef HEAPVIZ_INTERNAL_H
#define HEAPVIZ_INTERNAL_H

#include "heapviz/heapviz.h"

#include <stdatomic.h>
#include <string.h>

#ifndef HV_DEBUG
#define HV_DEBUG 0
#endif

/* For the few hot-path helpers that the compiler would rather call: a
 * call's prologue, epilogue and spilled arguments cost more there than the
 * copies of the code. */
#define HV_ALWAYS_INLINE inline __attribute__((always_inline))

#define HV_NIL            0xFFFFFFFFu /* "no block" in a free-list link        */
#define HV_PAGE           4096u /* the break grows in these steps        */
#define HV_MAGIC          0x4856424Bu /* "HVBK", the optional per-block magic   */
#define HV_ARENA_MAGIC    0x48454150564Full /* "HEAPVIZ" */
#define HV_CHUNK_HDR      16u        /* header of an mmapped chunk            */
#define HV_LISTS_MAX      512        /* free lists (size classes, orders)     */
#define HV_MAPS_MAX       1024       /* live mappings in the mmap region      */
#define HV_STACK_OBJS_MAX 4096       /* objects on the simulated stack        */
#define HV_SITES_MAX      65536      /* interned call sites                   */
#define HV_SITE_BUCKETS   131072     /* hash buckets, a power of two          */
#define HV_POOL_MAX       (4u << 20) /* bytes of interned strings             */
#define HV_HEAP_MAX       (1ull << 30) /* largest max_size (offsets are u32)   */

static const hv_addr_t HV_MMAP_BASE = 0x7f0000000000ull;
static const hv_addr_t HV_STACK_TOP = 0x7ffffffff000ull;

/* ------------------------------------------------------------------------
 * Shared records (all inside the arena)
 * ---------------------------------------------------------------------- */

/* Per-block side table, one 16-byte entry per 16 heap bytes, indexed by
 * block start / 16 (no two blocks start in the same 16 bytes because
 * min_block >= 16).  The entry names which of those 16 offsets it is
 * about, so a stale entry is never mistaken for a block.  Accessors below
 * (the packing keeps the table as dense as the heap it describes). */
typedef struct hv_side {
    uint32_t seq;  /* low 32 bits of the allocation's operation number  */
    uint32_t site; /* allocation site                                   */
    uint32_t size; /* live: bytes requested; freed: where it was freed  */
    uint32_t tag;  /* generation << 8 | (start & 15) << 4 | HV_SIDE_*   */
} hv_side_t;

enum {
    HV_SIDE_LIVE = 1u << 0,  /* an allocated block starts here            */
    HV_SIDE_FREED = 1u << 1, /* the block that started here was freed     */
    HV_SIDE_SBRK = 1u << 2,  /* the live block came from hv_sbrk          */
};

/* A mapping in the mmap region (mmapped chunk or raw hv_mmap). */
typedef struct hv_map {
    uint64_t off;       /* offset in the mmap region                     */
    uint64_t size;      /* bytes, page-rounded                           */
    uint64_t requested; /* bytes asked for                               */
    uint64_t seq;       /* operation number                              */
    uint32_t state;     /* HV_BLOCK_MMAPPED or HV_BLOCK_MAPPING          */
    uint32_t site;
    uint32_t gen; /* unique per mapping, for provenance            */
    uint32_t pad;
} hv_map_t;

/* A frame and an object on the simulated stack (offsets in the region). */
typedef struct hv_frame_rec {
    uint64_t hi;   /* stack pointer when pushed (frame top)  */
    uint32_t name; /* pool offset of the name                */
    uint32_t site;
    uint32_t first_obj; /* first stack object of this frame    */
    uint32_t pad;
} hv_frame_rec_t;

typedef struct hv_stack_obj {
    uint64_t off; /* offset in the stack region             */
    uint64_t size;
    uint64_t seq;
    uint32_t site;
    uint32_t gen;
} hv_stack_obj_t;

/* An interned call site; strings are offsets into the pool. */
typedef struct hv_site_rec {
    uint32_t file, func, line;
    uint32_t next; /* next site in the same hash bucket (0: none) */
} hv_site_rec_t;

/* Counters kept incrementally (hv_stats and hv_check read them). */
typedef struct hv_counters {
    uint64_t payload;      /* requested bytes of live malloc'd blocks   */
    uint64_t peak_payload; /* max of payload over time                  */
    uint64_t in_use;       /* bytes of allocated heap blocks + mappings */
    uint64_t alloc_blocks; /* allocated heap blocks + mappings          */
    uint64_t free_bytes;   /* bytes of blocks on the free lists         */
    uint64_t free_blocks;  /* blocks on the free lists                  */
    uint64_t mmapped;      /* bytes in live mappings                    */
    uint64_t n_malloc, n_calloc, n_realloc, n_free, n_failed;
    uint64_t n_split, n_coalesce, n_grow, n_mmap, n_munmap, n_errors;
    uint64_t ops; /* last operation number handed out          */
} hv_counters_t;

/* ------------------------------------------------------------------------
 * The arena header: the first bytes of the shared mapping.
 *
 *   mapping = [ arena | ring | sites+buckets+pool | side | shadow |
 *               heap (max_size) | mmap region | stack region ]
 *
 * shadow[i] describes byte i of the contiguous heap|mmap|stack span.
 * ---------------------------------------------------------------------- */
typedef struct hv_arena {
    uint64_t magic;       /* HV_ARENA_MAGIC once initialised          */
    uint64_t arena_bytes; /* sizeof(hv_arena_t): a cheap ABI check    */
    uint64_t map_size;    /* bytes of the whole mapping               */
    hv_config_t cfg;

    /* sections, as offsets from the mapping start */
    uint64_t ring_off, sites_off, buckets_off, pool_off, side_off;
    uint64_t shadow_off, heap_off, mmap_off, stack_off;
    uint64_t heap_max, mmap_max, stack_max; /* region sizes              */

    /* block layout (see block.h) */
    uint32_t align, hs, ftr, fftr, min_block, heap_pad, split_min;

    uint64_t brk; /* the break, offset from heap start                   */

    /* free lists: head/tail/count per list, NIL-terminated            */
    uint32_t nlists;
    uint32_t rover; /* next fit's roving pointer (NIL: none)            */
    uint32_t head[HV_LISTS_MAX], tail[HV_LISTS_MAX], count[HV_LISTS_MAX];
    uint64_t nonempty[HV_LISTS_MAX / 64]; /* bit i: list i not empty    */
    uint64_t nonempty_words;  /* bit w: nonempty[w] != 0 (two levels)    */
    uint32_t buddy_min_order; /* list 0 holds this order     */
    uint32_t unmerged;     /* deferred: free blocks may have free neighbours */
    uint32_t mean_request; /* segregated: running mean of block sizes    */

    hv_counters_t c;

    /* events: the ring and the seqlock */
    _Atomic uint64_t ring_head; /* next seq; events [head-cap, head)     */
    _Atomic uint64_t version;   /* odd while an operation is in progress */
    uint32_t ring_mask;
    uint32_t recording;

    /* call sites */
    uint32_t nsites, pool_used;

    /* the mmap region: live mappings sorted by offset */
    uint32_t nmaps, map_gen;
    hv_map_t maps[HV_MAPS_MAX];

    /* the simulated stack */
    uint64_t sp; /* offset in the stack region; objects lie at [sp, top) */
    uint32_t depth, nobjs, obj_gen, pad;
    hv_frame_rec_t frames[HV_FRAMES_MAX];
    hv_stack_obj_t objs[HV_STACK_OBJS_MAX];
} hv_arena_t;

/* ------------------------------------------------------------------------
 * The process-local handle
 * ---------------------------------------------------------------------- */
struct hv_policy_ops;

struct hv_heap {
    hv_arena_t *ar; /* the mapping start                         */
    uint64_t map_size;
    int fd;           /* memfd, -1 when anonymous                  */
    bool readonly;    /* attached reader                           */
    bool check_each;  /* hv_check after every operation            */
    bool shadow_on;   /* cfg.shadow, cached                        */
    bool recording;   /* the arena's `recording`, cached           */
    bool one_list;    /* the policy keeps a single free list       */
    bool pinned_heap; /* h->heap is a second mapping at the heap's user
                         address (hv_heap_pin)                      */
    bool pinned_mmap; /* h->mmap likewise, at HV_MMAP_BASE         */
    uint8_t *heap;    /* heap start                                */
    uint8_t *mmap;    /* mmap region start                         */
    uint8_t *stack;   /* stack region start                        */
    uint8_t *shadow;  /* shadow of heap|mmap|stack                 */
    hv_side_t *side;
    hv_event_t *ring;
    hv_site_rec_t *sites;
    uint32_t *buckets;
    char *pool;
    const struct hv_policy_ops *pol;
    hv_order_t order; /* the order the lists are kept in           */
    hv_addr_t base;   /* user address of heap start                */

    /* copies of the arena's layout, read on every operation */
    uint32_t hs;   /* header bytes                              */
    uint32_t ftr;  /* footer bytes of an allocated block        */
    uint32_t fftr; /* footer bytes of a free block (0: buddy)   */
    uint32_t align, min_block, heap_pad, split_min;
    uint32_t epi_size; /* bytes after the last block: the epilogue
                          header (hs), 0 for buddy                  */

    /* the operation in progress (events share its op and site) */
    uint64_t cur_op;
    uint32_t cur_site;
    uint64_t fresh_op;  /* the operation that made the heap block at */
    uint32_t fresh_off; /* fresh_off (see hv_block_fresh)          */

    /* process-local history: a buffer that grows up to history_limit,
     * then wraps (event seq s lives at hist[s % hist_cap]) */
    hv_event_t *hist;
    uint64_t hist_cap;
    uint64_t hist_pos; /* where the next event goes                 */
    uint64_t hist_limit;
    bool hist_in_ring; /* history_limit <= ring capacity: the ring itself
                          is the history, and events are stored once      */
    bool hist_copy;    /* a history and not in the ring: each event is
                          copied to hist too                             */

    uint64_t populated; /* heap bytes whose pages (and side table and
                           shadow) are already faulted in              */

    /* last interned sites, checked by content before use */
    struct {
        const char *file, *func;
        uint32_t line, id;
    } site_cache[64];
};

/* The side-table entry of the block starting at off. */
static inline hv_side_t *_hv_side(const hv_heap_t *h, uint32_t off)
{
    return &h->side[off >> 4];
}
/* HV_SIDE_* flags when the entry describes a block starting exactly at
 * off, else 0. */
static inline uint32_t _hv_side_flags(const hv_side_t *s, uint32_t off)
{
    uint32_t f = s->tag & 15;
    return f && ((s->tag >> 4) & 15) == (off & 15) ? f : 0;
}
static inline uint32_t _hv_side_gen(const hv_side_t *s)
{
    return s->tag >> 8;
}
/* The start offset an entry at index idx describes. */
static inline uint32_t _hv_side_start(const hv_side_t *s, uint32_t idx)
{
    return idx << 4 | ((s->tag >> 4) & 15);
}
/* The full operation number: the latest one whose low bits match. */
static inline uint64_t _hv_side_seq(const hv_heap_t *h, const hv_side_t *s)
{
    uint64_t now = h->ar->c.ops;
    return now - (uint32_t)((uint32_t)now - s->seq);
}
static inline void _hv_side_live(hv_side_t *s, uint32_t off, uint64_t op,
                                 uint32_t site, uint32_t n, uint32_t flags)
{
    s->seq = (uint32_t)op;
    s->site = site;
    s->size = n;
    s->tag = (s->tag & ~0xFFu) | (off & 15) << 4 | flags;
}
/* A free of the block at off: the generation moves on. */
static inline void _hv_side_freed(hv_side_t *s, uint32_t off, uint32_t site)
{
    s->size = site;
    s->tag = ((s->tag >> 8) + 1) << 8 | (off & 15) << 4 | HV_SIDE_FREED;
}

/* Live requested bytes change by delta (two's complement when they drop);
 * the peak is CS:APP's utilization numerator. */
static inline void _hv_add_payload(hv_arena_t *ar, uint64_t delta)
{
    ar->c.payload += delta;
    if (ar->c.payload > ar->c.peak_payload) ar->c.peak_payload = ar->c.payload;
}

/* Rounding helpers (a is a power of two). */
static inline uint64_t _hv_round_up(uint64_t n, uint64_t a)
{
    return (n + a - 1) & ~(a - 1);
}

/* ------------------------------------------------------------------------
 * os.c — the only file that talks to the kernel about memory
 * ---------------------------------------------------------------------- */
int _hv_os_create(uint64_t size, int *fd, void **out);
int _hv_os_attach(int fd, bool readonly, void **out, uint64_t *size);
int _hv_os_unmap(void *p, uint64_t size);
int _hv_os_protect(void *p, uint64_t size, bool accessible);
int _hv_os_release(int fd, void *p, uint64_t off, uint64_t size);
int _hv_os_populate(void *p, uint64_t size);
uint64_t _hv_os_page_size(void);
int _hv_os_map_fixed(int fd, uint64_t off, uint64_t size, uint64_t addr,
                     bool accessible);
int _hv_os_remap(int fd, uint64_t off, void *p, uint64_t size, bool accessible);
int _hv_os_copy_fd(int fd, uint64_t size, int *out);

/* ------------------------------------------------------------------------
 * config.c
 * ---------------------------------------------------------------------- */
hv_err_t _hv_config_validate(const hv_config_t *cfg, const char **bad_field);

/* ------------------------------------------------------------------------
 * arena.c — lays out the mapping and builds handles over it
 * ---------------------------------------------------------------------- */
void _hv_arena_bind(hv_heap_t *h, void *map, uint64_t map_size);
void _hv_arena_populate(hv_heap_t *h);

/* ------------------------------------------------------------------------
 * brk.c — the break and hv_sbrk
 * ---------------------------------------------------------------------- */
void _hv_brk_init(hv_heap_t *h);
hv_err_t _hv_brk_grow(hv_heap_t *h, uint64_t incr, uint32_t *new_block);
hv_err_t _hv_brk_extend_for(hv_heap_t *h, uint32_t need, uint32_t *block);

/* ------------------------------------------------------------------------
 * mmap.c — chunks and raw mappings in the mmap region
 * ---------------------------------------------------------------------- */
hv_map_t *_hv_map_find(const hv_heap_t *h, hv_addr_t a);
hv_addr_t _hv_map_addr(const hv_map_t *m);
hv_err_t _hv_chunk_alloc(hv_heap_t *h, uint64_t n, uint8_t st, hv_map_t **out);
hv_err_t _hv_chunk_free(hv_heap_t *h, hv_map_t *m);
hv_map_t *_hv_chunk_of_payload(const hv_heap_t *h, hv_addr_t p);

/* ------------------------------------------------------------------------
 * heap.c — the memory API
 * ---------------------------------------------------------------------- */
hv_err_t _hv_op_done(hv_heap_t *h, hv_err_t err);
hv_err_t _hv_place(hv_heap_t *h, uint32_t *off, uint32_t asize,
                   uint32_t searched, bool grew);
uint32_t _hv_adjust(const hv_heap_t *h, uint64_t n);

/* ------------------------------------------------------------------------
 * events.c
 * ---------------------------------------------------------------------- */
void _hv_op_begin(hv_heap_t *h, uint32_t site);
void _hv_op_end(hv_heap_t *h);
void _hv_history_copy(hv_heap_t *h, const hv_event_t *e);
void _hv_history_free(hv_heap_t *h);

/* A step or an operation of the operation in progress, written straight
 * into its ring slot and then published (single writer: a release store
 * of the head).  Inline: a malloc/free pair records five of these, and
 * building each on the stack to copy it cost a store-forwarding stall. */
static inline void _hv_emit(hv_heap_t *h, uint16_t kind, uint16_t flags,
                            uint64_t addr, uint64_t size, uint64_t a,
                            uint64_t b)
{
    if (!h->recording) return;
    hv_arena_t *ar = h->ar;
    uint64_t seq = atomic_load_explicit(&ar->ring_head, memory_order_relaxed);
    hv_event_t *slot = &h->ring[seq & ar->ring_mask];
    slot->seq = seq;
    slot->op = h->cur_op;
    slot->kind = kind;
    slot->flags = flags;
    slot->site = h->cur_site;
    slot->addr = addr;
    slot->size = size;
    slot->a = a;
    slot->b = b;
    if (h->hist_copy) _hv_history_copy(h, slot);
    atomic_store_explicit(&ar->ring_head, seq + 1, memory_order_release);
}

/* ------------------------------------------------------------------------
 * shadow.c — per-byte state (only when cfg.shadow)
 * ---------------------------------------------------------------------- */
void _hv_shadow_fill(hv_heap_t *h, uint64_t roff, uint64_t len, uint8_t st);
void _hv_shadow_free_block(hv_heap_t *h, uint32_t off, uint32_t size);
void _hv_shadow_merge(hv_heap_t *h, uint32_t left, uint32_t right,
                      uint32_t right_size);
void _hv_shadow_alloc_block(hv_heap_t *h, uint32_t off, uint32_t size,
                            uint64_t requested, uint8_t st);
void _hv_shadow_free_header(hv_heap_t *h, uint32_t off, uint32_t size);
void _hv_shadow_resize(hv_heap_t *h, uint32_t off, uint32_t size, uint64_t old,
                       uint64_t n);

/* ------------------------------------------------------------------------
 * sites.c
 * ---------------------------------------------------------------------- */
uint32_t _hv_pool_add(hv_heap_t *h, const char *s);
const char *_hv_pool_str(const hv_heap_t *h, uint32_t off);

/* ------------------------------------------------------------------------
 * walk.c — the one walker
 * ---------------------------------------------------------------------- */
typedef enum hv_walk_stop {
    HV_WALK_DONE = 0, /* reached the epilogue exactly                */
    HV_WALK_VISITOR,  /* the visitor asked to stop                    */
    HV_WALK_DAMAGED,  /* a header made the next step unsafe           */
} hv_walk_stop_t;
typedef struct hv_walk_state {
    hv_walk_stop_t stop;
    uint32_t at;  /* offset where the walk stopped                */
    char why[80]; /* what was wrong (DAMAGED)                     */
} hv_walk_state_t;
int _hv_walk_heap(const hv_heap_t *h, hv_visit_fn fn, void *arg,
                  hv_walk_state_t *st);
int _hv_walk_list(const hv_heap_t *h, int list, hv_visit_fn fn, void *arg,
                  hv_walk_state_t *st);
void _hv_describe(const hv_heap_t *h, uint32_t off, hv_block_t *b);

/* ------------------------------------------------------------------------
 * check.c
 * ---------------------------------------------------------------------- */
bool _hv_check_fails(const hv_heap_t *h);

#endif /* HEAPVIZ_INTERNAL_H */
