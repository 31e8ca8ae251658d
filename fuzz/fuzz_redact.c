/* fuzz_redact.c — redaction as a property: a password never survives it.
 *
 * Input: byte 0 = the password's length, byte 1 = which user name the URL
 * form carries, then the password, then the text around it (split in two).
 *
 * 1. Registered, as stallrun registers the password libpq parsed from a URL
 *    or PGPASSWORD (msg_add_secret): in plain text, in a URL (also as the
 *    user name), in key=value and in a query string, with arbitrary text
 *    around it, the password does not occur in the output.
 * 2. Not registered, in canonical forms (URL percent-encoded, key=value
 *    quoted when it must be): the output is exactly the form with "***".
 *
 * Degenerate passwords: the empty one is not a secret (msg_add_secret ignores
 * it; an empty URL password stays as it is). A password containing '*' may
 * be rebuilt from the "***" marker and the text beside it ("x*" in "x***"),
 * so for those only rule 2 and the absence of crashes are checked. */
#include "msg.h"

#undef NDEBUG                        /* the invariants are the point */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *join(const char *a, const char *b, const char *c, const char *d, const char *e)
{
    char *out = NULL;
    if (asprintf(&out, "%s%s%s%s%s", a, b, c, d, e) < 0)
        abort();
    return out;
}

static char *copy_without_nul(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1);
    assert(out != NULL);
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        if (data[i] != '\0')
            out[n++] = (char)data[i];
    out[n] = '\0';
    return out;
}

static void expect_hidden(const char *text, const char *password)
{
    char *out = msg_redact(text);
    if (strchr(password, '*') == NULL && strstr(out, password) != NULL) {
        fprintf(stderr, "password '%s' survived:\n  in:  %s\n  out: %s\n", password, text, out);
        abort();
    }
    free(out);
}

static void registered(const char *password, const char *user, const char *before,
                       const char *after)
{
    msg_clear_secrets();
    msg_add_secret(password);
    char *forms[] = {
        join(before, password, after, "", ""),
        join(before, "postgresql://", user, ":", password),
        join(before, "host=db user=app password=", password, " dbname=prod", after),
        join(before, "postgresql://db/prod?user=app&password=", password, "&sslmode=require", after),
    };
    char *url = forms[1];
    forms[1] = join(url, "@db.example:5432/prod", after, "", "");
    free(url);
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        expect_hidden(forms[i], password);
        free(forms[i]);
    }
    msg_clear_secrets();
}

/* Percent-encodes every byte but the unreserved ones (RFC 3986). */
static char *percent_encoded(const char *s)
{
    char *out = malloc(strlen(s) * 3 + 1), *o = out;
    assert(out != NULL);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = '\0';
    return out;
}

/* libpq's key=value quoting: bare when it can be, else '...' with \' and \\. */
static char *conninfo_value(const char *s)
{
    if (s[0] != '\0' && s[0] != '\'' && strpbrk(s, " \t\r\n\f\v\\'") == NULL)
        return strdup(s);
    char *out = malloc(strlen(s) * 2 + 3), *o = out;
    assert(out != NULL);
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'' || *p == '\\')
            *o++ = '\\';
        *o++ = *p;
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

static void expect_exactly(const char *text, const char *expected)
{
    char *out = msg_redact(text);
    if (strcmp(out, expected) != 0) {
        fprintf(stderr, "redaction differs:\n  in:       %s\n  out:      %s\n  expected: %s\n",
                text, out, expected);
        abort();
    }
    free(out);
}

static void canonical(const char *password)
{
    msg_clear_secrets();
    char *encoded = percent_encoded(password), *quoted = conninfo_value(password);
    const char *hidden = password[0] ? "***" : "";
    char *text = join("postgresql://app:", encoded, "@db/prod", "", "");
    char *expected = join("postgresql://app:", hidden, "@db/prod", "", "");
    expect_exactly(text, expected);
    free(text), free(expected);
    text = join("postgresql://db/prod?user=app&password=", encoded, "&sslmode=require", "", "");
    expected = join("postgresql://db/prod?user=app&password=", hidden, "&sslmode=require", "", "");
    expect_exactly(text, expected);
    free(text), free(expected);
    text = join("host=db password=", quoted, " dbname=prod", "", "");
    expect_exactly(text, "host=db password=*** dbname=prod");
    free(text);
    free(encoded), free(quoted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t length = data[0] < size - 2 ? data[0] : size - 2;
    unsigned user_choice = data[1] % 3;
    char *password = copy_without_nul(data + 2, length);
    size_t rest = size - 2 - length, half = rest / 2;
    char *before = copy_without_nul(data + 2 + length, half);
    char *after = copy_without_nul(data + 2 + length + half, rest - half);
    const char *user = user_choice == 0 ? "app" : user_choice == 1 ? password : before;
    if (password[0] != '\0')
        registered(password, user, before, after);
    canonical(password);
    free(password), free(before), free(after);
    return 0;
}
