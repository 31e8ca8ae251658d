/* msg.h — everything stallrun prints goes through here, and through
 * msg_redact() first: no password reaches stdout, stderr or a JSON document. */
#ifndef STALLMIG_MSG_H
#define STALLMIG_MSG_H

#include <stddef.h>
#include <stdio.h>

/* Remembers a secret (a password) so that every later output hides it.
 * Empty strings are ignored. The string is copied. */
void msg_add_secret(const char *secret);
/* Forgets every secret (end of run, tests). */
void msg_clear_secrets(void);

/* Returns a newly allocated copy of text with every known secret (wherever
 * it occurs, also inside a URL's user name or a keyword) and every password
 * found in a URL (scheme://user:PASSWORD@host) or a key=value DSN
 * (password=...) hidden: each run of hidden bytes becomes one "***". Never
 * returns NULL (aborts on OOM). */
char *msg_redact(const char *text);

/* stderr: "stallrun: <text>" / "warning: <text>" / "hint: <text>", redacted. */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes text (redacted) to the stream as it is. */
void msg_write(FILE *to, const char *text);

#endif
