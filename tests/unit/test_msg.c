/* test_msg.c — redaction: no password survives any output path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_redacted(const char *input, const char *expected)
{
    char *out = msg_redact(input);
    assert_string_equal(out, expected);
    free(out);
}

static int forget(void **state)
{
    (void)state;
    msg_clear_secrets();
    return 0;
}

static void msg_redact__url_password(void **state)
{
    (void)state;
    expect_redacted("postgresql://app:s3cret@db.example:5432/prod",
                    "postgresql://app:***@db.example:5432/prod");
    expect_redacted("see postgres://u:p@h/db and postgresql://v:q@h2/db2",
                    "see postgres://u:***@h/db and postgresql://v:***@h2/db2");
}

static void msg_redact__url_without_password_unchanged(void **state)
{
    (void)state;
    expect_redacted("postgresql://app@db/prod", "postgresql://app@db/prod");
    expect_redacted("postgresql:///db?host=/tmp/x", "postgresql:///db?host=/tmp/x");
    expect_redacted("http://h:8080/x", "http://h:8080/x");
}

/* An unescaped '@' in a password: the last '@' of the authority ends it. */
static void msg_redact__url_password_with_at_sign(void **state)
{
    (void)state;
    expect_redacted("postgresql://app:p@ss@db/prod", "postgresql://app:***@db/prod");
}

static void msg_redact__dsn_password(void **state)
{
    (void)state;
    expect_redacted("host=db user=app password=s3cret dbname=prod",
                    "host=db user=app password=*** dbname=prod");
    expect_redacted("host=db password='s3 cr\\'et' dbname=x", "host=db password=*** dbname=x");
    expect_redacted("PASSWORD=abc", "PASSWORD=***");
    expect_redacted("my_password=abc", "my_password=***");   /* over-redacting is safe */
    expect_redacted("xpassword=abc", "xpassword=abc");
}

static void msg_redact__query_string_password(void **state)
{
    (void)state;
    expect_redacted("postgresql://db/prod?user=app&password=s3cret&sslmode=require",
                    "postgresql://db/prod?user=app&password=***&sslmode=require");
}

static void msg_redact__registered_secret_anywhere(void **state)
{
    (void)state;
    msg_add_secret("hunter2");
    msg_add_secret("");
    expect_redacted("FATAL: password hunter2 rejected; hunter2!", "FATAL: password *** rejected; ***!");
    msg_add_secret("hunter22");          /* the longest match wins */
    expect_redacted("x hunter22 y", "x *** y");
}

static void msg_redact__null_and_empty(void **state)
{
    (void)state;
    char *out = msg_redact(NULL);
    assert_string_equal(out, "");
    free(out);
    expect_redacted("", "");
}

/* Found by fuzz_redact: the URL's user name was copied without looking for
 * secrets, so a password equal to the user name (postgres:postgres) showed. */
static void msg_redact__secret_as_url_user(void **state)
{
    (void)state;
    msg_add_secret("hunter");
    expect_redacted("postgresql://hunter:hunter@db/prod", "postgresql://***:***@db/prod");
    expect_redacted("at postgresql://hunter@db/prod", "at postgresql://***@db/prod");
}

/* Found by fuzz_redact: "password=" was copied as a keyword, so a secret
 * inside the word itself (or overlapping it) showed. */
static void msg_redact__secret_inside_password_keyword(void **state)
{
    (void)state;
    msg_add_secret("word");
    expect_redacted("password=x", "pass***=***");
    msg_add_secret("s://");
    expect_redacted("postgres://u:p@h", "postgre***u:***@h");
}

/* key=value: libpq reads an unquoted value up to white space; '&' only ends
 * one in a URL's query string. */
static void msg_redact__dsn_value_with_ampersand(void **state)
{
    (void)state;
    expect_redacted("host=db password=a&b dbname=x", "host=db password=*** dbname=x");
    expect_redacted("postgresql://db/x?password=a&user=b", "postgresql://db/x?password=***&user=b");
}

