/* strings.c — strings on the heap done right: strdup, strcat into a buffer
 * sized with strlen() + 1, snprintf, strncpy with its NUL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *join(const char *a, const char *b)
{
    char *s = malloc(strlen(a) + strlen(b) + 2);
    strcpy(s, a);
    strcat(s, " ");
    strcat(s, b);
    return s;
}

int main(void)
{
    char *first = strdup("Memory");
    char *second = strndup("API chapter", 3);
    char *both = join(first, second);
    char small[8];
    strncpy(small, both, sizeof small - 1);
    small[sizeof small - 1] = 0;
    char *line = malloc(64);
    snprintf(line, 64, "[%s] has %zu chars, starts \"%s\"", both, strlen(both), small);
    puts(line);
    if (strcmp(first, "Memory") == 0 && strchr(both, ' ') && strstr(both, "API"))
        printf("found %s\n", strrchr(both, ' ') + 1);
    free(line);
    free(both);
    free(second);
    free(first);
    return 0;
}
