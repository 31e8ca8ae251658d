/* endpoint.c — where a connection string leads, and whether it says so itself. */
#include "endpoint.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libpq's system-wide service file lives here unless PGSYSCONFDIR says
 * otherwise (pg_config --sysconfdir of Debian's libpq). */
#ifndef PG_SYSCONFDIR
#define PG_SYSCONFDIR "/etc/postgresql-common"
#endif

/* This machine, however it is written: no host (the default socket),
 * a socket directory, localhost, or a loopback address. */
static bool is_local(const char *host)
{
    static const char *const names[] = {"localhost", "127.0.0.1", "::1", "[::1]", NULL};
    if (host == NULL || host[0] == '\0' || host[0] == '/' || host[0] == '@')
        return true;
    for (size_t i = 0; names[i]; i++)
        if (strcasecmp(host, names[i]) == 0)
            return true;
    return strncmp(host, "127.", 4) == 0;
}

static void copy_lower(char *out, size_t size, const char *in)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static const char *value_of(const PQconninfoOption *opts, const char *keyword)
{
    for (const PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0)
            return o->val && o->val[0] ? o->val : NULL;
    return NULL;
}

/* The operating system's user name: what libpq uses when the string names
 * no user (PGUSER is never read for an environment). */
static const char *os_user(void)
{
    struct passwd *pw = getpwuid(geteuid());
    return pw ? pw->pw_name : "";
}

/* ---- service files ---------------------------------------------------------- */

/* Looks for [service] in path as libpq reads it: lines trimmed, '#'
 * comments, "key=value" with nothing trimmed around '=', the first setting
 * of a key kept. 1 with keyword's value (or "") in out when the group is
 * there, 0 when it is not, -1 when the file cannot be read. */
static int service_in_file(const char *path, const char *service, const char *keyword,
                           char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char buf[4096];
    bool in_group = false, found = false;
    size_t name_len = strlen(service);
    out[0] = '\0';
    while (fgets(buf, sizeof buf, f) != NULL) {
        char *line = buf;
        size_t len = strlen(line);
        while (len > 0 && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0';
        while (*line && isspace((unsigned char)*line))
            line++;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (line[0] == '[') {
            if (found)
                break;               /* the end of our group */
            in_group = found = strncmp(line + 1, service, name_len) == 0 &&
                               line[name_len + 1] == ']';
            continue;
        }
        char *eq = strchr(line, '=');
        if (!in_group || eq == NULL || out[0] != '\0')
            continue;
        *eq = '\0';
        if (strcmp(line, keyword) == 0)
            snprintf(out, size, "%s", eq + 1);
    }
    fclose(f);
    return found ? 1 : 0;
}

/* The value service gives keyword, found where libpq looks: PGSERVICEFILE
 * (or ~/.pg_service.conf), and only when the group is not there,
 * pg_service.conf in PGSYSCONFDIR (or the compiled-in directory). 1 and
 * out ("" when the group does not set keyword), or 0: no such service. */
static int service_value(const char *service, const char *keyword, char *out, size_t size)
{
    char path[PATH_MAX];
    const char *file = getenv("PGSERVICEFILE"), *home = getenv("HOME");
    if (file == NULL && (home == NULL || home[0] == '\0')) {
        struct passwd *pw = getpwuid(geteuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (file != NULL)
        snprintf(path, sizeof path, "%s", file);
    else if (home != NULL)
        snprintf(path, sizeof path, "%s/.pg_service.conf", home);
    else
        path[0] = '\0';
    if (path[0] && service_in_file(path, service, keyword, out, size) == 1)
        return 1;
    const char *dir = getenv("PGSYSCONFDIR");
    snprintf(path, sizeof path, "%s/pg_service.conf", dir ? dir : PG_SYSCONFDIR);
    return service_in_file(path, service, keyword, out, size) == 1;
}

/* keyword's value: the string's own, else its service's (into buf), else NULL. */
static const char *setting(const PQconninfoOption *opts, const char *keyword, char *buf,
                           size_t size)
{
    const char *own = value_of(opts, keyword), *service = value_of(opts, "service");
    if (own != NULL || service == NULL)
        return own;
    return service_value(service, keyword, buf, size) == 1 && buf[0] ? buf : NULL;
}

/* ---- URLs that read two ways -------------------------------------------------- */

bool endpoint_is_url(const char *conninfo)
{
    return strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0;
}

/* Whether an '@' is in the name of a query parameter ("a@b=c", or "a@b"
 * alone) of query (up to end). */
static bool at_in_parameter_name(const char *query, const char *end)
{
    while (query < end) {
        size_t len = strcspn(query, "&");
        if (query + len > end)
            len = (size_t)(end - query);
        size_t name = strcspn(query, "=");
        if (memchr(query, '@', name < len ? name : len) != NULL)
            return true;
        query += len + 1;
    }
    return false;
}

/* A URL that libpq and a person (or another tool, or RFC 3986) split in
 * different places, so that part of a password would be read as the host,
 * the port or the database: libpq takes what comes before the first '@' as
 * user:password only when no '/' comes first; a '/' in the password leaves
 * the rest in the path, a second '@' in the host; RFC 3986 ends the user
 * name and password at '/', '?' or '#'; libpq has no fragment, so '#' is
 * part of whatever value it is in. */
static bool ambiguous_url(const char *url)
{
    const char *rest = strstr(url, "://") + 3, *end = rest + strlen(rest);
    if (strchr(rest, '#') != NULL)
        return true;
    const char *at = strchr(rest, '@'), *slash = strchr(rest, '/');
    const char *host = rest;
    if (at != NULL && (slash == NULL || at < slash)) {
        if (memchr(rest, '?', (size_t)(at - rest)) != NULL)
            return true;             /* '?' in the user name or password */
        host = at + 1;
    }
    size_t host_len = strcspn(host, "/?");
    if (memchr(host, '@', host_len) != NULL)
        return true;                 /* an '@' in the password */
    const char *path = host + host_len, *query = path + strcspn(path, "?");
    if (memchr(path, '@', (size_t)(query - path)) != NULL)
        return true;                 /* a '/' in the password: its rest is the path */
    return *query == '?' && at_in_parameter_name(query + 1, end);
}

int endpoint_check(const char *conninfo, char *why, size_t size, const char **hint)
{
    if (endpoint_is_url(conninfo) && ambiguous_url(conninfo)) {
        snprintf(why, size, "is ambiguous: its user name, password or database name holds a "
                 "'/', '?', '#' or '@' that is not percent-encoded, so libpq would read part of "
                 "it as the host, the port or the database");
        *hint = "percent-encode those characters in the url ('@' as %40, '/' as %2F, '?' as %3F, "
                "'#' as %23, ':' as %3A, '%' as %25), or write it as key=value (host=HOST "
                "dbname=NAME user=USER, and the password quoted), which needs no encoding";
        return -1;
    }
    char *ignored = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &ignored);
    PQfreemem(ignored);
    if (opts == NULL) {
        snprintf(why, size, "is not a valid PostgreSQL URL or key=value connection string");
        *hint = "check for a '%' not followed by two hex digits, or an unescaped '@', ':' or '/' "
                "in the password (escape them as %40, %3A, %2F)";
        return -1;
    }
    char dbname[256];
    const char *service = value_of(opts, "service");
    int rc = 0;
    if (value_of(opts, "dbname") != NULL) {
        /* named by the string itself */
    } else if (service != NULL && service_value(service, "dbname", dbname, sizeof dbname) == 0) {
        snprintf(why, size, "names service '%.60s', which no service file defines "
                 "(PGSERVICEFILE or ~/.pg_service.conf, then pg_service.conf in PGSYSCONFDIR or "
                 "%s)", service, PG_SYSCONFDIR);
        *hint = "add the service to the service file, or write the url out: "
                "postgresql://USER@HOST:PORT/DBNAME";
        rc = -1;
    } else if (service == NULL || dbname[0] == '\0') {
        snprintf(why, size, "does not name a database%s: stallrun never lets PGDATABASE, "
                 "PGHOST, PGUSER or libpq's defaults choose an environment's database",
                 service ? " (nor does its service)" : "");
        *hint = "write the database in the url: url = postgresql://USER@HOST:PORT/DBNAME, or "
                "host=HOST dbname=NAME user=USER (url = local:NAME for the project's own "
                "PostgreSQL)";
        rc = -1;
    }
    PQconninfoFree(opts);
    return rc;
}

/* ---- where it leads ------------------------------------------------------------ */

int endpoint_parse(const char *conninfo, struct endpoint *out)
{
    char *ignored = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &ignored);
    PQfreemem(ignored);
    if (opts == NULL)
        return -1;
    char hostbuf[512], portbuf[64], dbbuf[256], userbuf[256];
    const char *host = setting(opts, "host", hostbuf, sizeof hostbuf);
    if (host == NULL)
        host = setting(opts, "hostaddr", hostbuf, sizeof hostbuf);
    if (is_local(host))
        snprintf(out->host, sizeof out->host, "local");
    else
        copy_lower(out->host, sizeof out->host, host);
    const char *port = setting(opts, "port", portbuf, sizeof portbuf);
    snprintf(out->port, sizeof out->port, "%s", port ? port : "5432");
    const char *db = setting(opts, "dbname", dbbuf, sizeof dbbuf);
    const char *user = setting(opts, "user", userbuf, sizeof userbuf);
    snprintf(out->dbname, sizeof out->dbname, "%s", db ? db : user ? user : os_user());
    PQconninfoFree(opts);
    return 0;
}

bool endpoint_same(const struct endpoint *a, const struct endpoint *b)
{
    return strcmp(a->host, b->host) == 0 && strcmp(a->port, b->port) == 0 &&
           strcmp(a->dbname, b->dbname) == 0;
}
