/* test_hash.c — SHA-256 as Prisma stores a checksum: lowercase hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define A_100000 "6d1cf22d7cc09b085dfc25ee1a1f3ae0265804c607bc2074ad253bcc82fd81ee"

static void hash_sha256_hex__known_digests(void **state)
{
    (void)state;
    char hex[HASH_HEX_LEN + 1];
    assert_int_equal(hash_sha256_hex("", 0, hex), 0);
    assert_string_equal(hex, EMPTY);
    assert_int_equal(hash_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, ABC);
    assert_int_equal(hash_sha256_hex("a\0b", 3, hex), 0);           /* bytes, not a C string */
    assert_string_not_equal(hex, EMPTY);
}

static void hash_sha256_file__in_blocks_with_its_size(void **state)
{
    (void)state;
    char path[] = "/tmp/stallmig-hash-test.XXXXXX", hex[HASH_HEX_LEN + 1];
    FILE *f = fdopen(mkstemp(path), "w");
    for (int i = 0; i < 100000; i++)                 /* more than one 64 KiB block */
        fputc('a', f);
    fclose(f);
    long long size = -1;
    assert_int_equal(hash_sha256_file(path, hex, &size), 0);
    assert_string_equal(hex, A_100000);
    assert_int_equal(size, 100000);
    unlink(path);
}

static void hash_sha256_file__missing_file(void **state)
{
    (void)state;
    char hex[HASH_HEX_LEN + 1];
    long long size;
    assert_int_equal(hash_sha256_file("/nonexistent/migration.sql", hex, &size), -1);
}

static void *hash_abc(void *unused)
{
    (void)unused;
    char hex[HASH_HEX_LEN + 1];
    for (int i = 0; i < 200; i++)
        if (hash_sha256_hex("abc", 3, hex) != 0 || strcmp(hex, ABC) != 0)
            return (void *)1;
    return NULL;
}

static void hash_sha256_hex__from_two_threads(void **state)
{
    (void)state;
    pthread_t other;
    assert_int_equal(pthread_create(&other, NULL, hash_abc, NULL), 0);
    void *mine = hash_abc(NULL), *theirs = NULL;
    pthread_join(other, &theirs);
    assert_null(mine);
    assert_null(theirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_sha256_hex__known_digests),
        cmocka_unit_test(hash_sha256_file__in_blocks_with_its_size),
        cmocka_unit_test(hash_sha256_file__missing_file),
        cmocka_unit_test(hash_sha256_hex__from_two_threads),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    hash_release();
    return failed;
}
