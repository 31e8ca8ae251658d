/* confirm.h — asking a person at the terminal to type a name before a
 * change. Never asked in CI (CI set) or without a terminal on stdin. No lua.h. */
#ifndef STALLMIG_CONFIRM_H
#define STALLMIG_CONFIRM_H

#include <stdbool.h>

/* CI is set (and not "0" or "false"). */
bool confirm_in_ci(void);
/* A person can be asked: not CI, and standard input is a terminal. */
bool confirm_can_ask(void);
/* Prints intro and "prompt: " on /dev/tty and reads a line; true when it
 * is exactly expected. False when no one can be asked. */
bool confirm_typed(const char *expected, const char *intro, const char *prompt);

#endif
