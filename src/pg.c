/* pg.c — plain-C libpq helpers (see pg.h). */
#include "pg.h"

#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- opening a connection -------------------------------------------------- */

#define MAX_KEYS 32

PGconn *pg_connect(const char *const *keys, const char *const *values)
{
    static const char *const tcp_keys[] = {"keepalives", "keepalives_idle", "keepalives_interval",
                                           "keepalives_count", "tcp_user_timeout"};
    static const char *const tcp_values[] = {"1", "30", "10", "3", "60000"};
    const char *k[MAX_KEYS], *v[MAX_KEYS];
    size_t n = 0, tcp = PQlibVersion() >= 120000 ? 5 : 4;   /* tcp_user_timeout: libpq 12 */
    for (size_t i = 0; i < tcp; i++)
        k[n] = tcp_keys[i], v[n++] = tcp_values[i];
    for (size_t i = 0; keys[i] && n < MAX_KEYS - 1; i++)
        k[n] = keys[i], v[n++] = values[i];
    k[n] = v[n] = NULL;
    return PQconnectdbParams(k, v, 1);
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *pg_connect_aside(const char *url, const struct pg_aside *how)
{
    const char *keys[6], *values[6];
    char timeout[16];
    size_t n = 0;
    keys[n] = "dbname", values[n++] = url;
    if (how->dbname)                 /* the second dbname names the database, the first the rest */
        keys[n] = "dbname", values[n++] = how->dbname;
    if (how->application)
        keys[n] = "application_name", values[n++] = how->application;
    if (how->timeout > 0) {
        snprintf(timeout, sizeof timeout, "%d", how->timeout);
        keys[n] = "connect_timeout", values[n++] = timeout;
    }
    if (how->read_only)
        keys[n] = "options", values[n++] = "-c default_transaction_read_only=on";
    keys[n] = values[n] = NULL;
    PGconn *pg = pg_connect(keys, values);
    if (pg)
        PQsetNoticeProcessor(pg, quiet, NULL);
    return pg;
}

PGconn *pg_connect_admin(const char *url)
{
    return pg_connect_aside(url, &(struct pg_aside){.dbname = "postgres", .timeout = 10});
}

/* ---- the session's settings -------------------------------------------------- */

void pg_add_option(char *options, size_t size, const char *name, const char *value)
{
    if (value == NULL)
        return;
    size_t len = strlen(options);
    snprintf(options + len, size - len, "%s-c %s=%s", len ? " " : "", name, value);
}

static const struct {
    const char *name, *value;
} session_settings[] = {
    {"client_connection_check_interval", "1s"}, {"tcp_keepalives_idle", "30"},
    {"tcp_keepalives_interval", "10"}, {"tcp_keepalives_count", "3"},
    {"tcp_user_timeout", "60000"},
};
#define SESSION_SETTINGS (sizeof session_settings / sizeof session_settings[0])

void pg_session_options(const char *options, char *out, size_t size)
{
    snprintf(out, size, "%s", options);
    for (size_t i = 0; i < SESSION_SETTINGS; i++)
        if (strstr(options, session_settings[i].name) == NULL)
            pg_add_option(out, size, session_settings[i].name, session_settings[i].value);
}

/* client_encoding: migration files are UTF-8 (checked before sending),
 * whatever the database's own encoding. */
static PGconn *connect_with(const char *url, const char *app, const char *options)
{
    const char *keys[] = {"dbname", "application_name", "options", "connect_timeout",
                          "client_encoding", NULL};
    const char *values[] = {url, app, options, "10", "UTF8", NULL};
    if (options[0] == '\0')
        keys[2] = "fallback_application_name", values[2] = app;
    return pg_connect(keys, values);
}

PGconn *pg_connect_session(const char *url, const char *app, const char *options)
{
    char checked[1400];
    pg_session_options(options, checked, sizeof checked);
    PGconn *pg = connect_with(url, app, checked);
    if (pg == NULL || PQstatus(pg) == CONNECTION_OK || strcmp(checked, options) == 0)
        return pg;
    const char *why = PQerrorMessage(pg);
    bool refused = strstr(why, "startup parameter") != NULL;
    for (size_t i = 0; i < SESSION_SETTINGS && !refused; i++)
        refused = strstr(why, session_settings[i].name) != NULL;
    if (refused) {
        PQfinish(pg);
        pg = connect_with(url, app, options);
    }
    return pg;
}

/* ---- what a URL says ----------------------------------------------------------- */

int pg_inspect_url(const char *url, char *options, size_t size)
{
    char *ignored = NULL;
    PQconninfoOption *info = PQconninfoParse(url, &ignored);
    PQfreemem(ignored);
    if (info == NULL)
        return -1;
    for (PQconninfoOption *o = info; o->keyword; o++) {
        if (o->val && strcmp(o->keyword, "password") == 0)
            msg_add_secret(o->val);
        if (options && o->val && strcmp(o->keyword, "options") == 0)
            snprintf(options, size, "%s", o->val);
    }
    PQconninfoFree(info);
    return 0;
}

/* ---- why it failed ---------------------------------------------------------------- */

void pg_describe_failure(PGconn *pg, char *out, size_t size)
{
    const char *host = PQhost(pg) ? PQhost(pg) : "?", *port = PQport(pg) ? PQport(pg) : "?";
    const char *db = PQdb(pg) ? PQdb(pg) : "?", *user = PQuser(pg) ? PQuser(pg) : "?";
    pg_describe_text(PQerrorMessage(pg), host, port, db, user, out, size);
}

void pg_describe_text(const char *text, const char *host, const char *port, const char *db,
                      const char *user, char *out, size_t size)
{
    if (strstr(text, "password authentication failed"))
        snprintf(out, size, "password authentication failed for user \"%s\"", user);
    else if (strstr(text, "no password supplied"))
        snprintf(out, size, "the server asks user \"%s\" for a password and none was given", user);
    else if (strstr(text, "database \"") && strstr(text, "does not exist"))
        snprintf(out, size, "database \"%s\" does not exist on %s port %s", db, host, port);
    else if (strstr(text, "role \"") && strstr(text, "does not exist"))
        snprintf(out, size, "role \"%s\" does not exist on %s port %s", user, host, port);
    else if (strstr(text, "Connection refused") || strstr(text, "No such file or directory"))
        snprintf(out, size, "no server is accepting connections at %s port %s", host, port);
    else if (strstr(text, "could not translate host name"))
        snprintf(out, size, "unknown host \"%s\"", host);
    else if (strstr(text, "timeout expired"))
        snprintf(out, size, "no answer from %s port %s within 10 seconds", host, port);
    else if (strstr(text, "starting up") || strstr(text, "shutting down") || strstr(text, "recovery mode"))
        snprintf(out, size, "the server at %s port %s is starting up or shutting down", host, port);
    else if (strstr(text, "too many connections for role"))
        snprintf(out, size, "user \"%s\" already has as many connections as its CONNECTION LIMIT "
                 "allows on %s port %s", user, host, port);
    else if (strstr(text, "too many connections for database"))
        snprintf(out, size, "database \"%s\" already has as many connections as its CONNECTION "
                 "LIMIT allows on %s port %s", db, host, port);
    else if (strstr(text, "not currently accepting connections"))
        snprintf(out, size, "database \"%s\" on %s port %s does not accept connections "
                 "(ALLOW_CONNECTIONS false)", db, host, port);
    else if (strstr(text, "too many connections") || strstr(text, "remaining connection slots"))
        snprintf(out, size, "the server at %s port %s has no connection slots left", host, port);
    else if (strstr(text, "no pg_hba.conf entry"))
        snprintf(out, size, "the server at %s port %s does not accept user \"%s\" for database "
                 "\"%s\" from here (pg_hba.conf)", host, port, user, db);
    else
        snprintf(out, size, "the connection to %s port %s failed (database \"%s\", user \"%s\")",
                 host, port, db, user);
}
