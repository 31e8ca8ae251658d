/* msg.c — output with one prefix, and redaction of secrets on every path. */
#include "msg.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRETS 32

static char *secrets[MAX_SECRETS];
static size_t secret_count;

static void *checked(void *p)
{
    if (p == NULL) {
        fputs("stallrun: out of memory\n", stderr);
        abort();
    }
    return p;
}

void msg_add_secret(const char *secret)
{
    if (secret == NULL || secret[0] == '\0')
        return;
    for (size_t i = 0; i < secret_count; i++)
        if (strcmp(secrets[i], secret) == 0)
            return;
    if (secret_count == MAX_SECRETS) {
        free(secrets[0]);
        memmove(secrets, secrets + 1, (MAX_SECRETS - 1) * sizeof *secrets);
        secret_count--;
    }
    secrets[secret_count++] = checked(strdup(secret));
}

void msg_clear_secrets(void)
{
    for (size_t i = 0; i < secret_count; i++)
        free(secrets[i]);
    secret_count = 0;
}

/* A growable output buffer. */
struct buf {
    char *data;
    size_t len, cap;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = checked(realloc(b->data, b->cap));
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Marks every byte of every occurrence of a known secret. */
static void mark_secrets(const char *text, bool *hide)
{
    for (size_t i = 0; i < secret_count; i++) {
        size_t n = strlen(secrets[i]);
        for (const char *at = text; (at = strstr(at, secrets[i])) != NULL; at++)
            memset(hide + (at - text), true, n);
    }
}

/* At s (just after "://"), the userinfo's password span: user:PASSWORD@.
 * Returns the password's length and sets *start, or 0. The authority ends at
 * '/', '?', '#' or white space; the last '@' in it ends the userinfo. */
static size_t url_password_at(const char *s, size_t *start)
{
    size_t end = strcspn(s, "/?# \t\r\n\"'");
    const char *at = NULL;
    for (size_t i = 0; i < end; i++)
        if (s[i] == '@')
            at = s + i;
    if (at == NULL)
        return 0;
    const char *colon = memchr(s, ':', (size_t)(at - s));
    if (colon == NULL)
        return 0;
    *start = (size_t)(colon + 1 - s);
    return (size_t)(at - (colon + 1));
}

/* At s (just after "password="), the value's length: quoted '...' with
 * backslash escapes, or up to white space; in a URL's query string (after
 * '?' or '&') also up to the next '&'. */
static size_t dsn_value_length(const char *s, bool in_query)
{
    if (*s != '\'')
        return strcspn(s, in_query ? " \t\r\n&" : " \t\r\n");
    size_t i = 1;
    while (s[i] && s[i] != '\'') {
        if (s[i] == '\\' && s[i + 1])
            i++;
        i++;
    }
    return s[i] ? i + 1 : i;
}

static int starts_with_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != *prefix)
            return 0;
    return 1;
}

/* Marks URL passwords (scheme://user:PASSWORD@) and password=VALUE; a
 * marked value is not read again for either form. Secrets are marked apart,
 * so these forms cannot hide one from view. */
static void mark_passwords(const char *text, bool *hide)
{
    const char *p = text;
    while (*p) {
        size_t start = 0, len = 0;
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            start = 3;
            len = url_password_at(p + 3, &start);
            start += 3;
        } else if (starts_with_ci(p, "password=") && (p == text || !isalnum((unsigned char)p[-1]))) {
            start = 9;
            len = dsn_value_length(p + 9, p > text && (p[-1] == '?' || p[-1] == '&'));
        }
        memset(hide + (p - text) + start, true, len);
        p += len ? start + len : 1;
    }
}

/* True when text holds nothing redaction could change (the common case). */
static bool nothing_to_redact(const char *text)
{
    if (strstr(text, "://") != NULL || strcasestr(text, "password=") != NULL)
        return false;
    for (size_t i = 0; i < secret_count; i++)
        if (strstr(text, secrets[i]) != NULL)
            return false;
    return true;
}

/* Which bytes to hide is decided on the original text first; then each run
 * of hidden bytes becomes one "***". Nothing of a secret can survive outside
 * a run, and a marker never splits one. */
