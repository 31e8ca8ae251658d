/* lapi_identity.c — which database a connection reached: its marker
 * (stallmig.identity), its cluster's system identifier and OID, the server
 * behind it (a hot standby? a connection pooler?), other
 * environments whose URL or identity lead to it, and the doubt when these
 * disagree. lapi_guard.c acts on what this works out. */
#include "lapi_identity.h"

#include "config.h"
#include "endpoint.h"
#include "lapi.h"
#include "lerror.h"
#include "msg.h"
#include "pg.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the server behind the connection ------------------------------------ */

/* A hot standby grants the advisory lock and fails only at the first DDL;
 * through a connection pooler (PgBouncer in transaction mode) the session
 * advisory deploy lock and session settings do not hold. A pooler answers
 * the client with its own BackendKeyData, so libpq's PQbackendPID is not
 * the server's pg_backend_pid(). Read once per connection (identity_read_own
 * reads it with the database's OID). */
PGresult *identity_read_server(struct lconn *c)
{
    if (c->server_checked)
        return NULL;
    PGresult *res = PQexec(c->pg, "SELECT pg_is_in_recovery(), pg_backend_pid()");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return res;                  /* the failure, for the caller to report */
    c->in_recovery = PQgetvalue(res, 0, 0)[0] == 't';
    c->server_pid = atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
    c->server_checked = true;
    return NULL;
}

bool identity_through_pooler(struct lconn *c)
{
    PGresult *failed = identity_read_server(c);
    PQclear(failed);
    return c->server_checked && c->server_pid != PQbackendPID(c->pg);
}

/* ---- identity ------------------------------------------------------------- */

/* On a new server process every statement pays for the catalog entries
 * it is the first to touch, so the first one asks what the rest of the
 * connection's checks need: this database's OID (from the server's row
 * for this backend: looking it up in pg_database costs more than all the
 * rest), what guard_require_primary asks (a standby? a pooler?), whether
 * there are a marker this role may read and a digest (reading a table that
 * is not there leaves an ERROR in the server's log; a marker this role may
 * not read is doubt, identity_evaluate), and whether this role may read the
 * cluster's system identifier. to_regclass raises without USAGE on the
 * schema, hence the CASE (the one SQL construct evaluated in order).
 * pg_control_system() itself cannot be in it: EXECUTE is checked when the
 * statement starts, whichever branch runs. */
#define OWN_COLUMNS \
    " pg_catalog.pg_is_in_recovery(), pg_catalog.pg_backend_pid()," \
    " CASE WHEN s.nsp IS NULL THEN 'none' WHEN NOT s.usable THEN 'hidden'" \
    "  WHEN pg_catalog.to_regclass('stallmig.identity') IS NULL THEN 'none'" \
    "  WHEN pg_catalog.has_table_privilege(pg_catalog.to_regclass('stallmig.identity'), 'SELECT')" \
    "  THEN 'readable' ELSE 'hidden' END," \
    " CASE WHEN s.usable THEN pg_catalog.to_regclass('stallmig.history_digest') IS NOT NULL END," \
    " pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')" \
    " FROM (SELECT n.nsp, pg_catalog.has_schema_privilege(n.nsp, 'USAGE') AS usable" \
    "  FROM (SELECT pg_catalog.to_regnamespace('stallmig') AS nsp) n) s"
#define OID_FROM_CATALOG \
    "(SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"

static const char OWN_SQL[] = "SELECT a.datid," OWN_COLUMNS
    " LEFT JOIN pg_catalog.pg_stat_get_activity(pg_catalog.pg_backend_pid()) a ON true";
/* The same where pg_stat_get_activity() is not this role's to run. */
static const char OWN_SQL_BY_CATALOG[] = "SELECT " OID_FROM_CATALOG "," OWN_COLUMNS;

/* The first statement; *sysid_allowed: whether pg_control_system() may be run. */
static void read_own(struct lconn *c, bool *sysid_allowed)
{
    PGresult *res = PQexec(c->pg, OWN_SQL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        PQclear(res);                /* the function revoked, or no row for this backend */
        res = PQexec(c->pg, OWN_SQL_BY_CATALOG);
    }
    c->id.marker_table = c->digest_table = true;   /* not known: look, as before */
    c->id.marker_hidden = false;
    c->id.marker_failed[0] = '\0';
    c->id.sysid[0] = '\0';                          /* unknown (identity_evaluate) */
    *sysid_allowed = true;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        c->id.oid = atoll(PQgetvalue(res, 0, 0));
        c->in_recovery = PQgetvalue(res, 0, 1)[0] == 't';
        c->server_pid = atoi(PQgetvalue(res, 0, 2));
        c->server_checked = true;
        c->id.marker_table = strcmp(PQgetvalue(res, 0, 3), "readable") == 0;
        c->id.marker_hidden = strcmp(PQgetvalue(res, 0, 3), "hidden") == 0;
        c->digest_table = PQgetvalue(res, 0, 4)[0] == 't';
        *sysid_allowed = PQgetvalue(res, 0, 5)[0] == 't';
    }
    PQclear(res);
}

