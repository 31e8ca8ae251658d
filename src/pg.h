/* pg.h — plain-C libpq helpers (no lua.h): how stallrun opens a connection
 * (TCP keepalives, the session settings it asks the server for), what a
 * URL says (its password registered for redaction, its own options), and
 * why a connection failed in our own words (libpq's text can echo the
 * connection string). Every connection the host opens comes through here. */
#ifndef STALLMIG_PG_H
#define STALLMIG_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* PQconnectdbParams(keys, values, expand_dbname = 1) with TCP keepalives
 * (idle 30 s, then every 10 s, 3 probes) and tcp_user_timeout = 60 s in
 * front, so that a URL that sets them wins: a connection whose network
 * path went dead fails within about a minute instead of waiting for ever.
 * At most 26 keys (the rest are left out). */
PGconn *pg_connect(const char *const *keys, const char *const *values);

/* How the host opens a connection beside an environment's own: a look at
 * another database of the same server (the maintenance database
 * 'postgres', a shadow, a restored copy) or at another environment's. */
struct pg_aside {
    const char *dbname;              /* a database on url's server; NULL: url's own */
    const char *application;         /* application_name, or NULL */
    int timeout;                     /* connect_timeout in seconds; 0: libpq's (none) */
    bool read_only;                  /* -c default_transaction_read_only=on */
};

/* Connects through url's server as `how` says, with pg_connect's
 * keepalives; the server's notices are dropped (the host's own work shows
 * none). Never NULL but out of memory; check PQstatus. */
PGconn *pg_connect_aside(const char *url, const struct pg_aside *how);

/* The server's maintenance database 'postgres' through url's server
 * (connect_timeout 10 s): where databases are created, renamed and dropped. */
PGconn *pg_connect_admin(const char *url);

/* The session settings each environment connection asks the server for in
 * its startup options, unless the URL's own options set them:
 * client_connection_check_interval = 1s (a statement whose stallrun was
 * killed ends within about a second, with its locks and the deploy lock)
 * and the server's side of TCP keepalives (a session whose network path
 * went dead ends too). Appends them to options ("-c name=value ..."); the
 * result is truncated to size. */
void pg_session_options(const char *options, char *out, size_t size);

/* Appends "-c name=value" to options (PostgreSQL startup options); nothing
 * when value is NULL. */
void pg_add_option(char *options, size_t size, const char *name, const char *value);

/* Connects to url (application_name app, connect_timeout 10 s,
 * client_encoding UTF8, options the startup options) with
 * pg_session_options. A server that refuses one of them (before PostgreSQL
 * 14, a platform without it, a pooler that takes no startup options) gets
 * the connection without them. NULL only when out of memory. */
PGconn *pg_connect_session(const char *url, const char *app, const char *options);

/* Parses url without ever showing libpq's text (it can echo the password);
 * registers its password as a secret (msg_add_secret); copies the URL's own
 * options into options (when options is not NULL). 0, or -1 when libpq
 * cannot parse it. */
int pg_inspect_url(const char *url, char *options, size_t size);

/* Why the connection pg failed, in our own words, from PQhost, PQport,
 * PQdb and PQuser (never libpq's text, which can echo the connection
 * string). */
void pg_describe_failure(PGconn *pg, char *out, size_t size);

/* The same from libpq's message text and the names to use. */
void pg_describe_text(const char *text, const char *host, const char *port, const char *db,
                      const char *user, char *out, size_t size);

#endif
