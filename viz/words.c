/* words.c — the one wording of events, for every output.
 *
 * The window's event log, the notebook's step descriptions and hover
 * texts, the command line and the pictures' timelines all say what an
 * event did in these words, so two outputs can never describe the same
 * moment differently.  An operation (the events sharing an op number) is
 * described by its main event (the one not flagged HV_EVF_SUB); steps
 * inside it (split, coalesce, growth) are indented.  `sites` (the heap
 * that recorded the events, may be NULL) gives what the event itself
 * cannot hold: an error's report, a frame's name, a note's text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "heapviz/viz.h"

const char *hv_viz_error_name(uint64_t kind)
{
    static const char *const names[] = {
        "error",
        "segmentation fault",
        "buffer overflow",
        "uninitialized read",
        "use after free",
        "double free",
        "invalid free",
        "use after return",
        "overlapping memcpy",
        "fishy size",
        "heap corruption",
        "leak",
    };
    return kind < sizeof names / sizeof names[0] ? names[kind] : "error";
}

/* The text of an interned site (a report, a frame's name, a note): its
 * file string, or NULL. */
static const char *site_text(const hv_heap_t *sites, uint64_t id)
{
    const char *file = NULL, *func = NULL;
    uint32_t line = 0;
    if (sites == NULL || id == 0 || id > UINT32_MAX ||
        !hv_site_get(sites, (uint32_t)id, &file, &line, &func))
        return NULL;
    return file;
}

/* The first line of an error's report ("Invalid write of size 4"). */
static void error_words(const hv_heap_t *sites, const hv_event_t *ev, char *buf,
                        size_t len)
{
    const char *report = site_text(sites, ev->b);
    if (report == NULL || report[0] == '\0') {
        snprintf(buf, len, "✖ %s at 0x%llx", hv_viz_error_name(ev->a),
                 (unsigned long long)ev->addr);
        return;
    }
    size_t n = strcspn(report, "\n");
    snprintf(buf, len, "✖ %.*s", (int)(n < 400 ? n : 400), report);
}

static void frame_words(const hv_heap_t *sites, const hv_event_t *ev, char *buf,
                        size_t len)
{
    const char *name = site_text(sites, ev->b);
    if (name != NULL && name[0])
        snprintf(buf, len, "call %.60s(): a stack frame is pushed", name);
    else
        snprintf(buf, len, "call a function: a stack frame is pushed");
}

static void note_words(const hv_heap_t *sites, const hv_event_t *ev, char *buf,
                       size_t len)
{
    const char *text = site_text(sites, ev->a);
    snprintf(buf, len, "note: %.200s", text ? text : "");
}

static const char *realloc_how(const hv_event_t *ev)
{
    if (ev->flags & HV_EVF_MOVED) return " (moved)";
    if (ev->flags & HV_EVF_INPLACE) return " (in place)";
    return "";
}

/* "→ 0x10010", or "→ NULL" for a failed allocation. */
static void result(const hv_event_t *ev, char *buf, size_t len)
{
    if (ev->flags & HV_EVF_FAILED)
        snprintf(buf, len, "→ NULL");
    else
        snprintf(buf, len, "→ 0x%llx", (unsigned long long)ev->addr);
}

