/* test_utf8.c — UTF-8 as PostgreSQL checks it: the first byte that is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "utf8.h"

#include <string.h>

static size_t at(const char *text)
{
    return utf8_invalid_at(text, strlen(text));
}

static void utf8_invalid_at__valid_text_is_its_length(void **state)
{
    (void)state;
    assert_int_equal(at(""), 0);
    assert_int_equal(at("CREATE TABLE t ();"), 18);
    assert_int_equal(at("bl\xc3\xa5" "b\xc3\xa6r"), 8);                    /* two-byte */
    assert_int_equal(at("\xe2\x82\xac"), 3);                            /* U+20AC, three */
    assert_int_equal(at("\xf0\x9f\x90\x8e"), 4);                        /* U+1F40E, four */
    assert_int_equal(at("\xf4\x8f\xbf\xbf"), 4);                        /* U+10FFFF, the last */
    assert_int_equal(utf8_invalid_at("a\0b", 3), 3);                    /* NUL is ASCII */
}

static void utf8_invalid_at__the_first_bad_byte(void **state)
{
    (void)state;
    assert_int_equal(at("caf\xe9"), 3);                                 /* Latin-1 é */
    assert_int_equal(at("ok \x80"), 3);                                 /* a lone continuation */
    assert_int_equal(at("\xc0\xaf"), 0);                                /* overlong '/' */
    assert_int_equal(at("\xc1\xbf"), 0);
    assert_int_equal(at("x\xe0\x80\xaf"), 1);                           /* overlong, three */
    assert_int_equal(at("\xf0\x80\x80\xaf"), 0);                        /* overlong, four */
    assert_int_equal(at("ab\xed\xa0\x80"), 2);                          /* a surrogate */
    assert_int_equal(at("\xf4\x90\x80\x80"), 0);                        /* above U+10FFFF */
    assert_int_equal(at("\xf5\x80\x80\x80"), 0);
    assert_int_equal(at("\xe2\x82"), 0);                                /* cut short */
    assert_int_equal(utf8_invalid_at("\xe2\x82\xac", 2), 0);            /* cut by len */
    assert_int_equal(at("\xe2\x28\xa1"), 0);                            /* bad continuation */
    assert_int_equal(at("\xf0\x9f\x90\x28"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_invalid_at__valid_text_is_its_length),
        cmocka_unit_test(utf8_invalid_at__the_first_bad_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
