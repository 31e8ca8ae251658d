/* localpg.h — the project's own PostgreSQL cluster, for `url = local:NAME`:
 * made with initdb under <project>/.stallmig/pg on first use, started on
 * demand on a unix socket inside that directory (no TCP port), stopped by
 * workflows/local.lua. As root, the server runs as the user "postgres".
 * Plain C. */
#ifndef STALLMIG_LOCALPG_H
#define STALLMIG_LOCALPG_H

#include <stdbool.h>
#include <stddef.h>

#define LOCALPG_SCHEME "local:"

/* Whether an environment's URL names the local cluster. */
bool localpg_is_local(const char *url);

/* Starts the cluster (creating it first if needed). 0, or -1 with err. */
int localpg_start(const char *project_dir, char *err, size_t errlen);
int localpg_stop(const char *project_dir, char *err, size_t errlen);
/* 1 running, 0 stopped (or never created), -1 with err. */
int localpg_running(const char *project_dir, char *err, size_t errlen);

/* Why "local:NAME" is not a usable name (static text), or NULL. */
const char *localpg_name_problem(const char *url);

/* For "local:NAME": starts the cluster, creates database NAME if it is not
 * there, and returns a libpq URL for it (malloc'd); NULL with err. */
char *localpg_url(const char *project_dir, const char *url, char *err, size_t errlen);

/* The libpq URL of database name on the cluster whose socket is in dir,
 * as user postgres, percent-encoded (malloc'd; NULL when out of memory). */
char *localpg_socket_url(const char *dir, const char *name);

/* The cluster's directory (its socket is there). */
void localpg_dir(const char *project_dir, char *out, size_t size);

#endif
