/* wild_pointer: a made-up address. */
#include <stdint.h>

int main(void)
{
    int *p = (int *)(uintptr_t)0x87654321;
    *p = 10; /* <- error */
    return 0;
}
