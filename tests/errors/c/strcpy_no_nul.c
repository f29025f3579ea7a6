/* strcpy_no_nul: malloc(strlen(src)) forgets the byte for the NUL. */
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *src = "hello";
    char *dst = malloc(strlen(src)); /* too small! */
    strcpy(dst, src); /* <- error */
    free(dst);
    return 0;
}
