/* confirm.c — see confirm.h. */
#include "confirm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

bool confirm_in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && ci[0] && strcmp(ci, "0") != 0 && strcasecmp(ci, "false") != 0;
}

bool confirm_can_ask(void)
{
    return !confirm_in_ci() && isatty(STDIN_FILENO);
}

bool confirm_typed(const char *expected, const char *intro, const char *prompt)
{
    FILE *tty = confirm_can_ask() ? fopen("/dev/tty", "r+") : NULL;
    if (tty == NULL)
        return false;
    fprintf(tty, "%s\n%s: ", intro, prompt);
    fflush(tty);
    char answer[256] = "";
    bool got = fgets(answer, sizeof answer, tty) != NULL;
    fclose(tty);
    answer[strcspn(answer, "\r\n")] = '\0';
    return got && strcmp(answer, expected) == 0;
}
