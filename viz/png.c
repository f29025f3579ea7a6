/* png.c — a surface as PNG bytes in memory, through SDL2_image.
 *
 * IMG_SavePNG_RW writes to an SDL_RWops; ours appends to a growing buffer
 * so Python gets the bytes without a temporary file.
 */
#include <SDL_image.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

typedef struct membuf {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} membuf_t;

static size_t SDLCALL mem_write(SDL_RWops *rw, const void *p, size_t size,
                                size_t num)
{
    membuf_t *m = rw->hidden.unknown.data1;
    size_t n = size * num;
    if (m->len + n > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 65536;
        while (ncap < m->len + n) ncap *= 2;
        uint8_t *d = SDL_realloc(m->data, ncap);
        if (d == NULL) {
            m->failed = true;
            return 0;
        }
        m->data = d;
        m->cap = ncap;
    }
    memcpy(m->data + m->len, p, n);
    m->len += n;
    return num;
}

static Sint64 SDLCALL mem_size(SDL_RWops *rw)
{
    return (Sint64)((membuf_t *)rw->hidden.unknown.data1)->len;
}

static Sint64 SDLCALL mem_seek(SDL_RWops *rw, Sint64 off, int whence)
{
    /* PNG writing only asks where it is. */
    membuf_t *m = rw->hidden.unknown.data1;
    return whence == RW_SEEK_CUR && off == 0 ? (Sint64)m->len : -1;
}

static size_t SDLCALL mem_read(SDL_RWops *rw, void *p, size_t size, size_t n)
{
    (void)rw, (void)p, (void)size, (void)n;
    return 0;
}

static int SDLCALL mem_close(SDL_RWops *rw)
{
    SDL_FreeRW(rw);
    return 0;
}

bool hv_png_encode(SDL_Surface *s, uint8_t **out, size_t *len, char *err,
                   size_t errlen)
{
    membuf_t m = {0};
    SDL_RWops *rw = SDL_AllocRW();
    if (rw == NULL) {
        snprintf(err, errlen, "heapviz: SDL_AllocRW: %s", SDL_GetError());
        return false;
    }
    rw->type = SDL_RWOPS_UNKNOWN;
    rw->size = mem_size;
    rw->seek = mem_seek;
    rw->read = mem_read;
    rw->write = mem_write;
    rw->close = mem_close;
    rw->hidden.unknown.data1 = &m;
    int rc = IMG_SavePNG_RW(s, rw, 1);
    if (rc != 0 || m.failed) {
        snprintf(err, errlen, "heapviz: IMG_SavePNG_RW: %s",
                 m.failed ? "out of memory" : IMG_GetError());
        SDL_free(m.data);
        return false;
    }
    *out = m.data;
    *len = m.len;
    return true;
}
