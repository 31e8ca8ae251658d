/* test_migration.c — folder names, SHA-256 and checksum equivalence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hash.h"
#include "migration.h"
#include "utf8.h"

#include <string.h>

static void hash_sha256_hex__known_vectors(void **state)
{
    (void)state;
    char hex[HASH_HEX_LEN + 1];
    assert_int_equal(hash_sha256_hex("", 0, hex), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(hash_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void migration_name_is_conventional__forms(void **state)
{
    (void)state;
    assert_true(migration_name_is_conventional("20240101120000_init"));
    assert_true(migration_name_is_conventional("20240101120000_add_user_profile_fields2"));
    assert_false(migration_name_is_conventional("20240101_init"));          /* 8 digits */
    assert_false(migration_name_is_conventional("202401011200_init"));      /* 12 digits */
    assert_false(migration_name_is_conventional("20240101120000_add users"));
    assert_false(migration_name_is_conventional("20240101120000_AddUsers"));
    assert_false(migration_name_is_conventional("20240101120000_"));
    assert_false(migration_name_is_conventional("init"));
}

/* Found by fuzz_name: a conventional name no folder can have (over 255
 * bytes) was still called conventional while migration_name_problem refused it. */
static void migration_name_is_conventional__not_when_too_long(void **state)
{
    (void)state;
    char name[MIGRATION_NAME_MAX + 2];
    memcpy(name, "20240101120000_", 15);
    memset(name + 15, 'a', sizeof name - 16);
    name[sizeof name - 1] = '\0';
    assert_false(migration_name_is_conventional(name));
    assert_non_null(migration_name_problem(name));
    name[MIGRATION_NAME_MAX] = '\0';            /* exactly 255 bytes */
    assert_true(migration_name_is_conventional(name));
    assert_null(migration_name_problem(name));
}

static void migration_name_problem__rejects(void **state)
{
    (void)state;
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_null(migration_name_problem("20240101_add users"));               /* odd but fine */
    assert_null(migration_name_problem("20240101120000_blåbær"));
    assert_non_null(migration_name_problem(""));
    assert_non_null(migration_name_problem(".git"));
    assert_non_null(migration_name_problem("a\nb"));
    assert_non_null(migration_name_problem(long_name));
    assert_non_null(migration_name_problem("20240101120000_bl\xe5" "b\xe6" "r"));      /* Latin-1 */
    assert_non_null(migration_name_problem("20240101120000_\xc0\xaf"));          /* overlong '/' */
}

static void utf8_invalid_at__finds_the_first_bad_byte(void **state)
{
    (void)state;
    assert_int_equal(utf8_invalid_at("", 0), 0);
    assert_int_equal(utf8_invalid_at("bl\xc3\xa5", 4), 4);                    /* valid */
    assert_int_equal(utf8_invalid_at("\xf0\x9f\x90\x8e" "!", 5), 5);          /* U+1F40E */
    assert_int_equal(utf8_invalid_at("ab\xff", 3), 2);
    assert_int_equal(utf8_invalid_at("a\xc3", 2), 1);                        /* cut short */
    assert_int_equal(utf8_invalid_at("\xed\xa0\x80", 3), 0);                /* surrogate */
    assert_int_equal(utf8_invalid_at("\xe0\x80\xaf", 3), 0);                /* overlong */
    assert_int_equal(utf8_invalid_at("\xf4\x90\x80\x80", 4), 0);           /* > U+10FFFF */
}

static const char LF[] = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";
static const char CRLF[] = "CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n";
static const char BOM_LF[] = "\xEF\xBB\xBF" "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";
static const char BOM_CRLF[] = "\xEF\xBB\xBF" "CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n";

static void checksum_of(const char *text, char hex[HASH_HEX_LEN + 1])
{
    assert_int_equal(hash_sha256_hex(text, strlen(text), hex), 0);
}

static void migration_checksum_matches__same_bytes(void **state)
{
    (void)state;
    char hex[HASH_HEX_LEN + 1];
    checksum_of(LF, hex);
    assert_true(migration_checksum_matches(LF, strlen(LF), hex));
}

static void migration_checksum_matches__line_endings_and_bom(void **state)
{
    (void)state;
    const char *forms[] = {LF, CRLF, BOM_LF, BOM_CRLF};
    for (int stored = 0; stored < 4; stored++) {
        char hex[HASH_HEX_LEN + 1];
        checksum_of(forms[stored], hex);
        for (int on_disk = 0; on_disk < 4; on_disk++)
            assert_true(migration_checksum_matches(forms[on_disk], strlen(forms[on_disk]), hex));
    }
}

static void migration_checksum_matches__real_edits_detected(void **state)
{
    (void)state;
    char hex[HASH_HEX_LEN + 1];
    checksum_of(LF, hex);
    const char *edits[] = {
        "CREATE TABLE a (id int);\nCREATE TABLE b (id bigint);\n",
        "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n\n",          /* added blank line */
        "CREATE TABLE a (id int);\nCREATE TABLE b (id int);",              /* removed last LF */
        "CREATE TABLE a (id int); \nCREATE TABLE b (id int);\n",           /* trailing space */
        "",
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++)
        assert_false(migration_checksum_matches(edits[i], strlen(edits[i]), hex));
    assert_false(migration_checksum_matches(LF, strlen(LF), "not-a-checksum"));
    assert_false(migration_checksum_matches(LF, strlen(LF), NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_sha256_hex__known_vectors),
        cmocka_unit_test(migration_name_is_conventional__forms),
        cmocka_unit_test(migration_name_is_conventional__not_when_too_long),
        cmocka_unit_test(migration_name_problem__rejects),
        cmocka_unit_test(utf8_invalid_at__finds_the_first_bad_byte),
        cmocka_unit_test(migration_checksum_matches__same_bytes),
        cmocka_unit_test(migration_checksum_matches__line_endings_and_bom),
        cmocka_unit_test(migration_checksum_matches__real_edits_detected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
