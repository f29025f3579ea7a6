/* ctl.c — the viewer's end of the control socket to the script.
 *
 * Non-blocking both ways: the viewer must never block the script (and the
 * script must never block the window).  Incoming bytes accumulate until a
 * whole message is there; EOF means the script is gone, which is not an
 * error but a notice ("script ended").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "window.h"

struct hv_ctl {
    int fd;
    bool alive;
    uint8_t *buf;
    size_t len, cap;
};

hv_ctl_t *hv_ctl_new(int fd)
{
    hv_ctl_t *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->fd = fd;
    c->alive = fd >= 0;
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return c;
}

void hv_ctl_free(hv_ctl_t *c)
{
    if (c == NULL) return;
    if (c->fd >= 0) close(c->fd);
    free(c->buf);
    free(c);
}

bool hv_ctl_alive(const hv_ctl_t *c) { return c->alive; }

static bool fill(hv_ctl_t *c)
{
    for (;;) {
        if (c->cap - c->len < 65536) {
            size_t ncap = c->cap ? c->cap * 2 : 1 << 17;
            uint8_t *n = realloc(c->buf, ncap);
            if (n == NULL) return true; /* try again later */
            c->buf = n;
            c->cap = ncap;
        }
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n == 0) return false;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
}

bool hv_ctl_poll(hv_ctl_t *c, hv_ctl_fn fn, void *arg)
{
    if (!c->alive) return false;
    bool open = fill(c);
    size_t off = 0;
    while (c->len - off >= 5) {
        uint32_t n;
        memcpy(&n, c->buf + off, 4);
        if (n < 1 || c->len - off - 4 < n) break;
        fn(arg, c->buf[off + 4], (const char *)c->buf + off + 5, n - 1);
        off += 4 + n;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    if (!open) c->alive = false;
    return c->alive;
}

/* Messages to the script are tiny; wait briefly if its buffer is full
 * rather than drop an acknowledgement. */
bool hv_ctl_send(hv_ctl_t *c, int type, const void *data, size_t len)
{
    if (!c->alive) return false;
    uint8_t hdr[5];
    uint32_t n = (uint32_t)len + 1;
    memcpy(hdr, &n, 4);
    hdr[4] = (uint8_t)type;
    const uint8_t *parts[2] = {hdr, data};
    size_t sizes[2] = {5, len};
    for (int i = 0; i < 2; i++) {
        size_t done = 0;
        while (done < sizes[i]) {
            ssize_t w = send(c->fd, parts[i] + done, sizes[i] - done, MSG_NOSIGNAL);
            if (w > 0) {
                done += (size_t)w;
            } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                struct pollfd p = {c->fd, POLLOUT, 0};
                if (poll(&p, 1, 100) <= 0) return false;
            } else {
                c->alive = false;
                return false;
            }
        }
    }
    return true;
}
