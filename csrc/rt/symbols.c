/* symbols.c — return addresses to `function (file.c:LINE)`, in process.
 *
 * The DWARF line tables are read by gcc's libbacktrace (linked in from
 * libgcc-12-dev: it never calls malloc, it maps the debug data itself, and
 * it finds libc's separate debug files under /usr/lib/debug).  Never by
 * starting a symbolizer: a process started from inside the program would
 * inherit the preload and run under the runtime itself.
 *
 * Frames without line information read as valgrind prints them:
 * `strlen (in /usr/lib/x86_64-linux-gnu/libc.so.6)`, or `???`. */
#include "rt.h"

#include <backtrace.h>
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

static struct backtrace_state *state;

static void quiet(void *data, const char *msg, int errnum)
{
    (void)data;
    (void)msg;
    (void)errnum; /* a module without debug information: no lines */
}

static struct backtrace_state *get_state(void)
{
    if (!state) state = backtrace_create_state(NULL, 1, quiet, NULL);
    return state;
}

typedef struct lookup {
    uintptr_t pc;
    hv_rt_frame_fn fn;
    void *arg;
    int frames;
    const char *symbol;
} lookup_t;

static const char *base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path;
}

static int with_line(void *data, uintptr_t pc, const char *file, int line,
                     const char *function)
{
    (void)pc;
    lookup_t *l = data;
    if (!file && !function) return 0; /* nothing known: syminfo's turn */
    hv_rt_frame_t f = {function, base_name(file), line, NULL};
    l->fn(&f, l->pc, l->arg);
    l->frames++;
    return 0;
}

static void with_symbol(void *data, uintptr_t pc, const char *name,
                        uintptr_t value, uintptr_t size)
{
    (void)pc;
    (void)value;
    (void)size;
    ((lookup_t *)data)->symbol = name;
}

/* dladdr names the main program as it was started ("sed"); valgrind
 * prints its path. */
static const char *object_path(const char *name)
{
    static char exe[512];
    if (name && name[0] == '/') return name;
    if (!exe[0]) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
    }
    return exe[0] ? exe : name;
}

void _hv_rt_symbolize(uintptr_t pc, hv_rt_frame_fn fn, void *arg)
{
    lookup_t l = {pc, fn, arg, 0, NULL};
    struct backtrace_state *s = get_state();
    if (s) backtrace_pcinfo(s, pc - 1, with_line, quiet, &l);
    if (l.frames) return;
    if (s) backtrace_syminfo(s, pc - 1, with_symbol, quiet, &l);
    Dl_info info;
    hv_rt_frame_t f = {l.symbol, NULL, 0, NULL};
    if (dladdr((void *)(pc - 1), &info)) {
        f.object = object_path(info.dli_fname);
        if (!f.function) f.function = info.dli_sname;
    }
    fn(&f, pc, arg);
}

typedef struct data_sym {
    const char *name;
    uintptr_t value, size;
} data_sym_t;

static void got_data(void *data, uintptr_t pc, const char *name,
                     uintptr_t value, uintptr_t size)
{
    (void)pc;
    *(data_sym_t *)data = (data_sym_t){name, value, size};
}

int _hv_rt_data_symbol(uintptr_t addr, const char **name, uintptr_t *value)
{
    data_sym_t d = {0};
    struct backtrace_state *s = get_state();
    if (s) backtrace_syminfo(s, addr, got_data, quiet, &d);
    if (!d.name || addr < d.value || addr - d.value >= (d.size ? d.size : 1))
        return 0;
    *name = d.name;
    *value = d.value;
    return 1;
}

/* ------------------------------------------------------------------------
 * The runtime's own code (its frames are not the program's)
 * ---------------------------------------------------------------------- */
typedef struct range {
    uintptr_t lo, hi;
} range_t;

static range_t own[2];
static int own_known;

static int find_own(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    int slot = strstr(name, "libheapviz_rt")   ? 0
               : strstr(name, "libheapviz_cc") ? 1
                                               : -1;
    for (int i = 0; slot >= 0 && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        own[slot].lo = info->dlpi_addr + ph->p_vaddr;
        own[slot].hi = own[slot].lo + ph->p_memsz;
    }
    return 0;
}

int _hv_rt_is_own_pc(uintptr_t pc)
{
    if (!own_known) {
        dl_iterate_phdr(find_own, NULL);
        own_known = 1;
    }
    for (int i = 0; i < 2; i++)
        if (pc >= own[i].lo && pc < own[i].hi) return 1;
    return 0;
}