#define SYSID_SQL "(SELECT system_identifier FROM pg_catalog.pg_control_system())"
#define MARKER_SQL "m.environment, m.protected, m.system_identifier, m.database_oid " \
    "FROM (SELECT 1) one LEFT JOIN (SELECT * FROM stallmig.identity LIMIT 1) m ON true"

/* The cluster's system identifier (sysid) and the marker (marker), those
 * asked for, in one statement. When it fails nothing is read, and a marker
 * asked for is one that could not be read: its error is kept (doubt,
 * identity_evaluate). */
static void read_rest(struct lconn *c, bool sysid, bool marker)
{
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT %s, %s", sysid ? SYSID_SQL : "NULL",
             marker ? MARKER_SQL : "NULL, NULL, NULL, NULL");
    PGresult *res = PQexec(c->pg, sql);
    bool read = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (read && !PQgetisnull(res, 0, 0))
        snprintf(c->id.sysid, sizeof c->id.sysid, "%s", PQgetvalue(res, 0, 0));
    if (read && !PQgetisnull(res, 0, 1)) {
        c->id.marker_found = true;
        snprintf(c->id.marker_env, sizeof c->id.marker_env, "%s", PQgetvalue(res, 0, 1));
        c->id.marker_protected = PQgetvalue(res, 0, 2)[0] == 't';
        snprintf(c->id.marker_sysid, sizeof c->id.marker_sysid, "%s", PQgetvalue(res, 0, 3));
        c->id.marker_oid = atoll(PQgetvalue(res, 0, 4));
    }
    if (!read && marker) {
        const char *why = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(c->id.marker_failed, sizeof c->id.marker_failed, "%s",
                 why ? why : "no answer from the server");
    }
    PQclear(res);
}

/* The two statements: this database's OID, the cluster's id where the
 * server lets us, and (with_marker) the marker, stallmig.identity. */
static void read_identity(struct lconn *c, bool with_marker)
{
    bool sysid;
    read_own(c, &sysid);
    bool marker = with_marker && c->id.marker_table;
    if (sysid || marker)
        read_rest(c, sysid, marker);
}

void identity_read_own(struct lconn *c)
{
    read_identity(c, false);
}

/* Another environment whose URL leads to the same host, port and database. */
static void find_alias(struct lconn *c)
{
    const struct config *cfg = lconn_config();
    struct config_error err;
    char *mine = config_env_url(cfg, c->env, &err);
    struct endpoint here, there;
    if (mine == NULL || endpoint_parse(mine, &here) != 0) {
        free(mine);
        return;
    }
    free(mine);
    for (size_t i = 0; i < cfg->env_count; i++) {
        const struct env_config *other = &cfg->envs[i];
        if (other == c->env)
            continue;
        char *url = config_env_url(cfg, other, &err);  /* unset variables: not comparable */
        bool same = url && endpoint_parse(url, &there) == 0 && endpoint_same(&here, &there);
        free(url);
        if (same && (c->id.alias_of[0] == '\0' || other->is_protected))
            snprintf(c->id.alias_of, sizeof c->id.alias_of, "%s", other->name);
    }
}

