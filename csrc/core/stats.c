/* stats.c — hv_stats: a walk over every block (through the walker) for
 * the layout figures, plus the incremental counters for what a walk
 * cannot know (peak payload, operation counts). */
#include "internal.h"

typedef struct tally {
    uint64_t in_use, free_bytes, largest, free_blocks, alloc_blocks;
} tally_t;

static int count_block(const hv_block_t *b, void *arg)
{
    tally_t *t = arg;
    if (b->state == HV_BLOCK_FREE) {
        t->free_bytes += b->size;
        t->free_blocks++;
        if (b->size > t->largest) t->largest = b->size;
    } else if (b->state != HV_BLOCK_STACK) {
        t->in_use += b->size;
        t->alloc_blocks++;
    }
    return 0;
}

void hv_stats(const hv_heap_t *h, hv_stats_t *out)
{
    const hv_counters_t *c = &h->ar->c;
    tally_t t = {0};
    hv_walk(h, count_block, &t);
    *out = (hv_stats_t){
        .heap_size = h->ar->brk + c->mmapped,
        .brk_size = h->ar->brk,
        .mmapped = c->mmapped,
        .in_use = t.in_use,
        .payload = c->payload,
        .peak_payload = c->peak_payload,
        .free_bytes = t.free_bytes,
        .largest_free = t.largest,
        .free_blocks = t.free_blocks,
        .alloc_blocks = t.alloc_blocks,
        .n_malloc = c->n_malloc,
        .n_calloc = c->n_calloc,
        .n_realloc = c->n_realloc,
        .n_free = c->n_free,
        .n_failed = c->n_failed,
        .n_split = c->n_split,
        .n_coalesce = c->n_coalesce,
        .n_grow = c->n_grow,
        .n_mmap = c->n_mmap,
        .n_munmap = c->n_munmap,
        .n_errors = c->n_errors,
        .ops = c->ops,
    };
    if (out->heap_size)
        out->utilization = (double)c->peak_payload / (double)out->heap_size;
    if (t.in_use)
        out->frag_internal = 1.0 - (double)c->payload / (double)t.in_use;
    if (t.free_bytes)
        out->frag_external = 1.0 - (double)t.largest / (double)t.free_bytes;
}
