/* null_deref: forgetting to allocate — dereferencing NULL. */
#include <stdlib.h>

int main(void)
{
    int *p = NULL;
    *p = 10; /* <- error */
    return 0;
}
