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

/* Every function below writes through one place, which (1) redacts,
 * (2) escapes what a terminal would act on — C0 control characters but
 * newline and tab, and DEL, as \x1b; C1 controls (U+0080..U+009F) as
 * \u009b — so that a folder name or a server message cannot move the
 * cursor, retitle the window or hide a line, (3) flushes after every
 * newline, and (4) survives a failed write (EPIPE, ENOSPC): the failure is
 * remembered, nothing more is written to that stream, and msg_finish
 * reports it. */

/* stderr: "stallrun: <text>" / "warning: <text>" / "hint: <text>", redacted. */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes text (redacted) to the stream as it is. */
void msg_write(FILE *to, const char *text);
/* Writes prefix, text (redacted) and a newline to the stream at once. */
void msg_line(FILE *to, const char *prefix, const char *text);

/* A newly allocated copy of text with its control characters escaped as
 * above (NULL gives ""). Never returns NULL (aborts on OOM). */
char *msg_escape(const char *text);

/* At the end of the run: flushes stdout; when a write to stdout or stderr
 * failed, says so once on stderr (if stderr works) and returns status, or
 * 1 instead of 0; otherwise returns status. */
int msg_finish(int status);

#endif
