/* block.h — the block layout: how a header word encodes a block, where the
 * footer and the free-list links live, and the operations every policy
 * shares (split, coalesce).  Offsets are bytes from heap start (uint32).
 *
 * The textbook layout (CS:APP 9.9), one cell = 4 bytes:
 *
 *      allocated block                      free block
 *   +----------------------------+      +----------------------------+
 *   | size            | 0 | p | 1|      | size            | 0 | p | 0|  header
 *   +----------------------------+      +----------------------------+
 *   | magic (cfg.magic only)     |      | magic (cfg.magic only)     |
 *   +----------------------------+ <-+  +----------------------------+
 *   |                            |   |  | next free (offset or NIL)  |
 *   |  payload, `align`-aligned  |   |  | prev free (offset or NIL)  |
 *   |                            |   |  |  (unused)                  |
 *   +----------------------------+   |  +----------------------------+
 *   | footer (cfg.footer only)   |   |  | footer = copy of header    |
 *   +----------------------------+   |  +----------------------------+
 *                                  payload
 *
 *   size  whole block in bytes, a multiple of align (so bits 0-1 are free)
 *   1/0   bit 0: this block is allocated
 *   p     bit 1: the previous block is allocated — that is why an
 *         allocated block needs no footer: only free blocks are ever
 *         looked at from their right neighbour.
 *
 * The heap:  [pad][block][block]...[block][epilogue: size 0, allocated] brk
 * The pad (heap_pad bytes) makes the first payload aligned.  Buddy blocks
 * use the same header word in a header of `align` bytes and no footer.
 */
#ifndef HEAPVIZ_BLOCK_H
#define HEAPVIZ_BLOCK_H

#include "internal.h"

enum { HV_BIT_ALLOC = 1u, HV_BIT_PREV = 2u };

static inline uint32_t *_hv_w(const hv_heap_t *h, uint32_t off)
{
    return (uint32_t *)(void *)(h->heap + off);
}
static inline uint32_t _hv_bsize(uint32_t w)
{
    return w & ~3u;
}
static inline bool _hv_balloc(uint32_t w)
{
    return (w & HV_BIT_ALLOC) != 0;
}
static inline bool _hv_bprev(uint32_t w)
{
    return (w & HV_BIT_PREV) != 0;
}
static inline uint32_t _hv_pack(uint32_t size, bool alloc, bool prev)
{
    return size | (alloc ? HV_BIT_ALLOC : 0) | (prev ? HV_BIT_PREV : 0);
}

static inline uint32_t _hv_hdr(const hv_heap_t *h, uint32_t off)
{
    return *_hv_w(h, off);
}
/* The header word plus, with cfg.magic, the magic word after it. */
static inline void _hv_put_hdr(hv_heap_t *h, uint32_t off, uint32_t w)
{
    *_hv_w(h, off) = w;
    if (h->hs >= 8 && h->ar->cfg.magic) _hv_w(h, off)[1] = HV_MAGIC;
}
static inline uint32_t _hv_ftr(const hv_heap_t *h, uint32_t off, uint32_t size)
{
    return *_hv_w(h, off + size - 4);
}
static inline void _hv_put_ftr(hv_heap_t *h, uint32_t off, uint32_t size,
                               uint32_t w)
{
    *_hv_w(h, off + size - 4) = w;
}

/* Free-list links, right after the header of a free block. */
static inline uint32_t _hv_next(const hv_heap_t *h, uint32_t off)
{
    return *_hv_w(h, off + h->hs);
}
static inline uint32_t _hv_prev(const hv_heap_t *h, uint32_t off)
{
    return *_hv_w(h, off + h->hs + 4);
}
static inline void _hv_set_next(hv_heap_t *h, uint32_t off, uint32_t v)
{
    *_hv_w(h, off + h->hs) = v;
}
static inline void _hv_set_prev(hv_heap_t *h, uint32_t off, uint32_t v)
{
    *_hv_w(h, off + h->hs + 4) = v;
}

/* The epilogue header sits at brk - hs (not for buddy). */
static inline uint32_t _hv_epilogue(const hv_heap_t *h)
{
    return (uint32_t)h->ar->brk - h->hs;
}
static inline hv_addr_t _hv_uaddr(const hv_heap_t *h, uint32_t off)
{
    return h->base + off;
}
/* Could `off` be a block start (or the epilogue)?  Bounds and alignment
 * only; used before trusting any offset read from the heap. */
static inline bool _hv_start_ok(const hv_heap_t *h, uint32_t off)
{
    return off >= h->heap_pad && (uint64_t)off + h->hs <= h->ar->brk &&
           ((off + h->hs) & (h->align - 1)) == 0;
}
/* Is w a plausible header for a non-epilogue block at off? */
static inline bool _hv_size_ok(const hv_heap_t *h, uint32_t off, uint32_t w)
{
    uint32_t size = _hv_bsize(w);
    return size >= h->min_block && (size & (h->align - 1)) == 0 &&
           (uint64_t)off + size + h->epi_size <= h->ar->brk;
}

/* ------------------------------------------------------------------------
 * block.c
 * ---------------------------------------------------------------------- */
void _hv_block_set_free(hv_heap_t *h, uint32_t off, uint32_t size, bool prev);
void _hv_block_set_alloc(hv_heap_t *h, uint32_t off, uint32_t size, bool prev);
void _hv_block_tell_next(hv_heap_t *h, uint32_t off, uint32_t size, bool alloc);
uint32_t _hv_block_split(hv_heap_t *h, uint32_t off, uint32_t keep);
uint32_t _hv_block_take(hv_heap_t *h, uint32_t off, uint32_t size,
                        uint32_t asize, bool prev, bool back, uint32_t *blk);
hv_err_t _hv_block_free(hv_heap_t *h, uint32_t *off);
hv_err_t _hv_block_prev(const hv_heap_t *h, uint32_t off, uint32_t *prev);
hv_err_t _hv_block_join(hv_heap_t *h, uint32_t *off, bool coalesce);
hv_err_t _hv_block_absorb_next(hv_heap_t *h, uint32_t off);
hv_err_t _hv_coalesce_all(hv_heap_t *h, bool *merged);

#endif /* HEAPVIZ_BLOCK_H */