/* Decides protection and doubt from the marker and the aliases. */
void identity_evaluate(struct lconn *c)
{
    const struct config *cfg = lconn_config();
    struct identity *id = &c->id;
    const char *env = c->env->name;
    if (id->alias_of[0]) {
        /* another unprotected environment's database is only a warning
         * (identity_inspect): two names for one disposable database */
        const struct env_config *other = config_find_env(cfg, id->alias_of);
        if (other && other->is_protected) {
            snprintf(id->doubt, sizeof id->doubt, "the url of %s leads to the same database as %s "
                     "(protected)", env, id->alias_of);
            c->is_protected = true;
        }
    }
    if (!id->marker_found) {
        if (id->marker_hidden)
            snprintf(id->doubt, sizeof id->doubt, "this role may not read the marker of %s's "
                     "database (stallmig.identity), so which environment it belongs to cannot be "
                     "checked (GRANT USAGE ON SCHEMA stallmig and SELECT ON stallmig.identity TO "
                     "the role)", env);
        else if (id->marker_failed[0])
            snprintf(id->doubt, sizeof id->doubt, "reading the marker of %s's database "
                     "(stallmig.identity) failed, so which environment it belongs to cannot be "
                     "checked: %s", env, id->marker_failed);
        return;
    }
    if (id->marker_protected)
        c->is_protected = true;      /* protected until re-stamped */
    if (strcmp(id->marker_env, env) != 0)
        snprintf(id->doubt, sizeof id->doubt, "%s reaches a database marked as belonging to %s%s",
                 env, id->marker_env, id->marker_protected ? " (protected)" : "");
    else if ((id->sysid[0] && id->marker_sysid[0] && strcmp(id->sysid, id->marker_sysid) != 0) ||
             (id->marker_oid != 0 && id->marker_oid != id->oid))
        snprintf(id->doubt, sizeof id->doubt, "the database marked for %s is not the one that "
                 "was stamped (another cluster or database: a restored copy or a clone?)", env);
    else if (id->marker_sysid[0] && id->sysid[0] == '\0')
        /* what cannot be checked is doubt: a copy in another cluster may
         * have the same OID (a marker stamped without the identifier, by
         * a role that could not read it either, has only the OID to check) */
        snprintf(id->doubt, sizeof id->doubt, "the database marked for %s cannot be checked "
                 "against its marker: this role may not read the cluster's system identifier "
                 "(pg_control_system()), so a copy in another cluster cannot be told from it "
                 "(GRANT EXECUTE ON FUNCTION pg_control_system() TO the role, or re-stamp it as "
                 "this role)", env);
}

void identity_inspect(lua_State *L, struct lconn *c)
{
    (void)L;
    read_identity(c, true);
    find_alias(c);
    identity_evaluate(c);
    if (c->id.alias_of[0] && c->id.doubt[0] == '\0')
        msg_warn("the url of %s leads to the same database as %s (two names for one database)",
                 c->env->name, c->id.alias_of);
    if (c->id.doubt[0])
        msg_warn("%s; it is treated as %s and every write is refused until it is re-stamped "
                 "(stallrun workflows/doctor.lua --env %s explains)", c->id.doubt,
                 c->is_protected ? "protected" : "doubtful", c->env->name);
    if (c->is_protected || c->id.doubt[0]) {
        /* through a pooler a session SET would stay on the server session
         * for its next clients: the READ ONLY transaction conn:query and
         * conn:exec put around each statement, and the statement check, keep
         * it read-only (the SET is a default for the host's own queries) */
        if (identity_through_pooler(c))
            msg_warn("%s goes through a connection pooler: read-only is enforced by a READ ONLY "
                     "transaction around each statement and stallrun's statement check (no "
                     "session SET)", c->env->name);
        else
            PQclear(PQexec(c->pg, "SET default_transaction_read_only = on"));
        c->read_only = true;
    }
}

/* ---- the same database under another name -------------------------------- */

/* What tells two connections' clusters apart. The system identifier is
 * the cluster's own and outlives restarts, but a role may be refused
 * pg_control_system(); the postmaster's start time (to the microsecond)
 * and port every role may read, and while both connections are open they
 * are the same server exactly when these agree. The data directory is no
 * key: it is superuser-only too, and /var/lib/postgresql/15/main on many
 * machines. */
struct cluster_key {
    char sysid[32];
    char started[64];
};

static void read_cluster_key(struct lconn *c, struct cluster_key *k)
{
    char state[6];
    snprintf(k->sysid, sizeof k->sysid, "%s", c->id.sysid);
    if (lconn_scalar(c, "SELECT (extract(epoch FROM pg_postmaster_start_time()) * 1000000)"
                     "::bigint || ' port ' || current_setting('port')", k->started,
                     sizeof k->started, state) != 0)
        k->started[0] = '\0';
}

enum sameness { DIFFERENT, SAME, UNDECIDED };

/* Whether env's database is the one c is connected to: the same database
 * OID in the same cluster (system identifier where both sides read it,
 * else the postmaster's start time and port). UNDECIDED when it was
 * reached but neither key could be read on both sides; an environment that
 * cannot be reached (or whose url cannot be used) is DIFFERENT. */
