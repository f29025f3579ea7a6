/* init.c — a `heapviz cc` program tells the runtime that it is
 * instrumented: its code (the main program's executable segments) is
 * where stores are tracked, so only what it allocates starts out
 * uninitialised. */
#include "cc.h"

#include <dlfcn.h>
#include <link.h>

typedef struct text {
    uintptr_t lo, hi;
} text_t;

static int main_program(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    text_t *t = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (!t->lo || lo < t->lo) t->lo = lo;
        if (lo + ph->p_memsz > t->hi) t->hi = lo + ph->p_memsz;
    }
    return 1; /* the first entry is the program itself */
}

__attribute__((constructor)) static void at_load(void)
{
    text_t t = {0, 0};
    dl_iterate_phdr(main_program, &t);
    hv_rt_instrumented(t.lo, t.hi);
}

void *_hv_cc_real(void **slot, const char *name)
{
    void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (p) return p;
    hv_rt_depth++; /* dlsym may allocate: the runtime's pool */
    p = dlsym(RTLD_NEXT, name);
    hv_rt_depth--;
    __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    return p;
}
