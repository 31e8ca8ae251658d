/* lapi_identity.h — which database a connection reached: its marker, its
 * cluster and OID, the server behind it (a standby? a pooler?), other
 * environments that lead to it, and the doubt when these disagree.
 * lapi_guard.c acts on what this works out. */
#ifndef STALLMIG_LAPI_IDENTITY_H
#define STALLMIG_LAPI_IDENTITY_H

#include "lconn.h"

/* Reads the marker and the identity of the database just connected to,
 * warns about doubts, and makes a protected connection read-only. */
void identity_inspect(lua_State *L, struct lconn *c);
/* This database's OID and, where the role may read it, the cluster's id;
 * also the server behind the connection (identity_read_server). */
void identity_read_own(struct lconn *c);
/* Decides protection and doubt from the marker and the aliases. */
void identity_evaluate(struct lconn *c);
/* Why c's database may be a protected environment's, with *hint: it is
 * (same cluster and OID), or it cannot be told apart (same OID, no cluster
 * key readable: fail closed). NULL when no protected environment's is; one
 * that cannot be reached now does not count. The text lasts until the
 * next call. */
const char *identity_protected_twin(struct lconn *c, const char **hint);

/* Reads, once per connection, whether the server is a hot standby and its
 * own backend pid (c->in_recovery, c->server_pid). NULL, or the failed
 * result for the caller to report and clear. */
PGresult *identity_read_server(struct lconn *c);
/* Whether c goes through a connection pooler (false when that cannot be read). */
bool identity_through_pooler(struct lconn *c);

#endif
