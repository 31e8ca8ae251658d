/* hash.h — SHA-256 as lowercase hex (what Prisma stores as a checksum). */
#ifndef STALLMIG_HASH_H
#define STALLMIG_HASH_H

#include <stddef.h>

#define HASH_LEN 32
#define HASH_HEX_LEN 64

/* The 32 bytes of the SHA-256 of data. Returns 0, or -1 on failure. */
int hash_sha256(const void *data, size_t len, unsigned char digest[HASH_LEN]);

/* Writes 64 hex digits and a NUL into hex[65]. Returns 0, or -1 on failure. */
int hash_sha256_hex(const void *data, size_t len, char hex[HASH_HEX_LEN + 1]);

/* SHA-256 of a file's bytes, read in blocks; *size gets its length. 0 or -1. */
int hash_sha256_file(const char *path, char hex[HASH_HEX_LEN + 1], long long *size);

/* Frees the cached digest (end of run). */
void hash_release(void);

#endif