/* Found by fuzz_redact in a first cut of the mark-then-write redaction: a
 * quoted value that itself holds "password='" was read again and swallowed
 * the rest of the line. A marked value is not read again. */
static void msg_redact__quoted_value_holding_password_key(void **state)
{
    (void)state;
    expect_redacted("host=db password='r\\'\xc5password=' dbname=prod",
                    "host=db password=*** dbname=prod");
}

/* What to hide is decided first; each hidden run is one marker. */
static void msg_redact__adjacent_secrets_one_marker(void **state)
{
    (void)state;
    msg_add_secret("hunter2");
    expect_redacted("hunter2hunter2 and hunter2", "*** and ***");
}

static void expect_escaped(const char *input, const char *expected)
{
    char *out = msg_escape(input);
    assert_string_equal(out, expected);
    free(out);
}

/* What a terminal acts on is shown, not acted on; newlines and tabs stay. */
static void msg_escape__controls_but_newline_and_tab(void **state)
{
    (void)state;
    expect_escaped("a\x1b[31mred\x1b[0m", "a\\x1b[31mred\\x1b[0m");
    expect_escaped("\x1b]0;title\a", "\\x1b]0;title\\x07");
    expect_escaped("line 1\nline\t2\n", "line 1\nline\t2\n");
    expect_escaped("del\x7f cr\r bs\b", "del\\x7f cr\\x0d bs\\x08");
    expect_escaped(NULL, "");
    expect_escaped("", "");
}

/* C1 controls (an 8-bit CSI) in UTF-8; other non-ASCII text is kept. */
static void msg_escape__c1_controls_in_utf8(void **state)
{
    (void)state;
    expect_escaped("\xc2\x9b" "2J", "\\u009b2J");
    expect_escaped("caf\xc3\xa9 \xc2\xa0 \xe2\x80\x94", "caf\xc3\xa9 \xc2\xa0 \xe2\x80\x94");
    expect_escaped("\xc2", "\xc2");           /* a truncated sequence is not read past its end */
}

/* Redacted first (a secret holding a control character still matches),
 * then escaped. */
static void msg_write__redacts_then_escapes(void **state)
{
    (void)state;
    msg_add_secret("pass\x1bword");
    FILE *f = tmpfile();
    assert_non_null(f);
    msg_write(f, "postgresql://u:s3cret@h/db \x1b[2J pass\x1bword\n");
    char got[128] = "";
    rewind(f);
    assert_non_null(fgets(got, sizeof got, f));
    assert_string_equal(got, "postgresql://u:***@h/db \\x1b[2J ***\n");
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(msg_redact__url_password, forget),
        cmocka_unit_test_teardown(msg_redact__url_without_password_unchanged, forget),
        cmocka_unit_test_teardown(msg_redact__url_password_with_at_sign, forget),
        cmocka_unit_test_teardown(msg_redact__dsn_password, forget),
        cmocka_unit_test_teardown(msg_redact__query_string_password, forget),
        cmocka_unit_test_teardown(msg_redact__registered_secret_anywhere, forget),
        cmocka_unit_test_teardown(msg_redact__null_and_empty, forget),
        cmocka_unit_test_teardown(msg_redact__secret_as_url_user, forget),
        cmocka_unit_test_teardown(msg_redact__secret_inside_password_keyword, forget),
        cmocka_unit_test_teardown(msg_redact__dsn_value_with_ampersand, forget),
        cmocka_unit_test_teardown(msg_redact__quoted_value_holding_password_key, forget),
        cmocka_unit_test_teardown(msg_redact__adjacent_secrets_one_marker, forget),
        cmocka_unit_test_teardown(msg_escape__controls_but_newline_and_tab, forget),
        cmocka_unit_test_teardown(msg_escape__c1_controls_in_utf8, forget),
        cmocka_unit_test_teardown(msg_write__redacts_then_escapes, forget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
