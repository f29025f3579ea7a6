/* wording.c — the words heapviz's reports share between the Python side
 * (heapviz/errors.py) and the C runtime (csrc/rt): valgrind's offset
 * wording and heapviz's one-paragraph explanation of each kind of error
 * for a student.  Written once, here; errors.py reads them through the
 * binding (csrc/py/leaks.c). */
#include "internal.h"

#include <stdio.h>

int hv_where(char *buf, size_t n, hv_addr_t addr, hv_addr_t lo, uint64_t size)
{
    unsigned long long sz = (unsigned long long)size;
    if (addr < lo)
        return snprintf(buf, n, "is %llu bytes before a block of size %llu",
                        (unsigned long long)(lo - addr), sz);
    if (addr - lo >= size)
        return snprintf(buf, n, "is %llu bytes after a block of size %llu",
                        (unsigned long long)(addr - lo - size), sz);
    return snprintf(buf, n, "is %llu bytes inside a block of size %llu",
                    (unsigned long long)(addr - lo), sz);
}

/* Keyed by the names errors.py uses; the order is the table's. */
static const struct {
    const char *key, *text;
} ADVICE[] = {
    {"null", "The pointer is NULL: nothing was allocated, or malloc() failed "
             "and returned NULL. Allocate first (p = malloc(n)) and check "
             "the result against NULL before using it."},
    {"uninit-pointer",
     "The pointer was declared but never given a value, so it holds "
     "garbage (here 0). Set every pointer before use: to what "
     "malloc() returned, or to NULL."},
    {"wild", "No memory is mapped at this address: the pointer was made up "
             "(cast from an integer) or computed wrongly. Use only addresses "
             "malloc() or & gave you."},
    {"segv", "The access left every mapped region: the C program is killed "
             "here by SIGSEGV. Check the pointer arithmetic and the sizes "
             "the program relies on."},
    {"overflow",
     "The access falls outside the block it belongs to: the block is "
     "smaller than the code assumes. Allocate enough (count * "
     "sizeof(type), strlen(s) + 1 for strings) and keep indexes "
     "within 0 .. count-1."},
    {"uninit", "malloc() does not clear memory: these bytes hold whatever was "
               "there before. Write them first, or allocate with calloc() to "
               "get zeroes."},
    {"uninit-realloc",
     "realloc() keeps the old contents, but the bytes it added hold "
     "garbage. Write them before reading them."},
    {"uninit-stack",
     "A local variable starts with garbage: C does not initialize "
     "automatic memory. Give it a value before reading it."},
    {"use-after-free",
     "The block was freed, so the pointer dangles: the memory may "
     "already belong to someone else. Free a block only when nothing "
     "uses it any more, and set the pointer to NULL after free()."},
    {"use-after-realloc",
     "realloc() moved the block and freed the old one: the old "
     "pointer dangles. Always continue with the pointer realloc() "
     "returned (p = realloc(p, n))."},
    {"double-free",
     "The block was already freed. Freeing twice corrupts the "
     "allocator's free list; set the pointer to NULL after free() so "
     "a second free(NULL) does nothing."},
    {"invalid-free",
     "free() and realloc() take exactly a pointer that malloc(), "
     "calloc() or realloc() returned — not one into the middle of a "
     "block, not stack memory, not a made-up address."},
    {"stack-free",
     "Stack memory (local variables) is released automatically when "
     "the function returns; only memory from malloc() may be given "
     "to free()."},
    {"use-after-return",
     "The object lived in a stack frame that has returned; its "
     "memory is reused by the next call. Return heap memory (malloc) "
     "or copy the value out instead."},
    {"overlap", "memcpy() requires source and destination not to overlap; the "
                "result is undefined. Use memmove() when the regions may "
                "overlap."},
    {"overlap-string",
     "The source string and the destination overlap; the result is "
     "undefined. Copy through a separate buffer, or use memmove() "
     "with the length."},
    {"fishy", "The size is negative (or absurdly large): as a size_t it "
              "becomes a huge number. Check the arithmetic that produced it."},
    {"calloc-overflow",
     "nmemb * size does not fit in a size_t, so calloc() returns "
     "NULL. Check the result of every allocation against NULL, and "
     "the sizes you multiply."},
    {"corruption",
     "The allocator's bookkeeping (a header, footer or free-list "
     "link) has been overwritten, usually by an earlier write past "
     "the end of a block or by a double free; glibc aborts the "
     "program here. Fix the first error reported."},
};

#define N_ADVICE (sizeof ADVICE / sizeof ADVICE[0])

const char *hv_advice(const char *key)
{
    for (unsigned i = 0; key && i < N_ADVICE; i++)
        if (strcmp(ADVICE[i].key, key) == 0) return ADVICE[i].text;
    return NULL;
}

unsigned hv_advice_count(void)
{
    return (unsigned)N_ADVICE;
}

const char *hv_advice_key(unsigned i)
{
    return i < N_ADVICE ? ADVICE[i].key : NULL;
}

/* Did hv_check find a broken free list? */
static bool list_damaged(const hv_heap_t *h)
{
    hv_violation_t v[16];
    int n = hv_check(h, v, 16);
    for (int i = 0; i < n && i < 16; i++)
        if (strstr(v[i].what, "list")) return true;
    return false;
}

int hv_glibc_words(const hv_heap_t *h, const char *fn, hv_addr_t p, bool has_p,
                   char *buf, size_t n)
{
    bool release = strcmp(fn, "free") == 0 || strcmp(fn, "realloc") == 0;
    if (release && has_p) { /* what glibc sees at the chunk it is given */
        hv_layout_t l;
        hv_block_t b, next;
        hv_heap_layout(h, &l);
        if (hv_block_at(h, p - l.header_size, &b) || b.size == 0 ||
            (b.header & ~7u) != b.size)
            return snprintf(buf, n, "%s(): invalid size", fn);
        if (hv_block_at(h, b.addr + b.size, &next) ||
            (next.header & ~7u) == 0 || (next.header & ~7u) > 1u << 30)
            return snprintf(buf, n, "%s(): invalid next size (%s)", fn,
                            b.size <= 128 ? "fast" : "normal");
        if (b.state != HV_BLOCK_ALLOCATED && b.state != HV_BLOCK_MMAPPED)
            return snprintf(buf, n, "double free or corruption (fasttop)");
        return strcmp(fn, "free") == 0
                   ? snprintf(buf, n, "free(): corrupted unsorted chunks")
                   : snprintf(buf, n, "%s(): invalid old size", fn);
    }
    if (list_damaged(h))
        return snprintf(buf, n, "%s(): corrupted double-linked list",
                        strcmp(fn, "free") == 0 ? "free" : "malloc");
    return snprintf(buf, n, "%s(): memory corruption", fn);
}
