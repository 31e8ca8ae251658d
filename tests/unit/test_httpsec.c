/* test_httpsec.c — the studio's request checks: Host (DNS rebinding), the
 * token and its cookie, the CSRF token and the Origin of a change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "httpsec.h"

#include <stdio.h>
#include <string.h>

static struct httpsec sec;
static char cookie[200];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(httpsec_init(&sec, "127.0.0.1"), 0);
    sec.port = 5555;
    snprintf(cookie, sizeof cookie, "other=1; stallmig_studio_5555=%s", sec.token);
    return 0;
}

static int check(const struct httpsec_request *req)
{
    struct httpsec_verdict v;
    httpsec_check(&sec, req, &v);
    return v.status;
}

static void httpsec_init__tokens_are_random_hex(void **state)
{
    (void)state;
    struct httpsec other;
    assert_int_equal(httpsec_init(&other, "127.0.0.1"), 0);
    assert_int_equal(strlen(other.token), HTTPSEC_TOKEN_LEN);
    assert_int_equal(strspn(other.token, "0123456789abcdef"), HTTPSEC_TOKEN_LEN);
    assert_string_not_equal(other.token, sec.token);
    assert_string_not_equal(other.token, other.csrf);
}

static void httpsec_host_ok__only_localhost_and_ip_literals_on_the_port(void **state)
{
    (void)state;
    assert_true(httpsec_host_ok(&sec, "127.0.0.1:5555"));
    assert_true(httpsec_host_ok(&sec, "localhost:5555"));
    assert_true(httpsec_host_ok(&sec, "[::1]:5555"));
    assert_true(httpsec_host_ok(&sec, "192.168.1.20:5555"));
    assert_false(httpsec_host_ok(&sec, "evil.example:5555"));     /* DNS rebinding */
    assert_false(httpsec_host_ok(&sec, "127.0.0.1.nip.io:5555"));
    assert_false(httpsec_host_ok(&sec, "127.0.0.1:5556"));
    assert_false(httpsec_host_ok(&sec, "127.0.0.1"));
    assert_false(httpsec_host_ok(&sec, "[::1]"));
    assert_false(httpsec_host_ok(&sec, NULL));
    assert_false(httpsec_host_ok(&sec, ":5555"));
}

static void httpsec_check__token_becomes_a_cookie(void **state)
{
    (void)state;
    struct httpsec_request req = {.method = "GET", .path = "/rows", .host = "127.0.0.1:5555"};
    assert_int_equal(check(&req), 401);
    req.token_arg = "00000000000000000000000000000000";
    assert_int_equal(check(&req), 403);
    req.token_arg = sec.token;
    struct httpsec_verdict v;
    httpsec_check(&sec, &req, &v);
    assert_int_equal(v.status, 303);
    assert_string_equal(v.location, "/rows");
    assert_non_null(strstr(v.set_cookie, "HttpOnly"));
    assert_non_null(strstr(v.set_cookie, "SameSite=Strict"));
    assert_non_null(strstr(v.set_cookie, sec.token));
    req.token_arg = NULL;
    req.cookie = cookie;
    assert_int_equal(check(&req), 0);
    req.host = "evil.example:5555";
    assert_int_equal(check(&req), 403);
}

static void httpsec_check__changes_need_csrf_and_own_origin(void **state)
{
    (void)state;
    char body[200];
    struct httpsec_request req = {.method = "POST", .path = "/row/update", .host = "127.0.0.1:5555",
                                  .cookie = cookie, .body = "a=1&k1=2"};
    assert_int_equal(check(&req), 403);
    snprintf(body, sizeof body, "a=1&csrf=%s&k1=2", sec.csrf);
    req.body = body;
    assert_int_equal(check(&req), 0);
    snprintf(body, sizeof body, "a=1&csrf=%sx", sec.csrf);         /* longer: not the token */
    assert_int_equal(check(&req), 403);
    snprintf(body, sizeof body, "xcsrf=%s", sec.csrf);             /* another field */
    assert_int_equal(check(&req), 403);
    req.body = NULL;
    req.csrf_header = sec.csrf;
    assert_int_equal(check(&req), 0);
    req.origin = "http://evil.example";
    assert_int_equal(check(&req), 403);
    req.origin = "http://127.0.0.1:5555";
    assert_int_equal(check(&req), 0);
    req.cookie = NULL;                                             /* CSRF alone is not enough */
    assert_int_equal(check(&req), 401);
}

static void httpsec_url__shows_a_reachable_address(void **state)
{
    (void)state;
    struct httpsec any = sec;
    char url[200];
    snprintf(any.listen, sizeof any.listen, "0.0.0.0");
    httpsec_url(&any, url, sizeof url);
    assert_non_null(strstr(url, "http://127.0.0.1:5555/?token="));
    snprintf(any.listen, sizeof any.listen, "::1");
    httpsec_url(&any, url, sizeof url);
    assert_non_null(strstr(url, "http://[::1]:5555/?token="));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(httpsec_init__tokens_are_random_hex),
        cmocka_unit_test(httpsec_host_ok__only_localhost_and_ip_literals_on_the_port),
        cmocka_unit_test(httpsec_check__token_becomes_a_cookie),
        cmocka_unit_test(httpsec_check__changes_need_csrf_and_own_origin),
        cmocka_unit_test(httpsec_url__shows_a_reachable_address),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
