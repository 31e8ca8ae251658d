/* test_backup.c — what a backup needs besides a server: its file name, the
 * path given, the connection string and environment pg_dump gets (the
 * password never on its command line), and a failure that leaves no file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backup.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const time_t WHEN = 1714557600;      /* 2024-05-01T10:00:00Z */

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/stallmig-backup-test.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void touch(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
}

static void backup_next_path__first_of_its_second(void **state)
{
    (void)state;
    char out[PATH_MAX], want[PATH_MAX];
    assert_int_equal(backup_next_path(dir, "prod", "after-20240101000000_init", WHEN, out, sizeof out), 0);
    snprintf(want, sizeof want, "%s/prod-20240501100000-01-after-20240101000000_init.dump", dir);
    assert_string_equal(out, want);
}

static void backup_next_path__counts_the_backups_of_that_second(void **state)
{
    (void)state;
    touch("prod-20240501100000-01-after-a.dump");
    touch("prod-20240501100000-02-after-b.dump");
    touch("prod-20240501100001-01-after-c.dump");     /* another second */
    touch("staging-20240501100000-01-after-a.dump");  /* another environment */
    char out[PATH_MAX], want[PATH_MAX];
    assert_int_equal(backup_next_path(dir, "prod", "before-restore", WHEN, out, sizeof out), 0);
    snprintf(want, sizeof want, "%s/prod-20240501100000-03-before-restore.dump", dir);
    assert_string_equal(out, want);
}

static void backup_next_path__tag_bytes_outside_the_safe_set_become_underscores(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(backup_next_path("/b", "dev", "after-x/y z;\xc3\xa6.v1", WHEN, out, sizeof out), 0);
    assert_string_equal(out, "/b/dev-20240501100000-01-after-x_y_z___.v1.dump");
}

static void backup_next_path__too_long_is_refused(void **state)
{
    (void)state;
    char out[40];
    assert_int_equal(backup_next_path("/backups/prod", "prod", "after-a-long-name", WHEN, out,
                                      sizeof out), -1);
}

static void backup_resolve__relative_name_from_the_current_directory(void **state)
{
    (void)state;
    touch("given.dump");
    char cwd[PATH_MAX], out[PATH_MAX], err[300], want[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    int rc = backup_resolve("./given.dump", out, sizeof out, err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_non_null(realpath(dir, want));
    strcat(want, "/given.dump");
    assert_string_equal(out, want);
}

static void backup_resolve__missing_file_named(void **state)
{
    (void)state;
    char out[PATH_MAX], err[300];
    assert_int_equal(backup_resolve("/nonexistent/x.dump", out, sizeof out, err, sizeof err), -1);
    assert_string_equal(err, "cannot read the backup /nonexistent/x.dump: No such file or directory");
    assert_int_equal(backup_resolve("", out, sizeof out, err, sizeof err), -1);
    assert_string_equal(err, "cannot read the backup : no file named");
}

static void backup_check__a_folder_is_not_a_backup(void **state)
{
    (void)state;
    char err[300];
    assert_int_equal(backup_check(dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a file"));
}

static void backup_conninfo__password_apart(void **state)
{
    (void)state;
    char *password = NULL;
    char *plain = backup_conninfo("postgresql://app:s3cr%27t@db.example:5433/prod?sslmode=require",
                                  &password);
    assert_non_null(plain);
    assert_string_equal(password, "s3cr't");
    assert_null(strstr(plain, "s3cr"));
    assert_non_null(strstr(plain, "user='app'"));
    assert_non_null(strstr(plain, "host='db.example'"));
    assert_non_null(strstr(plain, "port='5433'"));
    assert_non_null(strstr(plain, "dbname='prod'"));
    assert_non_null(strstr(plain, "sslmode='require'"));
    free(plain);
    free(password);
}

static void backup_conninfo__quotes_what_libpq_would_split(void **state)
{
    (void)state;
    char *password = NULL;
    char *plain = backup_conninfo("host=db dbname='my db' application_name='it\\'s'", &password);
    assert_null(password);
    assert_non_null(strstr(plain, "dbname='my db'"));
    assert_non_null(strstr(plain, "application_name='it\\'s'"));
    char *target = backup_with_dbname(plain, "restored_'x'");
    assert_non_null(strstr(target, " dbname='restored_\\'x\\''"));
    char *ignored = NULL;
    PQconninfoOption *opts = PQconninfoParse(target, &ignored);
    assert_non_null(opts);                     /* libpq reads it back */
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0)
            assert_string_equal(o->val, "restored_'x'");   /* the last dbname wins */
    PQconninfoFree(opts);
    free(target);
    free(plain);
}

static void backup_conninfo__unparseable_is_null(void **state)
{
    (void)state;
    char *password = NULL;
    assert_null(backup_conninfo("host=db port", &password));
    assert_null(password);
}

static size_t count_prefixed(char **envp, const char *prefix, const char **found)
{
    size_t n = 0;
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], prefix, strlen(prefix)) == 0)
            n++, *found = envp[i];
    return n;
}

