/* run.c — see run.h. */
#include "run.h"

#include <string.h>

const char *run_option(const struct run *run, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; run && i < run->argc; i++) {
        const char *a = run->argv[i];
        if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
            continue;
        if (a[2 + n] == '=')
            return a + 3 + n;
        if (a[2 + n] == '\0' && i + 1 < run->argc && strncmp(run->argv[i + 1], "--", 2) != 0)
            return run->argv[i + 1];
    }
    return NULL;
}