static enum sameness same_database(struct lconn *c, const struct env_config *env)
{
    struct config_error err;
    char *url = config_env_url(lconn_config(), env, &err);
    if (url == NULL)
        return DIFFERENT;
    PGconn *other = pg_connect_aside(url, &(struct pg_aside){.timeout = 3, .read_only = true});
    free(url);
    enum sameness same = DIFFERENT;
    if (PQstatus(other) == CONNECTION_OK) {
        struct lconn probe = {.pg = other};
        struct cluster_key here, there;
        identity_read_own(&probe);
        read_cluster_key(c, &here);
        read_cluster_key(&probe, &there);
        if (c->id.oid == 0 || probe.id.oid == 0)
            same = UNDECIDED;
        else if (c->id.oid != probe.id.oid)
            same = DIFFERENT;
        else if (here.sysid[0] && there.sysid[0])
            same = strcmp(here.sysid, there.sysid) == 0 ? SAME : DIFFERENT;
        else if (here.started[0] && there.started[0])
            same = strcmp(here.started, there.started) == 0 ? SAME : DIFFERENT;
        else
            same = UNDECIDED;
    }
    PQfinish(other);
    return same;
}

const char *identity_protected_twin(struct lconn *c, const char **hint)
{
    static char why[400];
    const struct config *cfg = lconn_config();
    for (size_t i = 0; i < cfg->env_count; i++) {
        const struct env_config *env = &cfg->envs[i];
        if (env == c->env || !env->is_protected)
            continue;
        enum sameness same = same_database(c, env);
        if (same == SAME) {
            snprintf(why, sizeof why, "the database of %s is the database of %s (protected): "
                     "same cluster and database", c->env->name, env->name);
            *hint = "check the url in stallmig.ini; if this database really is a copy that now "
                    "belongs here, re-stamp it: stallrun workflows/restamp.lua --env NAME";
            return why;
        }
        if (same == UNDECIDED) {
            snprintf(why, sizeof why, "cannot tell whether the database of %s is the database of "
                     "%s (protected): they have the same OID, and the roles may read neither the "
                     "cluster's system identifier nor the server's start time", c->env->name,
                     env->name);
            *hint = "let the roles read the cluster's identity (GRANT EXECUTE ON FUNCTION "
                    "pg_control_system() TO the role), or check the urls in stallmig.ini";
            return why;
        }
    }
    return NULL;
}

/* conn:twins() -> { env_name, ... }, { env_name, ... }: the other
 * environments (that can be reached now) whose database is this one, and
 * those that cannot be told apart from it (see same_database). */
static int conn_twins(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    const struct config *cfg = lconn_config();
    lua_newtable(L);
    lua_newtable(L);
    int n[2] = {0, 0};
    for (size_t i = 0; i < cfg->env_count; i++) {
        enum sameness same = &cfg->envs[i] == c->env ? DIFFERENT : same_database(c, &cfg->envs[i]);
        if (same == DIFFERENT)
            continue;
        lua_pushstring(L, cfg->envs[i].name);          /* above it: same, then undecided */
        lua_rawseti(L, same == SAME ? -3 : -2, ++n[same == SAME ? 0 : 1]);
    }
    return 2;
}

static void set_text(lua_State *L, const char *key, const char *value)
{
    if (value && value[0]) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
}

/* conn:identity() -> {env, protected, read_only, marker_env, marker_protected,
 * system_identifier, database_oid, alias_of, doubt} */
static int conn_identity(lua_State *L)
{
    struct lconn *c = lconn_check(L, 1);
    lua_createtable(L, 0, 9);
    set_text(L, "env", c->env->name);
    lua_pushboolean(L, c->is_protected);
    lua_setfield(L, -2, "protected");
    lua_pushboolean(L, c->read_only);
    lua_setfield(L, -2, "read_only");
    if (c->id.marker_found) {
        set_text(L, "marker_env", c->id.marker_env);
        lua_pushboolean(L, c->id.marker_protected);
        lua_setfield(L, -2, "marker_protected");
    }
    set_text(L, "system_identifier", c->id.sysid);
    lua_pushinteger(L, c->id.oid);
    lua_setfield(L, -2, "database_oid");
    set_text(L, "alias_of", c->id.alias_of);
    set_text(L, "doubt", c->id.doubt);
    return 1;
}

const luaL_Reg identity_conn_methods[] = {
    {"identity", conn_identity},
    {"twins", conn_twins},
    {NULL, NULL},
};
