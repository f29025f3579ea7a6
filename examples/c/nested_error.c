/* nested_error.c — errors deep in called functions: the report's stack
 * shows every caller up to main. */
#include <stdio.h>
#include <stdlib.h>

static int last(const int *a, int n)
{
    return a[n]; /* <- error: one past the end */
}

static int summarize(const int *a, int n)
{
    return a[0] + last(a, n);
}

static void release(int *a)
{
    free(a);
}

int main(void)
{
    int *a = calloc(5, sizeof *a);
    printf("%d\n", summarize(a, 5));
    release(a);
    release(a); /* <- error: double free, two frames down */
    return 0;
}
