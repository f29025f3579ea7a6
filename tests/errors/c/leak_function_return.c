/* leak_function_return: a function forgets to free its buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void greet(const char *name)
{
    char *buf = malloc(32);
    strcpy(buf, "hello ");
    strcat(buf, name);
    printf("%s\n", buf);
}

int main(void)
{
    greet("Ada"); /* <- lost */
    return 0;
}
