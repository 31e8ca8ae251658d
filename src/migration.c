/* migration.c — migration folder names and checksum comparison. */
#include "migration.h"

#include "hash.h"
#include "utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char BOM[] = "\xEF\xBB\xBF";

bool migration_name_is_conventional(const char *name)
{
    if (strlen(name) > MIGRATION_NAME_MAX)
        return false;                /* no folder can have it */
    for (int i = 0; i < 14; i++)
        if (!isdigit((unsigned char)name[i]))
            return false;
    if (name[14] != '_' || name[15] == '\0')
        return false;
    for (const char *p = name + 15; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

const char *migration_name_problem(const char *name)
{
    size_t len = strlen(name);
    if (len == 0)
        return "the folder name is empty";
    if (len > MIGRATION_NAME_MAX)
        return "the folder name is longer than 255 bytes";
    if (name[0] == '.')
        return "the folder name starts with '.'";
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/')
            return "the folder name contains a control character or '/'";
    if (utf8_invalid_at(name, len) < len)   /* the history's name column is UTF-8 text */
        return "the folder name is not UTF-8 (rename it)";
    return NULL;
}

/* Line-ending variant of src: to_crlf false gives CRLF->LF, true gives every
 * line ending as CRLF. Returns a malloc'd buffer and its length. */
static char *line_endings(const char *src, size_t len, bool to_crlf, size_t *out_len)
{
    char *out = malloc(len * 2 + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r' && i + 1 < len && src[i + 1] == '\n')
            continue;                /* the '\n' that follows writes the ending */
        if (src[i] == '\n' && to_crlf)
            out[n++] = '\r';
        out[n++] = src[i];
    }
    *out_len = n;
    return out;
}

static bool hash_equals(const char *data, size_t len, const char *stored_hex)
{
    char hex[HASH_HEX_LEN + 1];
    return hash_sha256_hex(data, len, hex) == 0 && strcmp(hex, stored_hex) == 0;
}

/* Compares data with and without a BOM in front. */
static bool matches_with_or_without_bom(const char *data, size_t len, const char *stored_hex)
{
    if (hash_equals(data, len, stored_hex))
        return true;
    if (len >= 3 && memcmp(data, BOM, 3) == 0)
        return hash_equals(data + 3, len - 3, stored_hex);
    char *with_bom = malloc(len + 3);
    if (with_bom == NULL)
        return false;
    memcpy(with_bom, BOM, 3);
    memcpy(with_bom + 3, data, len);
    bool equal = hash_equals(with_bom, len + 3, stored_hex);
    free(with_bom);
    return equal;
}

bool migration_checksum_matches(const char *content, size_t len, const char *stored_hex)
{
    if (stored_hex == NULL || strlen(stored_hex) != HASH_HEX_LEN)
        return false;
    if (matches_with_or_without_bom(content, len, stored_hex))
        return true;
    for (int crlf = 0; crlf <= 1; crlf++) {
        size_t variant_len = 0;
        char *variant = line_endings(content, len, crlf, &variant_len);
        bool equal = variant && matches_with_or_without_bom(variant, variant_len, stored_hex);
        free(variant);
        if (equal)
            return true;
    }
    return false;
}

int migration_key(const char *name, const char *checksum_hex, uint64_t *key)
{
    char text[MIGRATION_NAME_MAX + 1 + HASH_HEX_LEN + 1];
    int len = snprintf(text, sizeof text, "%s %s", name, checksum_hex);
    unsigned char digest[HASH_LEN];
    if (len < 0 || (size_t)len >= sizeof text || hash_sha256(text, (size_t)len, digest) != 0)
        return -1;
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | digest[i];
    *key = k;
    return 0;
}
