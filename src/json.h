/* json.h — a small, strict JSON reader (for libpg_query's parse trees).
 * Plain C, no lua.h. */
#ifndef STALLMIG_JSON_H
#define STALLMIG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 2000

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    double number;
    bool is_integer;                 /* a number written without '.', 'e' */
    long long integer;
    char *string;                    /* STRING: UTF-8, NUL-terminated */
    size_t length;                   /* STRING: bytes (may hold \u0000) */
    struct json **items;             /* ARRAY and OBJECT values */
    char **keys;                     /* OBJECT keys, parallel to items */
    size_t count;
};

/* Parses exactly one JSON value (white space around it allowed). Returns
 * NULL with a message ("offset N: ...") in err on malformed input. */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* Parses the one value that starts at *pos (white space before it allowed)
 * and moves *pos past it; for reading a long array one item at a time.
 * NULL with err on malformed input (*pos unchanged). */
struct json *json_parse_next(const char *text, size_t len, size_t *pos, char *err, size_t errlen);
void json_free(struct json *value);

/* The value of key in an object, or NULL. */
const struct json *json_get(const struct json *object, const char *key);
/* json_get(...)->type == JSON_TRUE. */
bool json_true(const struct json *object, const char *key);
/* The string value of key, or NULL. */
const char *json_string(const struct json *object, const char *key);

#endif
