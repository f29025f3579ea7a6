/* clean_strings: strings with room for the NUL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *src = "hello";
    char *dst = malloc(strlen(src) + 1);
    strcpy(dst, src);
    printf("%s\n", dst);
    char *copy = strdup(dst);
    char *line = malloc(32);
    strcpy(line, copy);
    strcat(line, ", world");
    printf("%s %zu\n", line, strlen(line));
    char *shrt = malloc(4);
    strncpy(shrt, "abcdef", 3);
    shrt[3] = 0;
    printf("%s\n", shrt);
    free(dst);
    free(copy);
    free(line);
    free(shrt);
    return 0;
}
