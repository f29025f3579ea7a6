/* string_after_free: printing a string that was freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *name = strdup("Alice");
    free(name);
    printf("%s\n", name); /* <- error */
    return 0;
}
