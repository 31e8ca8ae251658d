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

/* A password for pg_dump/pg_restore, in a password file that has no name:
 * written to a new 0600 file, unlinked at once, and handed over as
 * PGPASSFILE=/dev/fd/N (libpq opens it anew and checks it is a plain file
 * readable by its owner alone). Unlike PGPASSWORD it is not in the child's
 * environment (readable in /proc), and unlike a named file a kill -9
 * leaves nothing behind. -1 when there is no password. */
int backup_password_file(const char *password)
{
    if (password == NULL)
        return -1;
    char name[] = "/tmp/stallmig-pgpass.XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0)
        return -1;
    unlink(name);
    FILE *f = fdopen(dup(fd), "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    fputs("*:*:*:*:", f);
    for (const char *p = password; *p; p++) {  /* ':' and '\' are escaped in a password file */
        if (*p == ':' || *p == '\\')
            fputc('\\', f);
        fputc(*p, f);
    }
    fputc('\n', f);
    if (fclose(f) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

char **backup_environment(int passfile)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = calloc(n + 2, sizeof *envp);
    size_t k = 0;
    for (size_t i = 0; envp && i < n; i++)
        if (strncmp(environ[i], "PGPASSWORD=", 11) != 0 && strncmp(environ[i], "PGPASSFILE=", 11) != 0)
            envp[k++] = environ[i];
    if (envp && passfile >= 0 && asprintf(&envp[k], "PGPASSFILE=/dev/fd/%d", passfile) < 0)
        envp[k] = NULL;
    return envp;
}

void backup_environment_free(char **envp, int passfile)
{
    if (envp == NULL)
        return;
    size_t k = 0;
    while (envp[k])
        k++;
    if (passfile >= 0 && k > 0 && strncmp(envp[k - 1], "PGPASSFILE=", 11) == 0)
        free(envp[k - 1]);
    free(envp);
}

/* What a child needs to connect: the connection string without its
 * password, and the environment that carries the password. */
struct child_login {
    char *plain;
    int passfile;
    char **envp;
};

static int child_login(const char *conninfo, struct child_login *login)
{
    char *password = NULL;
    login->plain = backup_conninfo(conninfo, &password);
    login->passfile = login->plain ? backup_password_file(password) : -1;
    login->envp = login->plain && (password == NULL || login->passfile >= 0)
                      ? backup_environment(login->passfile) : NULL;
    if (password)
        memset(password, 0, strlen(password));
    free(password);
    return login->envp ? 0 : -1;
}

static void child_logout(struct child_login *login)
{
    backup_environment_free(login->envp, login->passfile);
    if (login->passfile >= 0)
        close(login->passfile);
    free(login->plain);
    login->envp = NULL;
    login->plain = NULL;
    login->passfile = -1;
}

/* The last line of a log file that says "error" (pg_dump's detail lines
 * come after it), else its last non-empty line, for an error message. */
static void last_line(const char *log, char *out, size_t size)
{
    FILE *f = fopen(log, "r");
    char line[512];
    bool error_seen = false;
    out[0] = '\0';
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '\n' && (!error_seen || strstr(line, "error") != NULL)) {
            error_seen = error_seen || strstr(line, "error") != NULL;
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

/* pg_dump into path (a new file); lock_wait: pg_dump's --lock-wait-timeout
 * (PostgreSQL's duration syntax), or NULL. */
static int dump(const char *conninfo, const char *path, const char *lock_wait, const char *log,
                bool *created, char *err, size_t errlen)
{
    struct child_login login;
    int ready = child_login(conninfo, &login);
    int fd = ready == 0 ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
    int rc = -1;
    *created = fd >= 0;
    char wait[80];
    snprintf(wait, sizeof wait, "--lock-wait-timeout=%s", lock_wait ? lock_wait : "");
    if (ready != 0)
        snprintf(err, errlen, "cannot prepare pg_dump's connection");
    else if (fd < 0)
        snprintf(err, errlen, "cannot create the backup %s: %s", path, strerror(errno));
    else {
        const char *argv[7] = {"pg_dump", "--format=custom", "--no-password", "--dbname",
                               login.plain, NULL, NULL};
        if (lock_wait)
            argv[5] = wait;
        rc = run_logged(argv, fd, login.envp, log, err, errlen);
        if (rc == 0 && fsync(fd) != 0) {
            snprintf(err, errlen, "cannot write the backup %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    child_logout(&login);
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

/* Removes what a backup cut short (kill -9) left in dir: *.partial files
 * and their logs. Only one backup of an environment runs at a time (the
 * deploy lock), so a partial file there is a dead run's. */
static void remove_partials(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        bool partial = n > 8 && strcmp(e->d_name + n - 8, ".partial") == 0;
        bool log = n > 12 && strcmp(e->d_name + n - 12, ".partial.log") == 0;
        char stale[PATH_MAX + 260];
        if ((partial || log) && snprintf(stale, sizeof stale, "%s/%s", dir, e->d_name) < (int)sizeof stale)
            unlink(stale);
    }
    if (d)
        closedir(d);
}

int backup_take(const char *conninfo, const char *given, const char *lock_wait,
                struct backup_result *out, char *err, size_t errlen)
{
    char final[PATH_MAX - 16], path[PATH_MAX], log[PATH_MAX + 32];
    absolute(given, final, sizeof final);
    snprintf(path, sizeof path, "%s.partial", final);    /* the name it gets once verified */
    snprintf(log, sizeof log, "%s.log", path);
    if (make_parent(path, err, errlen) != 0)
        return -1;
    remove_partials(path);
    if (access(final, F_OK) == 0) {
        snprintf(err, errlen, "cannot create the backup %s: it exists", final);
        return -1;
    }
    bool created = false;
    int rc = dump(conninfo, path, lock_wait, log, &created, err, errlen);
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
        snprintf(err, errlen, "cannot read the backup %s back", final);
        rc = -1;
    }
    if (rc == 0 && rename(path, final) != 0) {
        snprintf(err, errlen, "cannot name the backup %s: %s", final, strerror(errno));
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
    struct child_login login;
    char *target = child_login(conninfo, &login) == 0 ? backup_with_dbname(login.plain, dbname) : NULL;
    char path[PATH_MAX], log[32];
    absolute(given, path, sizeof path);
    if (target == NULL || temporary_log(log, err, errlen) != 0) {
        if (target == NULL)
            snprintf(err, errlen, "cannot prepare pg_restore's connection");
        free(target);
        child_logout(&login);
        return -1;
    }
    const char *argv[] = {"pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                          "--dbname", target, path, NULL};
    int rc = run_logged(argv, -1, login.envp, log, err, errlen);
    unlink(log);
    free(target);
    child_logout(&login);
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

const char *backup_lock_wait(const char *lock_timeout, double lock_wait, char *buf, size_t size)
{
    if (lock_timeout && lock_timeout[0])
        return lock_timeout;
    if (lock_wait <= 0)
        return NULL;
    snprintf(buf, size, "%.0fs", lock_wait < 1 ? 1 : lock_wait);
    return buf;
}
