/* null.c — OSTEP Memory API homework, question 1: set a pointer to NULL and
 * dereference it.  The program dies by SIGSEGV; heapviz (as valgrind) says
 * where and why. */
#include <stdio.h>

int main(void)
{
    int *p = NULL;
    printf("about to dereference NULL\n");
    fflush(stdout);
    *p = 42; /* <- error: Invalid write of size 4, then SIGSEGV */
    printf("never printed\n");
    return 0;
}
