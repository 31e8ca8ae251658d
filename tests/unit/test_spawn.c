/* test_spawn.c — child processes side by side: input on stdin, output
 * collected, exec failure, a child killed, a child released while it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spawn.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void wait_all(struct spawn_child **list, size_t n)
{
    for (int rounds = 0; spawn_pump(list, n, 1000) < n; rounds++)
        assert_true(rounds < 50);
}

static void spawn_start__input_in_output_out_both_streams(void **state)
{
    (void)state;
    struct spawn_child a, b;
    char err[300];
    const char *cat[] = {"/bin/sh", "-c", "read url; echo \"got $url\"; echo oops >&2; exit 4", NULL};
    const char *quiet[] = {"/bin/true", NULL};
    assert_int_equal(spawn_start(&a, cat, "postgresql://x\n", err, sizeof err), 0);
    assert_int_equal(spawn_start(&b, quiet, NULL, err, sizeof err), 0);
    struct spawn_child *list[] = {&a, &b};
    wait_all(list, 2);
    assert_int_equal(a.status, 4);
    assert_int_equal(a.signal, 0);
    assert_string_equal(a.out, "got postgresql://x\n");
    assert_string_equal(a.err, "oops\n");
    assert_int_equal(b.status, 0);
    assert_null(b.out);
    spawn_release(&a);
    spawn_release(&b);
    spawn_release(&b);   /* idempotent */
}

static void spawn_start__exec_failure_leaves_nothing(void **state)
{
    (void)state;
    struct spawn_child c;
    char err[300] = "";
    const char *argv[] = {"/nonexistent/stallrun", NULL};
    assert_int_equal(spawn_start(&c, argv, "secret\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot start /nonexistent/stallrun: No such file or directory"));
    assert_int_equal(c.pid, 0);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);   /* no child left to reap */
}

static void spawn_pump__a_child_killed_by_a_signal(void **state)
{
    (void)state;
    struct spawn_child c;
    char err[300];
    const char *argv[] = {"/bin/sh", "-c", "echo started; kill -9 $$", NULL};
    assert_int_equal(spawn_start(&c, argv, NULL, err, sizeof err), 0);
    struct spawn_child *list[] = {&c};
    wait_all(list, 1);
    assert_int_equal(c.signal, SIGKILL);
    assert_int_equal(c.status, 128 + SIGKILL);
    assert_string_equal(c.out, "started\n");
    spawn_release(&c);
}

static void spawn_release__ends_a_running_child_and_its_group(void **state)
{
    (void)state;
    struct spawn_child c;
    char err[300];
    const char *argv[] = {"/bin/sh", "-c", "sleep 30 & echo $!; exec sleep 30", NULL};
    assert_int_equal(spawn_start(&c, argv, NULL, err, sizeof err), 0);
    struct spawn_child *list[] = {&c};
    for (int i = 0; i < 50 && c.out == NULL; i++)
        assert_int_equal(spawn_pump(list, 1, 100), 0);   /* still running */
    assert_non_null(c.out);
    int background = atoi(c.out);
    spawn_signal(&c, SIGTERM);
    wait_all(list, 1);
    assert_int_equal(c.signal, SIGTERM);
    spawn_release(&c);
    usleep(200000);   /* the background sleep got it too: gone, or a zombie */
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", background);
    FILE *f = fopen(path, "r");
    if (f) {
        assert_non_null(fgets(stat, sizeof stat, f));
        fclose(f);
        assert_non_null(strstr(stat, ") Z "));
    }
    /* release while it runs: SIGTERM, reaped */
    assert_int_equal(spawn_start(&c, argv, NULL, err, sizeof err), 0);
    spawn_release(&c);
    assert_int_equal(c.pid, 0);
    assert_int_equal(c.out_fd, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spawn_start__input_in_output_out_both_streams),
        cmocka_unit_test(spawn_start__exec_failure_leaves_nothing),
        cmocka_unit_test(spawn_pump__a_child_killed_by_a_signal),
        cmocka_unit_test(spawn_release__ends_a_running_child_and_its_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