char *msg_redact(const char *text)
{
    if (text == NULL)
        return checked(strdup(""));
    if (nothing_to_redact(text))
        return checked(strdup(text));
    size_t len = strlen(text);
    bool *hide = checked(calloc(len + 1, sizeof *hide));
    mark_secrets(text, hide);
    mark_passwords(text, hide);
    struct buf out = {0};
    buf_put(&out, "", 0);
    for (size_t i = 0; i < len;) {
        size_t n = 0;
        while (i + n < len && hide[i + n] == hide[i])
            n++;
        if (hide[i])
            buf_put(&out, "***", 3);
        else
            buf_put(&out, text + i, n);
        i += n;
    }
    free(hide);
    return out.data;
}

/* ---- writing ---------------------------------------------------------------- */

/* The first error writing to stdout and to stderr (an errno), 0 while none.
 * Once a stream failed nothing more is written to it (a closed pipe stays
 * closed, a full disk stays full); the run goes on, and msg_finish says so
 * at the end. */
static int lost[2];

static int *lost_slot(FILE *to)
{
    return to == stdout ? &lost[0] : to == stderr ? &lost[1] : NULL;
}

/* The length of the control sequence at s, 0 if none: a C0 control but
 * newline and tab, DEL, or a C1 control (U+0080..U+009F, two bytes in
 * UTF-8: an 8-bit CSI among them). */
static size_t control_at(const unsigned char *s)
{
    if ((*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f)
        return 1;
    return s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f ? 2 : 0;
}

static bool has_control(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (control_at(p) != 0)
            return true;
    return false;
}

char *msg_escape(const char *text)
{
    struct buf out = {0};
    buf_put(&out, "", 0);
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p;) {
        size_t n = control_at(p);
        char code[8];
        if (n == 0) {
            size_t plain = 1;
            while (p[plain] && control_at(p + plain) == 0)
                plain++;
            buf_put(&out, (const char *)p, plain);
            p += plain;
            continue;
        }
        if (n == 1)
            snprintf(code, sizeof code, "\\x%02x", *p);
        else
            snprintf(code, sizeof code, "\\u%04x", p[1]);   /* U+0080..U+009F: valid in JSON too */
        buf_put(&out, code, strlen(code));
        p += n;
    }
    return out.data;
}

/* Writes text (already redacted) with its control characters escaped, and
 * flushes when it holds a newline: progress lines reach a file or a pipe as
 * they happen, not when a buffer fills or the run ends (a kill -9 lost them
 * all). Records a failure instead of raising or dying of it. */
static void emit(FILE *to, const char *text)
{
    int *slot = lost_slot(to);
    if (slot && *slot != 0)
        return;
    char *escaped = has_control(text) ? msg_escape(text) : NULL;
    const char *out = escaped ? escaped : text;
    errno = 0;
    bool failed = fputs(out, to) == EOF || (strchr(out, '\n') && fflush(to) == EOF);
    if (failed && slot)
        *slot = errno ? errno : EIO;
    free(escaped);
}

void msg_write(FILE *to, const char *text)
{
    if (nothing_to_redact(text)) {
        emit(to, text);
        return;
    }
    char *safe = msg_redact(text);
    emit(to, safe);
    free(safe);
}

void msg_line(FILE *to, const char *prefix, const char *text)
{
    char *safe = msg_redact(text);
    struct buf line = {0};
    buf_put(&line, prefix, strlen(prefix));
    buf_put(&line, safe, strlen(safe));
    buf_put(&line, "\n", 1);
    if (to == stderr)
        fflush(stdout);              /* what stdout holds comes first */
    emit(to, line.data);
    free(line.data);
    free(safe);
}

int msg_finish(int status)
{
    errno = 0;
    if (fflush(stdout) == EOF && lost[0] == 0)
        lost[0] = errno ? errno : EIO;
    if (lost[0] != 0)                /* (when stderr failed too, nothing can be said) */
        msg_error("could not write to stdout (%s), so part of the output was lost; the run itself "
                  "went on to its end", strerror(lost[0]));
    return lost[0] == 0 && lost[1] == 0 ? status : status == 0 ? 1 : status;
}

static void vprefixed(const char *prefix, const char *fmt, va_list ap)
{
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    msg_line(stderr, prefix, text ? text : "(message lost: out of memory)");
    free(text);
}

void msg_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprefixed("stallrun: ", fmt, ap);
    va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprefixed("warning: ", fmt, ap);
    va_end(ap);
}

void msg_hint(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprefixed("hint: ", fmt, ap);
    va_end(ap);
}
