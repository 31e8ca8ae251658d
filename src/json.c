/* json.c — recursive-descent JSON reader (RFC 8259), strict. */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
    const char *text;
    size_t len, pos;
    char *err;
    size_t errlen;
    bool failed;
};

static void fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct reader *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    int n = snprintf(r->err, r->errlen, "offset %zu: ", r->pos);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < r->errlen)
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void skip_space(struct reader *r)
{
    while (r->pos < r->len) {
        char c = r->text[r->pos];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return;
        r->pos++;
    }
}

/* The next character is c: consumed. */
static bool next_is(struct reader *r, char c)
{
    if (r->pos >= r->len || r->text[r->pos] != c)
        return false;
    r->pos++;
    return true;
}

static struct json *new_value(struct reader *r, enum json_type type)
{
    struct json *v = calloc(1, sizeof *v);
    if (v == NULL)
        fail(r, "out of memory");
    else
        v->type = type;
    return v;
}

static bool literal(struct reader *r, const char *word)
{
    size_t n = strlen(word);
    if (r->len - r->pos < n || memcmp(r->text + r->pos, word, n) != 0)
        return false;
    r->pos += n;
    return true;
}

static struct json *parse_value(struct reader *r, int depth);

/* ---- strings ---- */

static int hex4(struct reader *r)
{
    if (r->len - r->pos < 4) {
        fail(r, "truncated \\u escape");
        return -1;
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = r->text[r->pos++];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) {
            fail(r, "bad hex digit in \\u escape");
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80)
        return out[0] = (char)cp, 1;
    if (cp < 0x800)
        return out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000)
        return out[0] = (char)(0xE0 | cp >> 12), out[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
               out[2] = (char)(0x80 | (cp & 0x3F)), 3;
    out[0] = (char)(0xF0 | cp >> 18), out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A \uXXXX escape (and its low surrogate) as a code point, or -1. */
static long unicode_escape(struct reader *r)
{
    int hi = hex4(r);
    if (hi < 0xD800 || hi > 0xDFFF)
        return hi;
    if (hi >= 0xDC00 || !literal(r, "\\u")) {
        fail(r, "lone surrogate in \\u escape");
        return -1;
    }
    int lo = hex4(r);
    if (lo < 0xDC00 || lo > 0xDFFF) {
        fail(r, "lone surrogate in \\u escape");
        return -1;
    }
    return 0x10000 + ((long)(hi - 0xD800) << 10) + (lo - 0xDC00);
}

static bool escape(struct reader *r, char *out, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    char c = r->pos < r->len ? r->text[r->pos++] : '\0';
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
        out[(*n)++] = to[hit - from];
        return true;
    }
    if (c != 'u') {
        fail(r, "bad escape \\%c", c ? c : '0');
        return false;
    }
    long cp = unicode_escape(r);
    if (cp < 0)
        return false;
    *n += put_utf8(out + *n, (uint32_t)cp);
    return true;
}

static char *parse_string_raw(struct reader *r, size_t *out_len)
{
    r->pos++;                        /* the opening quote */
    /* Room for the text up to the closing quote (escapes never grow it),
     * not for the rest of the document: that made a 2 MB migration's parse
     * tree take gigabytes, one mapped page per string. */
    size_t end = r->pos;
    while (end < r->len && r->text[end] != '"')
        end += r->text[end] == '\\' ? 2 : 1;
    char *out = malloc((end < r->len ? end : r->len) - r->pos + 1);
    size_t n = 0;
    while (out && !r->failed) {
        if (r->pos >= r->len) {
            fail(r, "unterminated string");
            break;
        }
        unsigned char c = (unsigned char)r->text[r->pos++];
        if (c == '"') {
            out[n] = '\0';
            *out_len = n;
            return out;
        }
        if (c < 0x20)
            fail(r, "control character in string");
        else if (c == '\\')
            escape(r, out, &n);
        else
            out[n++] = (char)c;
    }
    if (out == NULL)
        fail(r, "out of memory");
    free(out);
    return NULL;
}

/* ---- numbers ---- */

static struct json *parse_number(struct reader *r)
{
    size_t start = r->pos;
    bool integer = true;
    if (r->text[r->pos] == '-')
        r->pos++;
    if (r->pos >= r->len || r->text[r->pos] < '0' || r->text[r->pos] > '9') {
        fail(r, "bad number");
        return NULL;
    }
    if (r->text[r->pos] == '0' && r->pos + 1 < r->len && r->text[r->pos + 1] >= '0' &&
        r->text[r->pos + 1] <= '9') {
        fail(r, "leading zero in number");
        return NULL;
    }
    long long whole = 0;
    int digits = 0;
    for (; r->pos < r->len; r->pos++) {
        char c = r->text[r->pos];
        if (c >= '0' && c <= '9') {
            whole = whole * 10 + (c - '0');
            digits++;
        } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
            integer = false;
        } else {
            break;
        }
    }
    if (integer && digits <= 18) {   /* exact in a long long: no strtod needed */
        struct json *v = new_value(r, JSON_NUMBER);
        if (v) {
            v->integer = r->text[start] == '-' ? -whole : whole;
            v->number = (double)v->integer;
            v->is_integer = true;
        }
        return v;
    }
    char buf[64];
    size_t n = r->pos - start;
    if (n >= sizeof buf) {
        fail(r, "number too long");
        return NULL;
    }
    memcpy(buf, r->text + start, n);
    buf[n] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (*end != '\0' || buf[n - 1] == '.' || buf[n - 1] == 'e' || buf[n - 1] == 'E') {
        fail(r, "bad number '%s'", buf);
        return NULL;
    }
    struct json *v = new_value(r, JSON_NUMBER);
    if (v) {
        v->number = d;
        v->is_integer = integer;
        v->integer = integer ? strtoll(buf, NULL, 10) : (long long)d;
    }
    return v;
}

