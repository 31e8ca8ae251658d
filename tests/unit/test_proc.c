/* test_proc.c — programs run with an argument vector, never a shell (the
 * shell here is the program, given its script as an argument). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_all(const char *path)
{
    static char text[4096];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static void proc_run__exit_status(void **state)
{
    (void)state;
    char err[300] = "";
    const char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    assert_int_equal(proc_run(argv, NULL, NULL, err, sizeof err), 3);
    const char *ok[] = {"/bin/true", NULL};
    assert_int_equal(proc_run(ok, NULL, NULL, err, sizeof err), 0);
}

static void proc_run__output_appended_to_the_log_stdin_empty(void **state)
{
    (void)state;
    char log[] = "/tmp/stallmig-proc-test.XXXXXX", err[300];
    close(mkstemp(log));
    const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; cat; pwd", NULL};
    assert_int_equal(proc_run(argv, NULL, log, err, sizeof err), 0);
    assert_int_equal(proc_run(argv, NULL, log, err, sizeof err), 0);
    assert_string_equal(read_all(log), "out\nerr\n/\nout\nerr\n/\n");   /* run from '/' */
    unlink(log);
}

static void proc_run__not_installed(void **state)
{
    (void)state;
    char err[300];
    const char *argv[] = {"/nonexistent/pg_dump", "--version", NULL};
    assert_int_equal(proc_run(argv, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "cannot run /nonexistent/pg_dump (not installed, or not on PATH)");
}

static void proc_run__ended_by_a_signal(void **state)
{
    (void)state;
    char err[300];
    const char *argv[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
    assert_int_equal(proc_run(argv, NULL, NULL, err, sizeof err), 128 + 15);
}

static void proc_run_with__stdout_to_a_file_environment_given_path_looked_up(void **state)
{
    (void)state;
    char out[] = "/tmp/stallmig-proc-test.XXXXXX", err[300];
    int fd = mkstemp(out);
    char *envp[] = {"STALLMIG_TEST_WORD=given", "PATH=/usr/bin:/bin", NULL};
    struct proc_options o = {NULL, NULL, fd, envp};
    const char *argv[] = {"sh", "-c", "echo \"$STALLMIG_TEST_WORD\"; echo hidden >&2", NULL};
    assert_int_equal(proc_run_with(argv, &o, err, sizeof err), 0);
    close(fd);
    assert_string_equal(read_all(out), "given\n");                     /* stderr: /dev/null */
    unlink(out);
}

struct collected {
    char text[4096];
    size_t len;
    int calls;
};

static void collect(const char *data, size_t len, void *user)
{
    struct collected *c = user;
    memcpy(c->text + c->len, data, len);
    c->len += len;
    c->text[c->len] = '\0';
    c->calls++;
}

static void proc_run_streamed__both_streams_in_order_in_its_folder(void **state)
{
    (void)state;
    struct collected c = {.len = 0};
    char err[300];
    const char *argv[] = {"sh", "-c", "echo a; echo b >&2; pwd; cat; exit 4", NULL};
    assert_int_equal(proc_run_streamed(argv, "/tmp", collect, &c, err, sizeof err), 4);
    assert_string_equal(c.text, "a\nb\n/tmp\n");
    assert_true(c.calls >= 1);
}

static void proc_run_streamed__missing_program_or_folder(void **state)
{
    (void)state;
    struct collected c = {.len = 0};
    char err[300];
    const char *argv[] = {"stallmig-no-such-program", NULL};
    assert_int_equal(proc_run_streamed(argv, NULL, collect, &c, err, sizeof err), -1);
    assert_string_equal(err, "cannot run stallmig-no-such-program (not installed, or not on PATH)");
    const char *sh[] = {"/bin/true", NULL};
    assert_int_equal(proc_run_streamed(sh, "/nonexistent/dir", collect, &c, err, sizeof err), -1);
    assert_string_equal(err, "cannot run /bin/true in /nonexistent/dir: No such file or directory");
    assert_int_equal(c.len, 0);
}

static void proc_user_ids__root_and_nobody_else(void **state)
{
    (void)state;
    uid_t uid;
    gid_t gid;
    assert_int_equal(proc_user_ids("root", &uid, &gid), 0);
    assert_int_equal(uid, 0);
    assert_int_equal(proc_user_ids("stallmig-no-such-user", &uid, &gid), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proc_run__exit_status),
        cmocka_unit_test(proc_run__output_appended_to_the_log_stdin_empty),
        cmocka_unit_test(proc_run__not_installed),
        cmocka_unit_test(proc_run__ended_by_a_signal),
        cmocka_unit_test(proc_run_with__stdout_to_a_file_environment_given_path_looked_up),
        cmocka_unit_test(proc_run_streamed__both_streams_in_order_in_its_folder),
        cmocka_unit_test(proc_run_streamed__missing_program_or_folder),
        cmocka_unit_test(proc_user_ids__root_and_nobody_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
