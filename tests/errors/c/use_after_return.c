/* use_after_return: a pointer to a local that died with its frame. */
#include <stdio.h>

static int *make(void)
{
    int local[10];
    for (int i = 0; i < 10; i++)
        local[i] = i;
    int *volatile p = local; /* hide the dangling return from the compiler */
    return p;
}

int main(void)
{
    int *p = make();
    if (p[3] == 3) /* <- error */
        printf("three\n");
    return 0;
}
