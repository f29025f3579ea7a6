/* uninit_branch: OSTEP "forgetting to initialize" — deciding on garbage. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *count = malloc(sizeof(int));
    if (*count > 0) /* <- error */
        printf("positive\n");
    free(count);
    return 0;
}
