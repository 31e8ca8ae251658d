/* readfile: a whole regular file, or NULL and why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/stallmig-readfile.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char command[PATH_MAX + 16];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    return system(command) == 0 ? 0 : -1;
}

static void in_dir(char out[PATH_MAX], const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void readfile__the_whole_file_nul_terminated(void **state)
{
    (void)state;
    char path[PATH_MAX];
    in_dir(path, "a.txt");
    write_text(path, "one\ntwo\n");
    size_t len = 0;
    char *text = readfile(path, 0, 100, &len);
    assert_non_null(text);
    assert_int_equal(len, 8);
    assert_string_equal(text, "one\ntwo\n");
    free(text);
    in_dir(path, "empty");
    write_text(path, "");
    text = readfile(path, 0, 100, &len);
    assert_non_null(text);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);
}

static void readfile__what_it_refuses_and_why(void **state)
{
    (void)state;
    char path[PATH_MAX], link[PATH_MAX];
    size_t len = 0;
    in_dir(path, "missing");
    assert_null(readfile(path, 0, 100, &len));
    assert_int_equal(errno, ENOENT);
    assert_null(readfile(dir, 0, 100, &len));                   /* a directory */
    assert_int_equal(errno, EINVAL);
    in_dir(path, "fifo");                                       /* not read: no writer, no wait */
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_null(readfile(path, 0, 100, &len));
    assert_int_equal(errno, EINVAL);
    in_dir(path, "big");
    write_text(path, "0123456789");
    assert_null(readfile(path, 0, 9, &len));
    assert_int_equal(errno, EFBIG);
    char *text = readfile(path, 0, 10, &len);                   /* exactly max */
    assert_non_null(text);
    free(text);
    in_dir(link, "link");
    assert_int_equal(symlink(path, link), 0);
    assert_null(readfile(link, O_NOFOLLOW, 100, &len));
    assert_int_equal(errno, ELOOP);
    text = readfile(link, 0, 100, &len);
    assert_non_null(text);
    assert_int_equal(len, 10);
    free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(readfile__the_whole_file_nul_terminated),
        T(readfile__what_it_refuses_and_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
