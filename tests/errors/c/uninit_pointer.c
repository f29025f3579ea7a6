/* uninit_pointer: a pointer that was never set. */
#include <stdio.h>

int main(void)
{
    int *x; /* never assigned: holds whatever was on the stack */
    *x = 10; /* <- error */
    printf("%d\n", *x);
    return 0;
}
