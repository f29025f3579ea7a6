/* free_stack: a local array lives on the stack; free() cannot take it. */
#include <stdlib.h>

int main(void)
{
    int x[10];
    x[0] = 1;
    free(x); /* <- error */
    return 0;
}
