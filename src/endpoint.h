/* endpoint.h — where a connection string leads: host, port, database,
 * normalised so that two spellings of one database compare equal (URL vs
 * key=value, localhost vs 127.0.0.1 vs the default socket, default port).
 * Plain C (libpq's parser only, no lua.h). */
#ifndef STALLMIG_ENDPOINT_H
#define STALLMIG_ENDPOINT_H

#include <stdbool.h>

struct endpoint {
    char host[512];                  /* "local" for this machine, else the host name lowercased */
    char port[16];
    char dbname[256];
};

/* Parses conninfo (URL or key=value). 0, or -1 when libpq cannot parse it. */
int endpoint_parse(const char *conninfo, struct endpoint *out);

bool endpoint_same(const struct endpoint *a, const struct endpoint *b);

#endif
