/* backup.c — see backup.h. */
#include "backup.h"

#include "proc.h"

#include <ctype.h>
#include <dirent.h>
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

char *backup_conninfo(const char *conninfo, char **password)
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

char **backup_environment(const char *password)
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

void backup_environment_free(char **envp, const char *password)
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
    char *plain = backup_conninfo(conninfo, &password);
    char **envp = plain ? backup_environment(password) : NULL;
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
    backup_environment_free(envp, password);
    free(plain);
    free(password);
    return rc;
}

/* path made absolute (from the current directory): the programs run from
 * '/' (proc.c), where a relative name means another file or none. */
static void absolute(const char *path, char *out, size_t size)
{
    char cwd[PATH_MAX];
    int n = -1;
    if (path[0] != '/' && getcwd(cwd, sizeof cwd) != NULL)
        n = snprintf(out, size, "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= size)
        snprintf(out, size, "%s", path);      /* too long: as given (it fails, naming it) */
}

/* A new empty file for a program's messages; 0, or -1 with err. */
static int temporary_log(char log[32], char *err, size_t errlen)
{
    snprintf(log, 32, "/tmp/stallmig-log.XXXXXX");
    int fd = mkstemp(log);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

int backup_take(const char *conninfo, const char *given, struct backup_result *out, char *err,
                size_t errlen)
{
    char path[PATH_MAX], log[PATH_MAX + 8];
    absolute(given, path, sizeof path);
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

int backup_check(const char *given, char *err, size_t errlen)
{
    struct stat st;
    if (stat(given, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a file", given);
        return -1;
    }
    char path[PATH_MAX], log[32];
    absolute(given, path, sizeof path);
    if (temporary_log(log, err, errlen) != 0)
        return -1;
    const char *argv[] = {"pg_restore", "--file=/dev/null", path, NULL};
    int rc = run_logged(argv, -1, NULL, log, err, errlen);
    unlink(log);
    return rc;
}

char *backup_with_dbname(const char *conninfo, const char *name)
{
    char quoted[2 * 256 + 1];
    size_t n = 0;
    for (const char *p = name; *p && n + 2 < sizeof quoted; p++) {
        if (*p == '\'' || *p == '\\')
            quoted[n++] = '\\';
        quoted[n++] = *p;
    }
    quoted[n] = '\0';
    char *target = NULL;
    return asprintf(&target, "%s dbname='%s'", conninfo, quoted) < 0 ? NULL : target;
}

int backup_restore(const char *conninfo, const char *dbname, const char *given, char *err,
                   size_t errlen)
{
    char *password = NULL;
    char *plain = backup_conninfo(conninfo, &password);
    char **envp = plain ? backup_environment(password) : NULL;
    char *target = envp ? backup_with_dbname(plain, dbname) : NULL;
    char path[PATH_MAX], log[32];
    absolute(given, path, sizeof path);
    if (target == NULL || temporary_log(log, err, errlen) != 0) {
        if (target == NULL)
            snprintf(err, errlen, "cannot prepare pg_restore's connection");
        free(target);
        backup_environment_free(envp, password);
        free(plain);
        free(password);
        return -1;
    }
    const char *argv[] = {"pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                          "--dbname", target, path, NULL};
    int rc = run_logged(argv, -1, envp, log, err, errlen);
    unlink(log);
    free(target);
    backup_environment_free(envp, password);
    free(plain);
    free(password);
    return rc;
}

int backup_resolve(const char *given, char *out, size_t size, char *err, size_t errlen)
{
    char real[PATH_MAX];
    if (given[0] == '\0' || realpath(given, real) == NULL) {
        snprintf(err, errlen, "cannot read the backup %s: %s", given,
                 given[0] ? strerror(errno) : "no file named");
        return -1;
    }
    if (strlen(real) >= size) {
        snprintf(err, errlen, "the path of the backup %s is too long", given);
        return -1;
    }
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

/* How many entries of dir start with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

int backup_next_path(const char *dir, const char *env, const char *tag, time_t when, char *out,
                     size_t size)
{
    char stamp[32], prefix[300];
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    int n = snprintf(prefix, sizeof prefix, "%s-%s-", env, stamp);
    if (n < 0 || (size_t)n >= sizeof prefix)
        return -1;
    n = snprintf(out, size, "%s/%s%02d-%s.dump", dir, prefix, count_prefixed(dir, prefix) + 1, tag);
    if (n < 0 || (size_t)n >= size)
        return -1;
    char *t = out + strlen(dir) + 1 + strlen(prefix);
    for (t = strchr(t, '-') + 1; *t && strcmp(t, ".dump") != 0; t++)
        if (!(isalnum((unsigned char)*t) || *t == '_' || *t == '.' || *t == '-'))
            *t = '_';
    return 0;
}
