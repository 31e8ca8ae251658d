/* localpg.c — the project's private cluster (see localpg.h). */
#include "localpg.h"

#include "proc.h"
#include "pg.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SOCKET_PATH_MAX 100          /* sun_path is 108 bytes, with ".s.PGSQL.5432" */

bool localpg_is_local(const char *url)
{
    return url != NULL && strncmp(url, LOCALPG_SCHEME, strlen(LOCALPG_SCHEME)) == 0;
}

void localpg_dir(const char *project_dir, char *out, size_t size)
{
    snprintf(out, size, "%s/.stallmig/pg", project_dir);
}

/* The newest installed server's bin directory (with initdb and pg_ctl). */
static int find_bindir(char *out, size_t size)
{
    DIR *d = opendir("/usr/lib/postgresql");
    long best = -1;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char probe[PATH_MAX];
        long version = strtol(e->d_name, NULL, 10);
        snprintf(probe, sizeof probe, "/usr/lib/postgresql/%s/bin/pg_ctl", e->d_name);
        if (version > best && access(probe, X_OK) == 0) {
            best = version;
            snprintf(out, size, "/usr/lib/postgresql/%s/bin", e->d_name);
        }
    }
    if (d)
        closedir(d);
    return best < 0 ? -1 : 0;
}

static const char *server_user(void)
{
    return geteuid() == 0 ? PROC_SERVER_USER : NULL;
}

/* Makes dir (and .stallmig) and, as root, hands it to the server's user;
 * every parent must let that user through to the socket. */
