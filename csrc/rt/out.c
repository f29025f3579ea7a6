/* out.c — the report, as valgrind writes it: lines on stderr, each
 * prefixed `==heapviz==` (valgrind's `==PID==`), call stacks as
 *
 *    at 0x1091A6: main (prog.c:12)
 *    by 0x4A0AE49: strdup (strdup.c:42)
 *    by 0x10915E: ??? (in /usr/bin/sort)
 *
 * A report is gathered in a buffer and written with one write(2) per
 * line group, so that the program's own stderr output and ours do not
 * interleave mid-line; the same text (without prefixes) is what the error
 * event carries for the viewer. */
#include "rt.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PREFIX "==heapviz== "

static char text[1 << 16]; /* the report so far, lines without prefix */
static size_t used;

static void put_line(const char *s, size_t n)
{
    if (used + n + 2 > sizeof text) _hv_rt_out_flush();
    if (n > sizeof text - 2) n = sizeof text - 2;
    memcpy(text + used, s, n);
    used += n;
    text[used++] = '\n';
    text[used] = 0;
}

void _hv_rt_out(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    put_line(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void _hv_rt_out_text(const char *s)
{
    put_line(s, strlen(s));
}

const char *_hv_rt_out_report(void)
{
    return text;
}

/* stderr, kept on a descriptor of our own: programs close theirs before
 * they exit (mawk does), and the summaries come after that — valgrind
 * keeps its log descriptor out of the program's reach too. */
static int log_fd = 2;

void _hv_rt_out_init(void)
{
    int fd = fcntl(2, F_DUPFD_CLOEXEC, 1000);
    if (fd >= 0) log_fd = fd;
}

static void write_all(const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(log_fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

void _hv_rt_out_flush(void)
{
    static char buf[sizeof text + (sizeof text / 2) * (sizeof PREFIX)];
    size_t n = 0;
    for (const char *p = text; p < text + used;) {
        const char *nl = memchr(p, '\n', (size_t)(text + used - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(text + used - p);
        if (n + len + sizeof PREFIX + 1 > sizeof buf) {
            write_all(buf, n);
            n = 0;
        }
        memcpy(buf + n, PREFIX, len ? sizeof PREFIX - 1 : sizeof PREFIX - 2);
        n += len ? sizeof PREFIX - 1 : sizeof PREFIX - 2;
        memcpy(buf + n, p, len);
        n += len;
        buf[n++] = '\n';
        p += len + 1;
    }
    write_all(buf, n);
    used = 0;
    text[0] = 0;
}

/* ------------------------------------------------------------------------
 * Stacks
 * ---------------------------------------------------------------------- */
typedef struct frame_out {
    int first; /* "at" still to be written */
} frame_out_t;

static void one_frame(const hv_rt_frame_t *f, uintptr_t pc, void *arg)
{
    frame_out_t *o = arg;
    const char *word = o->first ? "at" : "by";
    const char *fn = f->function ? f->function : "???";
    o->first = 0;
    if (f->file)
        _hv_rt_out("   %s 0x%lX: %s (%s:%d)", word, (unsigned long)(pc - 1), fn,
                   f->file, f->line);
    else if (f->object)
        _hv_rt_out("   %s 0x%lX: %s (in %s)", word, (unsigned long)(pc - 1), fn,
                   f->object);
    else
        _hv_rt_out("   %s 0x%lX: %s", word, (unsigned long)(pc - 1), fn);
}

void _hv_rt_out_stack(const hv_rt_stack_t *st, const char *entry)
{
    frame_out_t o = {1};
    if (!entry && st) entry = st->entry;
    if (entry) { /* the runtime function first, as valgrind shows its own */
        void *at = dlsym(RTLD_DEFAULT, entry);
        Dl_info info;
        hv_rt_frame_t f = {entry, NULL, 0, NULL};
        if (at && dladdr(at, &info)) f.object = info.dli_fname;
        one_frame(&f, (uintptr_t)at + 1, &o);
    }
    if (!st || !st->n) {
        if (o.first) _hv_rt_out("   at 0x0: ???");
        return;
    }
    for (uint32_t i = 0; i < st->n; i++) {
        if (_hv_rt_is_own_pc(st->pc[i])) { /* heapviz's own code: one frame */
            if (i + 1 < st->n && _hv_rt_is_own_pc(st->pc[i + 1])) continue;
            Dl_info info;
            hv_rt_frame_t f = {NULL, NULL, 0, NULL};
            if (dladdr((void *)(st->pc[i] - 1), &info)) {
                f.function = info.dli_sname;
                f.object = info.dli_fname;
            }
            one_frame(&f, st->pc[i], &o);
            continue;
        }
        _hv_rt_symbolize(st->pc[i], one_frame, &o);
    }
}

/* The innermost frame with a source line outside the runtime. */
typedef struct site_find {
    char *buf;
    size_t n;
    int found;
} site_find_t;

static void site_frame(const hv_rt_frame_t *f, uintptr_t pc, void *arg)
{
    (void)pc;
    site_find_t *s = arg;
    if (s->found || !f->file) return;
    snprintf(s->buf, s->n, "%s:%d", f->file, f->line);
    s->found = 1;
}

void _hv_rt_site_text(const hv_rt_stack_t *st, char *buf, size_t n)
{
    site_find_t s = {buf, n, 0};
    buf[0] = 0;
    for (uint32_t i = 0; st && i < st->n && !s.found; i++)
        if (!_hv_rt_is_own_pc(st->pc[i]))
            _hv_rt_symbolize(st->pc[i], site_frame, &s);
}
