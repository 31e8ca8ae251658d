/* endpoint.c — normalised host/port/database of a connection string. */
#include "endpoint.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static const char *default_user(void)
{
    const char *user = getenv("PGUSER");
    if (user)
        return user;
    struct passwd *pw = getpwuid(geteuid());
    return pw ? pw->pw_name : "";
}

int endpoint_parse(const char *conninfo, struct endpoint *out)
{
    char *ignored = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &ignored);
    PQfreemem(ignored);
    if (opts == NULL)
        return -1;
    const char *host = value_of(opts, "host") ? value_of(opts, "host") : value_of(opts, "hostaddr");
    if (host == NULL)
        host = getenv("PGHOST");
    if (is_local(host))
        snprintf(out->host, sizeof out->host, "local");
    else
        copy_lower(out->host, sizeof out->host, host);
    const char *port = value_of(opts, "port") ? value_of(opts, "port") : getenv("PGPORT");
    snprintf(out->port, sizeof out->port, "%s", port ? port : "5432");
    const char *db = value_of(opts, "dbname") ? value_of(opts, "dbname") : getenv("PGDATABASE");
    const char *user = value_of(opts, "user") ? value_of(opts, "user") : default_user();
    snprintf(out->dbname, sizeof out->dbname, "%s", db ? db : user);
    PQconninfoFree(opts);
    return 0;
}

bool endpoint_same(const struct endpoint *a, const struct endpoint *b)
{
    return strcmp(a->host, b->host) == 0 && strcmp(a->port, b->port) == 0 &&
           strcmp(a->dbname, b->dbname) == 0;
}