static int prepare_dir(const char *dir, char *err, size_t errlen)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    *strrchr(parent, '/') = '\0';
    if ((mkdir(parent, 0755) != 0 && errno != EEXIST) || (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (geteuid() != 0)
        return 0;
    uid_t uid;
    gid_t gid;
    if (proc_user_ids(PROC_SERVER_USER, &uid, &gid) != 0 || chown(dir, uid, gid) != 0) {
        snprintf(err, errlen, "cannot give %s to the user %s (is postgresql installed?)", dir,
                 PROC_SERVER_USER);
        return -1;
    }
    for (char *slash = strrchr(parent, '/'); slash != NULL; slash = strrchr(parent, '/')) {
        struct stat st;
        if (stat(parent, &st) == 0 && !(st.st_mode & S_IXOTH))
            chmod(parent, st.st_mode | S_IXOTH);     /* traverse only, not list */
        if (slash == parent)
            break;
        *slash = '\0';
    }
    return 0;
}

static int run_tool(const char *bindir, const char *tool, const char *const args[], const char *log,
                    char *err, size_t errlen)
{
    char path[PATH_MAX];
    const char *argv[16] = {path};
    snprintf(path, sizeof path, "%s/%s", bindir, tool);
    for (int i = 0; args[i] && i < 14; i++)
        argv[i + 1] = args[i];
    return proc_run(argv, server_user(), log, err, errlen);
}

int localpg_running(const char *project_dir, char *err, size_t errlen)
{
    char dir[PATH_MAX], data[PATH_MAX + 8], bindir[PATH_MAX];
    localpg_dir(project_dir, dir, sizeof dir);
    snprintf(data, sizeof data, "%s/data", dir);
    if (access(data, F_OK) != 0)
        return 0;
    if (find_bindir(bindir, sizeof bindir) != 0) {
        snprintf(err, errlen, "no PostgreSQL server is installed (apt-get install postgresql)");
        return -1;
    }
    const char *args[] = {"-D", data, "status", NULL};
    int rc = run_tool(bindir, "pg_ctl", args, NULL, err, errlen);
    return rc < 0 ? -1 : rc == 0;
}

static int create_cluster(const char *bindir, const char *dir, char *err, size_t errlen)
{
    char data[PATH_MAX + 8], log[PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(log, sizeof log, "%s/initdb.log", dir);
    const char *args[] = {"-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                          "--locale=C", NULL};
    int rc = run_tool(bindir, "initdb", args, log, err, errlen);
    if (rc > 0)
        snprintf(err, errlen, "initdb failed (exit %d); see %s", rc, log);
    return rc == 0 ? 0 : -1;
}

int localpg_start(const char *project_dir, char *err, size_t errlen)
{
    char dir[PATH_MAX], data[PATH_MAX + 8], log[PATH_MAX + 16], bindir[PATH_MAX];
    char options[PATH_MAX + 96];
    localpg_dir(project_dir, dir, sizeof dir);
    if (strlen(dir) > SOCKET_PATH_MAX) {
        snprintf(err, errlen, "the project's path is too long for a unix socket (%s): move the "
                 "project, or give [env] a url of a server", dir);
        return -1;
    }
    int running = localpg_running(project_dir, err, errlen);
    if (running != 0)
        return running < 0 ? -1 : 0;
    if (find_bindir(bindir, sizeof bindir) != 0) {
        snprintf(err, errlen, "no PostgreSQL server is installed (apt-get install postgresql)");
        return -1;
    }
    snprintf(data, sizeof data, "%s/data", dir);
    if (prepare_dir(dir, err, errlen) != 0 ||
        (access(data, F_OK) != 0 && create_cluster(bindir, dir, err, errlen) != 0))
        return -1;
    snprintf(log, sizeof log, "%s/server.log", dir);
    snprintf(options, sizeof options, "-c listen_addresses='' -c unix_socket_directories='%s'", dir);
    const char *args[] = {"-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start", NULL};
    int rc = run_tool(bindir, "pg_ctl", args, NULL, err, errlen);
    if (rc > 0)
        snprintf(err, errlen, "the local server did not start (pg_ctl exit %d); see %s", rc, log);
    return rc == 0 ? 0 : -1;
}

int localpg_stop(const char *project_dir, char *err, size_t errlen)
{
    char dir[PATH_MAX], data[PATH_MAX + 8], bindir[PATH_MAX];
    int running = localpg_running(project_dir, err, errlen);
    if (running <= 0)
        return running;
    localpg_dir(project_dir, dir, sizeof dir);
    snprintf(data, sizeof data, "%s/data", dir);
    find_bindir(bindir, sizeof bindir);
    const char *args[] = {"-D", data, "-m", "fast", "-w", "stop", NULL};
    int rc = run_tool(bindir, "pg_ctl", args, NULL, err, errlen);
    if (rc > 0)
        snprintf(err, errlen, "pg_ctl stop failed (exit %d)", rc);
    return rc == 0 ? 0 : -1;
}

/* The socket directory, percent-encoded for a URL's query. */
static void encode(const char *in, char *out, size_t size)
{
    size_t n = 0;
    for (; *in && n + 4 < size; in++) {
        unsigned char c = (unsigned char)*in;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/._-", c))
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, size - n, "%%%02X", c);
    }
    out[n] = '\0';
}

/* Creates database name on the local cluster when it is not there. */
static int ensure_database(const char *dir, const char *name, char *err, size_t errlen)
{
    const char *keys[] = {"host", "dbname", "user", NULL};
    const char *values[] = {dir, "postgres", "postgres", NULL};
    PGconn *admin = pg_connect(keys, values);   /* names, not a connection string */
    int rc = -1;
    if (PQstatus(admin) == CONNECTION_OK) {
        const char *params[] = {name};
        PGresult *res = PQexecParams(admin, "SELECT 1 FROM pg_database WHERE datname = $1", 1,
                                     NULL, params, NULL, NULL, 0);
        bool exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
        PQclear(res);
        char *quoted = PQescapeIdentifier(admin, name, strlen(name)), *sql = NULL;
        if (exists)
            rc = 0;
        else if (quoted && asprintf(&sql, "CREATE DATABASE %s", quoted) >= 0) {
            res = PQexec(admin, sql);
            rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
            PQclear(res);
        }
        PQfreemem(quoted);
        free(sql);
    }
    if (rc != 0)
        snprintf(err, errlen, "cannot create database \"%s\" on the local cluster in %s", name, dir);
    PQfinish(admin);
    return rc;
}

const char *localpg_name_problem(const char *url)
{
    const char *name = url + strlen(LOCALPG_SCHEME);
    if (*name == '\0' || strpbrk(name, "/?&= ") != NULL)
        return "write local:DATABASE, e.g. local:stallplass_dev";
    if (strlen(name) > 63)           /* the server would cut it short, with a NOTICE */
        return "a database name is at most 63 bytes (PostgreSQL's NAMEDATALEN)";
    return NULL;
}

char *localpg_url(const char *project_dir, const char *url, char *err, size_t errlen)
{
    const char *name = url + strlen(LOCALPG_SCHEME), *problem = localpg_name_problem(url);
    if (problem != NULL) {
        snprintf(err, errlen, "'%.80s': %s", url, problem);
        return NULL;
    }
    char dir[PATH_MAX];
    localpg_dir(project_dir, dir, sizeof dir);
    if (localpg_start(project_dir, err, errlen) != 0 || ensure_database(dir, name, err, errlen) != 0)
        return NULL;
    return localpg_socket_url(dir, name);
}

char *localpg_socket_url(const char *dir, const char *name)
{
    char host[PATH_MAX * 3], name_enc[256];
    encode(dir, host, sizeof host);
    encode(name, name_enc, sizeof name_enc);
    char *out = NULL;
    if (asprintf(&out, "postgresql:///%s?host=%s&user=postgres", name_enc, host) < 0)
        return NULL;
    return out;
}
