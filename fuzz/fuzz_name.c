/* fuzz_name.c — migration folder names and checksum matching.
 * Invariants: a conventional name never has a problem; a name with a '/', a
 * control character, a leading '.' or bytes that are not UTF-8 always has one; content always matches
 * its own checksum, and also with CRLF line endings and with a UTF-8 BOM. */
#include "hash.h"
#include "migration.h"
#include "utf8.h"

#undef NDEBUG                        /* the invariants are the point */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const uint8_t *data, size_t size)
{
    char *name = malloc(size + 1);
    assert(name != NULL);
    memcpy(name, data, size);
    name[size] = '\0';               /* a NUL inside ends the name, as in a path */
    size_t len = strlen(name);
    const char *problem = migration_name_problem(name);
    bool conventional = migration_name_is_conventional(name);
    if (conventional)
        assert(problem == NULL && len > 15);
    bool forbidden = len == 0 || len > MIGRATION_NAME_MAX || name[0] == '.' ||
                     utf8_invalid_at(name, len) < len;
    for (size_t i = 0; i < len; i++)
        forbidden = forbidden || (unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '/';
    assert((problem != NULL) == forbidden);
    free(name);
}

/* content with every '\n' written as "\r\n"; a BOM in front when bom */
static char *variant(const uint8_t *data, size_t size, bool crlf, bool bom, size_t *len)
{
    char *out = malloc(size * 2 + 3);
    assert(out != NULL);
    size_t n = 0;
    if (bom)
        memcpy(out, "\xEF\xBB\xBF", 3), n = 3;
    for (size_t i = 0; i < size; i++) {
        if (crlf && data[i] == '\n')
            out[n++] = '\r';
        out[n++] = (char)data[i];
    }
    *len = n;
    return out;
}

static void check_checksum(const uint8_t *data, size_t size)
{
    char stored[HASH_HEX_LEN + 1];
    assert(hash_sha256_hex(data, size, stored) == 0);
    assert(migration_checksum_matches((const char *)data, size, stored));
    /* the variants are only equivalent for LF-only text without a BOM */
    if (memchr(data, '\r', size) || (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0))
        return;
    for (int crlf = 0; crlf <= 1; crlf++)
        for (int bom = 0; bom <= 1; bom++) {
            size_t len;
            char *v = variant(data, size, crlf, bom, &len);
            assert(migration_checksum_matches(v, len, stored));
            free(v);
        }
    if (size > 0) {                  /* a real edit is still seen */
        char *edited = malloc(size);
        assert(edited != NULL);
        memcpy(edited, data, size);
        edited[size - 1] = edited[size - 1] == 'x' ? 'y' : 'x';
        if (edited[size - 1] != '\n' && data[size - 1] != '\n')
            assert(!migration_checksum_matches(edited, size, stored));
        free(edited);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_name(data, size);
    check_checksum(data, size);
    return 0;
}
