/* hash.c — SHA-256 through OpenSSL's libcrypto.
 *
 * Through the low-level SHA256_Init/Update/Final, not EVP: in OpenSSL 3 the
 * first EVP digest initialises the default provider and its algorithm
 * tables, which costs a run 1.4 MB of memory (peak RSS of a deploy, issue
 * 14) to hash files of a few hundred bytes; the low-level calls run the
 * same assembly and cost 0.1 MB. OpenSSL 3 marks them deprecated (not yet
 * removed), hence OPENSSL_SUPPRESS_DEPRECATED: should a later OpenSSL drop
 * them, this file goes back to EVP_MD_fetch once. A context lives on the
 * stack of the call, so the scan's threads hash side by side. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "hash.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

_Static_assert(SHA256_DIGEST_LENGTH == HASH_LEN, "a SHA-256 digest is 32 bytes");

void hash_release(void)
{
    /* nothing is cached: kept for the callers that end a run with it */
}

static void to_hex(const unsigned char *digest, unsigned int len, char hex[HASH_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0xf];
    }
    hex[HASH_HEX_LEN] = '\0';
}

int hash_sha256(const void *data, size_t len, unsigned char digest[HASH_LEN])
{
    SHA256_CTX context;
    int ok = SHA256_Init(&context) == 1 && SHA256_Update(&context, data, len) == 1 &&
             SHA256_Final(digest, &context) == 1;
    return ok ? 0 : -1;
}

int hash_sha256_hex(const void *data, size_t len, char hex[HASH_HEX_LEN + 1])
{
    unsigned char digest[HASH_LEN];
    if (hash_sha256(data, len, digest) != 0)
        return -1;
    to_hex(digest, HASH_LEN, hex);
    return 0;
}

int hash_sha256_file(const char *path, char hex[HASH_HEX_LEN + 1], long long *size)
{
    FILE *f = fopen(path, "rb");
    SHA256_CTX context;
    int ok = f != NULL && SHA256_Init(&context) == 1;
    unsigned char block[65536], digest[HASH_LEN];
    size_t got;
    *size = 0;
    while (ok && (got = fread(block, 1, sizeof block, f)) > 0) {
        ok = SHA256_Update(&context, block, got) == 1;
        *size += (long long)got;
    }
    ok = ok && !ferror(f) && SHA256_Final(digest, &context) == 1;
    if (f)
        fclose(f);
    if (!ok)
        return -1;
    to_hex(digest, HASH_LEN, hex);
    return 0;
}
