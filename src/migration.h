/* migration.h — the plain-C migration model: folder names and checksums. */
#ifndef STALLMIG_MIGRATION_H
#define STALLMIG_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIGRATION_NAME_MAX 255

/* The form create writes: 14 digits (UTC YYYYMMDDHHMMSS), '_', then lowercase
 * letters, digits and '_'. Other names still work (Prisma accepts them);
 * discovery only warns. */
bool migration_name_is_conventional(const char *name);

/* Why a folder name cannot be a migration at all (NULL when it can): empty,
 * too long, starts with '.', contains '/' or a control character. */
const char *migration_name_problem(const char *name);

/* True when content's checksum is stored, or would be after turning CRLF
 * into LF, LF into CRLF, or adding/removing a UTF-8 BOM — and nothing else,
 * so a checkout on another OS is not "modified" while any real edit is. */
bool migration_checksum_matches(const char *content, size_t len, const char *stored_hex);

/* A migration's share of the history digest (stallmig.history_digest: the
 * XOR of the keys of every applied migration): the first 8 bytes, read
 * big-endian, of the SHA-256 of "<name> <checksum>" — what the SQL function
 * stallmig.history_key computes (src/digest.c). 0, or -1 on failure. */
int migration_key(const char *name, const char *checksum_hex, uint64_t *key);

#endif
