/* main.c — runs every test group; `--quick` cuts the randomized
 * iteration counts (the valgrind run). */
#include "harness.h"

#include <stdlib.h>

unsigned long t_passed, t_failed;
int t_quick;

void t_report(const char *file, int line, const char *what)
{
    t_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--quick") == 0)
            t_quick = 1;
    test_basics();
    test_fit();
    test_coalesce();
    test_realloc();
    test_mmap();
    test_check();
    test_errors();
    test_events();
    test_attach();
    test_clone();
    test_segregated();
    test_buddy();
    test_shadow();
    test_frames();
    test_stress();
    test_leaks();
    test_pin();
    printf("%lu passed, %lu failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}
