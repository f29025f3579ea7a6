/* sites.c — call sites (file:line of the student's code) interned in the
 * arena, so events carry a 4-byte id and a reader in another process can
 * print them.  A hash table of chains lives in the arena next to the site
 * records and a pool of NUL-terminated strings; a small process-local
 * cache makes interning the same (file, line, func) again a pointer and a
 * string compare. */
#include "internal.h"

static uint32_t fnv(const char *s, uint32_t hash)
{
    for (; *s; s++)
        hash = (hash ^ (uint8_t)*s) * 16777619u;
    return hash;
}

const char *_hv_pool_str(const hv_heap_t *h, uint32_t off)
{
    return h->pool + off;
}

/* Copy s into the pool; its offset, or UINT32_MAX when the pool is full.
 * Offset 0 is the empty string. */
uint32_t _hv_pool_add(hv_heap_t *h, const char *s)
{
    hv_arena_t *ar = h->ar;
    size_t len = strlen(s);
    if (len == 0) return 0;
    if (len + 1 > HV_POOL_MAX - ar->pool_used) return UINT32_MAX;
    uint32_t off = ar->pool_used;
    memcpy(h->pool + off, s, len + 1);
    ar->pool_used += (uint32_t)len + 1;
    return off;
}

static bool same(const hv_heap_t *h, uint32_t id, const char *file,
                 uint32_t line, const char *func)
{
    const hv_site_rec_t *r = &h->sites[id];
    return r->line == line && strcmp(h->pool + r->file, file) == 0 &&
           strcmp(h->pool + r->func, func) == 0;
}

/* Strings of a new site; a file name equal to the last site's is shared. */
static hv_err_t add_strings(hv_heap_t *h, const char *file, const char *func,
                            hv_site_rec_t *r)
{
    uint32_t last = h->ar->nsites - 1;
    if (last && strcmp(h->pool + h->sites[last].file, file) == 0)
        r->file = h->sites[last].file;
    else if ((r->file = _hv_pool_add(h, file)) == UINT32_MAX)
        return HV_ENOMEM;
    if ((r->func = _hv_pool_add(h, func)) == UINT32_MAX) return HV_ENOMEM;
    return HV_OK;
}

hv_err_t hv_site_intern(hv_heap_t *h, const char *file, uint32_t line,
                        const char *func, uint32_t *out)
{
    *out = 0;
    if (h->readonly) return HV_EREADONLY;
    file = file ? file : "";
    func = func ? func : "";
    unsigned slot = (unsigned)(((uintptr_t)file >> 4) ^ line) & 63;
    if (h->site_cache[slot].file == file && h->site_cache[slot].func == func &&
        h->site_cache[slot].line == line &&
        same(h, h->site_cache[slot].id, file, line, func)) {
        *out = h->site_cache[slot].id;
        return HV_OK;
    }
    hv_arena_t *ar = h->ar;
    uint32_t hash = fnv(func, fnv(file, 2166136261u)) ^ (line * 2654435761u);
    uint32_t *bucket = &h->buckets[hash & (HV_SITE_BUCKETS - 1)];
    uint32_t id = *bucket;
    while (id && !same(h, id, file, line, func))
        id = h->sites[id].next;
    if (!id) {
        hv_site_rec_t r = {.line = line, .next = *bucket};
        if (ar->nsites >= HV_SITES_MAX || add_strings(h, file, func, &r))
            return HV_ENOMEM;
        id = ar->nsites++;
        h->sites[id] = r;
        *bucket = id;
    }
    h->site_cache[slot].file = file;
    h->site_cache[slot].func = func;
    h->site_cache[slot].line = line;
    h->site_cache[slot].id = id;
    *out = id;
    return HV_OK;
}

bool hv_site_get(const hv_heap_t *h, uint32_t site, const char **file,
                 uint32_t *line, const char **func)
{
    if (site == 0 || site >= h->ar->nsites || site >= HV_SITES_MAX)
        return false;
    const hv_site_rec_t *r = &h->sites[site];
    if (file) *file = h->pool + r->file;
    if (line) *line = r->line;
    if (func) *func = h->pool + r->func;
    return true;
}
