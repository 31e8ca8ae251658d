/* backup.c — see backup.h. */
#include "backup.h"

#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* conninfo without its password, as key='value' pairs; the password apart. */
static char *without_password(const char *conninfo, char **password)
{
    char *ignored = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &ignored);
    PQfreemem(ignored);
    if (opts == NULL)
        return NULL;
    size_t cap = strlen(conninfo) * 2 + 64, n = 0;
    char *out = calloc(1, cap);
    for (PQconninfoOption *o = opts; out && o->keyword; o++) {
        if (o->val == NULL || o->val[0] == '\0')
            continue;
        if (strcmp(o->keyword, "password") == 0) {
            *password = strdup(o->val);
            continue;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s='", n ? " " : "", o->keyword);
        for (const char *v = o->val; *v && n + 4 < cap; v++) {
            if (*v == '\'' || *v == '\\')
                out[n++] = '\\';
            out[n++] = *v;
        }
        n += (size_t)snprintf(out + n, cap - n, "'");
    }
    PQconninfoFree(opts);
    return out;
}

/* This environment, PGPASSWORD replaced by password (or removed). */
static char **child_environment(const char *password)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = calloc(n + 2, sizeof *envp);
    size_t k = 0;
    for (size_t i = 0; envp && i < n; i++)
        if (strncmp(environ[i], "PGPASSWORD=", 11) != 0)
            envp[k++] = environ[i];
    if (envp && password && asprintf(&envp[k], "PGPASSWORD=%s", password) < 0)
        envp[k] = NULL;
    return envp;
}

static void free_environment(char **envp, const char *password)
{
    if (envp == NULL)
        return;
    size_t k = 0;
    while (envp[k])
        k++;
    if (password && k > 0 && strncmp(envp[k - 1], "PGPASSWORD=", 11) == 0)
        free(envp[k - 1]);
    free(envp);
}

/* The last non-empty line of a log file, for an error message. */
static void last_line(const char *log, char *out, size_t size)
{
    FILE *f = fopen(log, "r");
    char line[512];
    out[0] = '\0';
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '\n') {
            size_t n = strcspn(line, "\n");
            n = n < size - 1 ? n : size - 1;
            memcpy(out, line, n);
            out[n] = '\0';
        }
    if (f)
        fclose(f);
}

static int make_parent(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the backups folder %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Runs a tool with stderr to log; on failure err names it and its last line. */
static int run_logged(const char *const argv[], int stdout_fd, char **envp, const char *log,
                      char *err, size_t errlen)
{
    struct proc_options o = {NULL, log, stdout_fd, envp};
    int rc = proc_run_with(argv, &o, err, errlen);
    if (rc > 0) {
        char why[400];
        last_line(log, why, sizeof why);
        snprintf(err, errlen, "%s failed (exit %d): %s", argv[0], rc, why[0] ? why : "no message");
    }
    return rc == 0 ? 0 : -1;
}

static int dump(const char *conninfo, const char *path, const char *log, bool *created,
                char *err, size_t errlen)
{
    char *password = NULL;
    char *plain = without_password(conninfo, &password);
    char **envp = plain ? child_environment(password) : NULL;
    int fd = envp ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
    int rc = -1;
    *created = fd >= 0;
    if (plain == NULL || envp == NULL)
        snprintf(err, errlen, "cannot prepare pg_dump's connection");
    else if (fd < 0)
        snprintf(err, errlen, "cannot create the backup %s: %s", path, strerror(errno));
    else {
        const char *argv[] = {"pg_dump", "--format=custom", "--no-password", "--dbname", plain, NULL};
        rc = run_logged(argv, fd, envp, log, err, errlen);
        if (rc == 0 && fsync(fd) != 0) {
            snprintf(err, errlen, "cannot write the backup %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    free_environment(envp, password);
    free(plain);
    free(password);
    return rc;
}

int backup_take(const char *conninfo, const char *path, struct backup_result *out, char *err,
                size_t errlen)
{
    char log[PATH_MAX + 8];
    snprintf(log, sizeof log, "%s.log", path);
    if (make_parent(path, err, errlen) != 0)
        return -1;
    bool created = false;
    int rc = dump(conninfo, path, log, &created, err, errlen);
    if (rc == 0) {
        const char *argv[] = {"pg_restore", "--file=/dev/null", path, NULL};
        rc = run_logged(argv, -1, NULL, log, err, errlen);
        if (rc != 0) {
            char why[600];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, errlen, "the backup does not read back: %s", why);
        }
    }
    if (rc == 0 && hash_sha256_file(path, out->checksum, &out->size) != 0) {
        snprintf(err, errlen, "cannot read the backup %s back", path);
        rc = -1;
    }
    unlink(log);
    if (rc != 0 && created)
        unlink(path);                /* never a file that was there before */
    return rc;
}

int backup_check(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a file", path);
        return -1;
    }
    char log[] = "/tmp/stallmig-check.XXXXXX";
    int fd = mkstemp(log);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return -1;
    }
    close(fd);
    const char *argv[] = {"pg_restore", "--file=/dev/null", path, NULL};
    int rc = run_logged(argv, -1, NULL, log, err, errlen);
    unlink(log);
    return rc;
}

int backup_restore(const char *conninfo, const char *dbname, const char *path, char *err,
                   size_t errlen)
{
    char *password = NULL;
    char *plain = without_password(conninfo, &password);
    char *target = NULL;
    char **envp = plain ? child_environment(password) : NULL;
    if (envp == NULL || asprintf(&target, "%s dbname='%s'", plain, dbname) < 0) {
        snprintf(err, errlen, "cannot prepare pg_restore's connection");
        free_environment(envp, password);
        free(plain);
        free(password);
        return -1;
    }
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s.restore.log", path);
    const char *argv[] = {"pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                          "--dbname", target, path, NULL};
    int rc = run_logged(argv, -1, envp, log, err, errlen);
    unlink(log);
    free(target);
    free_environment(envp, password);
    free(plain);
    free(password);
    return rc;
}
