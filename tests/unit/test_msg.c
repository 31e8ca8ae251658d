/* test_msg.c — redaction: no password survives any output path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "msg.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
