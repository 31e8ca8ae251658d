/* test_confirm.c — who can be asked to type a name: never CI, never
 * without a terminal on stdin (as in this test, which runs without one or
 * with CI set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "confirm.h"

#include <stdlib.h>

static void confirm_in_ci__what_ci_means(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        bool ci;
    } cases[] = {
        {"true", true}, {"1", true}, {"yes", true}, {"TRUE", true},
        {"0", false}, {"false", false}, {"False", false}, {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("CI", cases[i].value, 1);
        assert_int_equal(confirm_in_ci(), cases[i].ci);
    }
    unsetenv("CI");
    assert_false(confirm_in_ci());
}

static void confirm_can_ask__never_in_ci(void **state)
{
    (void)state;
    setenv("CI", "true", 1);
    assert_false(confirm_can_ask());
    assert_false(confirm_typed("prod", "prod is a protected environment.", "Type it"));
    unsetenv("CI");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(confirm_in_ci__what_ci_means),
        cmocka_unit_test(confirm_can_ask__never_in_ci),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