void hv_viz_event_words(const hv_heap_t *sites, const hv_event_t *ev, char *buf,
                        size_t len)
{
    unsigned long long ad = ev->addr, sz = ev->size, a = ev->a, b = ev->b;
    const char *step = (ev->flags & HV_EVF_SUB) ? "  " : "";
    char res[32];
    result(ev, res, sizeof res);
    switch (ev->kind) {
    case HV_EV_MALLOC:
        snprintf(buf, len, "%smalloc(%llu) %s", step, sz, res);
        break;
    case HV_EV_CALLOC:
        snprintf(buf, len, "%scalloc(… %llu B in all) %s", step, sz, res);
        break;
    case HV_EV_REALLOC:
        snprintf(buf, len, "realloc(0x%llx, %llu) %s%s", a, sz, res,
                 realloc_how(ev));
        break;
    case HV_EV_FREE:
        snprintf(buf, len, "%sfree(0x%llx)%s", step, ad,
                 (ev->flags & HV_EVF_FAILED) ? " refused" : "");
        break;
    case HV_EV_SPLIT:
        snprintf(buf, len, "  split 0x%llx: %llu → %llu + %llu", ad, sz + b, sz,
                 b);
        break;
    case HV_EV_COALESCE:
        snprintf(buf, len, "  coalesce 0x%llx + 0x%llx → %llu", ad, a, sz);
        break;
    case HV_EV_GROW: /* a: what sbrk was asked (0: the allocator grew it) */
        snprintf(buf, len, "%ssbrk(%llu): the break moves up to 0x%llx", step,
                 a ? a : sz, ad + sz);
        break;
    case HV_EV_SHRINK:
        snprintf(buf, len, "%ssbrk(-%llu): the break moves down to 0x%llx",
                 step, sz, ad);
        break;
    case HV_EV_MMAP: /* a: the bytes asked for (size: whole pages) */
        snprintf(buf, len, "%smmap(%llu) → 0x%llx", step, a ? a : sz, ad);
        break;
    case HV_EV_MUNMAP:
        snprintf(buf, len, "%smunmap(0x%llx, %llu)", step, ad, sz);
        break;
    case HV_EV_FAIL:
        snprintf(buf, len, "%srequest of %llu B failed → NULL", step, sz);
        break;
    case HV_EV_ERROR:
        error_words(sites, ev, buf, len);
        break;
    case HV_EV_LOST:
        snprintf(buf, len, "leak: the last pointer to 0x%llx (%llu B) is gone",
                 ad, sz);
        break;
    case HV_EV_FRAME_PUSH:
        frame_words(sites, ev, buf, len);
        break;
    case HV_EV_FRAME_POP:
        snprintf(buf, len, "return: the stack frame is popped, its locals die");
        break;
    case HV_EV_STACK_ALLOC:
        snprintf(buf, len, "stack allocation of %llu B at 0x%llx", sz, ad);
        break;
    case HV_EV_PLACE:
        snprintf(buf, len, "  place 0x%llx (%llu B), %llu looked at", ad, sz,
                 a);
        break;
    case HV_EV_WRITE:
        snprintf(buf, len, "write %llu B at 0x%llx", sz, ad);
        break;
    case HV_EV_NOTE:
        note_words(sites, ev, buf, len);
        break;
    default:
        snprintf(buf, len, "%s", hv_event_kind_name(ev->kind));
        break;
    }
}

void hv_viz_event_text(const hv_event_t *ev, char *buf, size_t len)
{
    hv_viz_event_words(NULL, ev, buf, len);
}

/* The main event of an operation: the first not flagged SUB (an error
 * wins: it is what the student must see), else the first. */
static const hv_event_t *main_event(const hv_event_t *evs, size_t n)
{
    const hv_event_t *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].kind == HV_EV_ERROR) return &evs[i];
        if (first == NULL && !(evs[i].flags & HV_EVF_SUB)) first = &evs[i];
    }
    return first ? first : (n ? &evs[0] : NULL);
}

bool hv_viz_op_words(const hv_heap_t *sites, const hv_event_t *evs, size_t n,
                     char *buf, size_t len, uint32_t *site)
{
    const hv_event_t *m = main_event(evs, n);
    *site = 0;
    if (m == NULL) {
        snprintf(buf, len, "nothing");
        return false;
    }
    char text[480];
    hv_viz_event_words(sites, m, text, sizeof text);
    snprintf(buf, len, "%s", text + strspn(text, " "));
    for (size_t i = 0; i < n && *site == 0; i++)
        *site = evs[i].site;
    for (size_t i = 0; i < n; i++)
        if (evs[i].kind == HV_EV_ERROR) return true;
    return false;
}

bool hv_viz_event_logged(const hv_event_t *ev)
{
    return ev->kind != HV_EV_WRITE && ev->kind != HV_EV_NONE;
}

void hv_viz_event_line(const hv_heap_t *h, const hv_event_t *ev, char *buf,
                       size_t len)
{
    char text[120], where[64] = "";
    hv_viz_event_words(h, ev, text, sizeof text);
    const char *file = NULL, *func = NULL;
    uint32_t line = 0;
    if (h && ev->site && hv_site_get(h, ev->site, &file, &line, &func) &&
        file) {
        const char *base = strrchr(file, '/');
        snprintf(where, sizeof where, "  %s:%u", base ? base + 1 : file, line);
    }
    snprintf(buf, len, "%6" PRIu64 "  %s%s", ev->op, text, where);
}