/* ---- containers ---- */

static bool append_item(struct reader *r, struct json *c, char *key, struct json *item)
{
    if ((c->count & (c->count - 1)) == 0) {          /* grow at powers of two */
        size_t cap = c->count ? c->count * 2 : 4;
        struct json **items = realloc(c->items, cap * sizeof *items);
        if (items)
            c->items = items;
        char **keys = c->type == JSON_OBJECT && items ? realloc(c->keys, cap * sizeof *keys) : NULL;
        if (keys)
            c->keys = keys;
        if (items == NULL || (c->type == JSON_OBJECT && keys == NULL)) {
            fail(r, "out of memory");
            return false;
        }
    }
    if (c->type == JSON_OBJECT)
        c->keys[c->count] = key;
    c->items[c->count++] = item;
    return true;
}

static struct json *parse_container(struct reader *r, int depth, bool object)
{
    char close = object ? '}' : ']';
    struct json *c = new_value(r, object ? JSON_OBJECT : JSON_ARRAY);
    r->pos++;
    skip_space(r);
    if (c && r->pos < r->len && r->text[r->pos] == close) {
        r->pos++;
        return c;
    }
    while (c && !r->failed) {
        char *key = NULL;
        size_t key_len;
        skip_space(r);
        if (object) {
            if (r->pos >= r->len || r->text[r->pos] != '"') {
                fail(r, "expected a string key");
                break;
            }
            if ((key = parse_string_raw(r, &key_len)) == NULL)
                break;
            skip_space(r);
            if (!next_is(r, ':')) {
                free(key);
                fail(r, "expected ':'");
                break;
            }
        }
        struct json *item = parse_value(r, depth + 1);
        if (item == NULL || !append_item(r, c, key, item)) {
            free(key);
            json_free(item);
            break;
        }
        skip_space(r);
        if (next_is(r, ','))
            continue;
        if (r->pos < r->len && r->text[r->pos] == close) {
            r->pos++;
            return c;
        }
        fail(r, "expected ',' or '%c'", close);
    }
    json_free(c);
    return NULL;
}

static struct json *parse_value(struct reader *r, int depth)
{
    skip_space(r);
    if (depth > JSON_MAX_DEPTH) {
        fail(r, "nested deeper than %d levels", JSON_MAX_DEPTH);
        return NULL;
    }
    if (r->pos >= r->len) {
        fail(r, "unexpected end of input");
        return NULL;
    }
    char c = r->text[r->pos];
    if (c == '{' || c == '[')
        return parse_container(r, depth, c == '{');
    if (c == '"') {
        struct json *v = new_value(r, JSON_STRING);
        if (v && (v->string = parse_string_raw(r, &v->length)) == NULL) {
            free(v);
            return NULL;
        }
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(r);
    if (literal(r, "true"))
        return new_value(r, JSON_TRUE);
    if (literal(r, "false"))
        return new_value(r, JSON_FALSE);
    if (literal(r, "null"))
        return new_value(r, JSON_NULL);
    fail(r, "unexpected character '%c'", c);
    return NULL;
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct reader r = {text, len, 0, err, errlen, false};
    struct json *v = parse_value(&r, 0);
    skip_space(&r);
    if (v && r.pos != r.len) {
        fail(&r, "trailing characters after the value");
        json_free(v);
        return NULL;
    }
    return r.failed ? (json_free(v), NULL) : v;
}

struct json *json_parse_next(const char *text, size_t len, size_t *pos, char *err, size_t errlen)
{
    struct reader r = {text, len, *pos, err, errlen, false};
    struct json *v = parse_value(&r, 0);
    if (r.failed) {
        json_free(v);
        return NULL;
    }
    *pos = r.pos;
    return v;
}

void json_free(struct json *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->count; i++) {
        json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    free(v);
}

const struct json *json_get(const struct json *object, const char *key)
{
    if (object == NULL || object->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < object->count; i++)
        if (strcmp(object->keys[i], key) == 0)
            return object->items[i];
    return NULL;
}

bool json_true(const struct json *object, const char *key)
{
    const struct json *v = json_get(object, key);
    return v != NULL && v->type == JSON_TRUE;
}

const char *json_string(const struct json *object, const char *key)
{
    const struct json *v = json_get(object, key);
    return v != NULL && v->type == JSON_STRING ? v->string : NULL;
}
