/* use_after_free_reused: the freed memory already belongs to someone else. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *old = malloc(4 * sizeof(int));
    free(old);
    int *fresh = malloc(4 * sizeof(int)); /* may reuse old's memory */
    fresh[0] = 1;
    old[0] = 99; /* <- error */
    printf("%d\n", fresh[0]);
    free(fresh);
    return 0;
}
