/* endpoint.h — where a connection string leads: host, port, database,
 * normalised so that two spellings of one database compare equal (URL vs
 * key=value, localhost vs 127.0.0.1 vs the default socket, default port).
 * Plain C (libpq's parser only, no lua.h). */
#ifndef STALLMIG_ENDPOINT_H
#define STALLMIG_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

struct endpoint {
    char host[512];                  /* "local" for this machine, else the host name lowercased */
    char port[16];
    char dbname[256];
};

/* Parses conninfo (URL or key=value); what it leaves out comes from its
 * service= entry (the service file, as libpq reads it), else libpq's
 * compiled-in defaults, never PGHOST, PGPORT, PGDATABASE or PGUSER. 0, or
 * -1 when libpq cannot parse it. */
int endpoint_parse(const char *conninfo, struct endpoint *out);

/* Whether conninfo can be an environment's url: a URL or key=value string
 * libpq parses, that every reader splits the same way (no '/', '?', '#' or
 * '@' left unencoded in a URL's user name, password or database name), and
 * that names its database (dbname, or a service= whose entry gives one).
 * 0, or -1 with why (a phrase after "the url of [env.NAME] " that quotes no
 * part of conninfo but a service name) and *hint. */
int endpoint_check(const char *conninfo, char *why, size_t size, const char **hint);

/* Whether conninfo is a postgresql:// or postgres:// URL (not key=value). */
bool endpoint_is_url(const char *conninfo);

bool endpoint_same(const struct endpoint *a, const struct endpoint *b);

#endif
