/* hash.c — SHA-256 through OpenSSL's libcrypto.
 *
 * The digest is fetched once: OpenSSL 3 looks the algorithm up again on every
 * EVP_Digest(EVP_sha256()) call, which costs more than hashing a migration.
 * A fetched EVP_MD is immutable and may be shared between threads (the
 * migration scan hashes on its own thread). */
#include "hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    /* No atexit clean-up: the process is ending and it costs a millisecond. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void hash_release(void)
{
    EVP_MD_free(sha256);
    sha256 = NULL;
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
    pthread_once(&sha256_once, fetch_sha256);
    EVP_MD_CTX *context = sha256 ? EVP_MD_CTX_new() : NULL;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    int ok = context != NULL && EVP_DigestInit_ex(context, sha256, NULL) == 1 &&
             EVP_DigestUpdate(context, data, len) == 1 &&
             EVP_DigestFinal_ex(context, out, &out_len) == 1 && out_len == HASH_LEN;
    EVP_MD_CTX_free(context);
    if (!ok)
        return -1;
    memcpy(digest, out, HASH_LEN);
    return 0;
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
    pthread_once(&sha256_once, fetch_sha256);
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *context = f && sha256 ? EVP_MD_CTX_new() : NULL;
    int ok = context != NULL && EVP_DigestInit_ex(context, sha256, NULL) == 1;
    unsigned char block[65536], digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    size_t got;
    *size = 0;
    while (ok && (got = fread(block, 1, sizeof block, f)) > 0) {
        ok = EVP_DigestUpdate(context, block, got) == 1;
        *size += (long long)got;
    }
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(context, digest, &digest_len) == 1 && digest_len == 32;
    EVP_MD_CTX_free(context);
    if (f)
        fclose(f);
    if (!ok)
        return -1;
    to_hex(digest, digest_len, hex);
    return 0;
}