static void backup_environment__password_file_replaces_pgpassword(void **state)
{
    (void)state;
    setenv("PGPASSWORD", "old", 1);
    setenv("PGPASSFILE", "/elsewhere", 1);
    setenv("STALLMIG_TEST_KEPT", "yes", 1);
    int fd = backup_password_file("s:e\\cret");
    assert_true(fd >= 0);
    char **envp = backup_environment(fd);
    const char *found = NULL;
    assert_int_equal(count_prefixed(envp, "PGPASSWORD=", &found), 0);
    assert_int_equal(count_prefixed(envp, "PGPASSFILE=", &found), 1);
    char want[64];
    snprintf(want, sizeof want, "PGPASSFILE=/dev/fd/%d", fd);
    assert_string_equal(found, want);
    assert_int_equal(count_prefixed(envp, "STALLMIG_TEST_KEPT=", &found), 1);
    char text[64] = {0};                    /* ':' and '\' escaped, as libpq reads them */
    assert_true(pread(fd, text, sizeof text - 1, 0) > 0);
    assert_string_equal(text, "*:*:*:*:s\\:e\\\\cret\n");
    backup_environment_free(envp, fd);
    close(fd);
    unsetenv("PGPASSWORD");
    unsetenv("PGPASSFILE");
    unsetenv("STALLMIG_TEST_KEPT");
}

static void backup_environment__no_password_none_passed_on(void **state)
{
    (void)state;
    setenv("PGPASSWORD", "old", 1);
    assert_int_equal(backup_password_file(NULL), -1);
    char **envp = backup_environment(-1);
    const char *found = NULL;
    assert_int_equal(count_prefixed(envp, "PGPASSWORD=", &found), 0);
    assert_int_equal(count_prefixed(envp, "PGPASSFILE=", &found), 0);
    backup_environment_free(envp, -1);
    unsetenv("PGPASSWORD");
}

static void backup_take__failure_leaves_no_file(void **state)
{
    (void)state;
    char path[PATH_MAX], err[1024];
    struct backup_result result;
    snprintf(path, sizeof path, "%s/new/prod.dump", dir);
    int rc = backup_take("host=/nonexistent/stallmig-test-socket dbname=prod", path, NULL, &result, err,
                         sizeof err);
    assert_int_equal(rc, -1);
    assert_true(strstr(err, "pg_dump failed") != NULL || strstr(err, "cannot run pg_dump") != NULL);
    assert_int_equal(access(path, F_OK), -1);                 /* no half-written backup */
    char log[PATH_MAX + 8];
    snprintf(log, sizeof log, "%s.log", path);
    assert_int_equal(access(log, F_OK), -1);
    struct stat st;
    snprintf(path, sizeof path, "%s/new", dir);
    assert_int_equal(stat(path, &st), 0);                     /* the folder, made 0700 */
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void backup_take__never_over_an_existing_file(void **state)
{
    (void)state;
    touch("there.dump");
    char path[PATH_MAX], err[1024];
    struct backup_result result;
    snprintf(path, sizeof path, "%s/there.dump", dir);
    assert_int_equal(backup_take("host=/nonexistent dbname=prod", path, NULL, &result, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create the backup"));
    assert_int_equal(access(path, F_OK), 0);                  /* still there */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(backup_next_path__first_of_its_second),
        T(backup_next_path__counts_the_backups_of_that_second),
        T(backup_next_path__tag_bytes_outside_the_safe_set_become_underscores),
        T(backup_next_path__too_long_is_refused),
        T(backup_resolve__relative_name_from_the_current_directory),
        T(backup_resolve__missing_file_named),
        T(backup_check__a_folder_is_not_a_backup),
        T(backup_conninfo__password_apart),
        T(backup_conninfo__quotes_what_libpq_would_split),
        T(backup_conninfo__unparseable_is_null),
        T(backup_environment__password_file_replaces_pgpassword),
        T(backup_environment__no_password_none_passed_on),
        T(backup_take__failure_leaves_no_file),
        T(backup_take__never_over_an_existing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
