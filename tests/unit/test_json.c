/* test_json.c — the strict JSON reader used on libpg_query's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "json.h"

#include <stdlib.h>
#include <string.h>

static struct json *parse(const char *text)
{
    char err[128];
    return json_parse(text, strlen(text), err, sizeof err);
}

static void json_parse__document(void **state)
{
    (void)state;
    struct json *v = parse(" {\"a\": [1, -2.5e1, true, false, null], \"b\": {\"c\": \"d\"}, \"e\": 0} ");
    assert_non_null(v);
    const struct json *a = json_get(v, "a");
    assert_int_equal(a->type, JSON_ARRAY);
    assert_int_equal(a->count, 5);
    assert_true(a->items[0]->is_integer);
    assert_int_equal(a->items[0]->integer, 1);
    assert_false(a->items[1]->is_integer);
    assert_true(a->items[1]->number == -25.0);
    assert_int_equal(a->items[2]->type, JSON_TRUE);
    assert_int_equal(a->items[4]->type, JSON_NULL);
    assert_string_equal(json_string(json_get(v, "b"), "c"), "d");
    assert_true(json_true(v, "missing") == false);
    assert_null(json_get(v, "zzz"));
    assert_null(json_get(a, "a"));                          /* not an object */
    json_free(v);
}

static void json_parse__string_escapes(void **state)
{
    (void)state;
    struct json *v = parse("\"q\\\" b\\\\ s\\/ \\n\\t \\u00e6 \\ud83d\\ude00\"");
    assert_non_null(v);
    assert_string_equal(v->string, "q\" b\\ s/ \n\t \xc3\xa6 \xf0\x9f\x98\x80");
    json_free(v);
    v = parse("\"a\\u0000b\"");
    assert_int_equal(v->length, 3);                         /* an escaped NUL keeps its length */
    json_free(v);
}

static void json_parse__malformed(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "{", "[1,", "{\"a\" 1}", "{\"a\":1,}", "[1 2]", "\"unterminated", "\"bad \\x escape\"",
        "\"\\ud83d alone\"", "\"\\ude00\"", "\"\\u12\"", "01", "1.", "-", "1e", "tru", "nul",
        "{} {}", "[1] x", "{1: 2}", "\"tab\there\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        struct json *v = json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        if (v != NULL)
            print_error("accepted: %s\n", bad[i]);
        assert_null(v);
        assert_non_null(strstr(err, "offset "));
    }
}

static void json_parse_next__one_item_at_a_time(void **state)
{
    (void)state;
    const char *text = "[{\"a\":\"x\\\"y\"}, \"two\" ,3]";
    size_t pos = 1, len = strlen(text);
    char err[128] = "";
    struct json *v = json_parse_next(text, len, &pos, err, sizeof err);
    assert_non_null(v);
    assert_string_equal(json_string(v, "a"), "x\"y");   /* an escaped quote is not the end */
    json_free(v);
    assert_int_equal(text[pos], ',');
    pos++;
    v = json_parse_next(text, len, &pos, err, sizeof err);
    assert_non_null(v);
    assert_string_equal(v->string, "two");
    json_free(v);
    size_t before = pos + 3;                     /* past " ,3" */
    pos = before;
    assert_null(json_parse_next(text, len, &pos, err, sizeof err));   /* "]" is no value */
    assert_int_equal(pos, before);
    pos = 5;                                     /* a string that never ends */
    assert_null(json_parse_next("{\"a\":\"open", 10, &pos, err, sizeof err));
}

static void json_parse__depth_limit(void **state)
{
    (void)state;
    size_t n = JSON_MAX_DEPTH + 10;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    char err[128];
    assert_null(json_parse(deep, 2 * n, err, sizeof err));
    assert_non_null(strstr(err, "nested deeper than"));
    free(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_parse__document),
        cmocka_unit_test(json_parse__string_escapes),
        cmocka_unit_test(json_parse__malformed),
        cmocka_unit_test(json_parse__depth_limit),
        cmocka_unit_test(json_parse_next__one_item_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
