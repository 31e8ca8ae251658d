/* config.h — stallmig.ini: [project] and [env.NAME] sections (no lua.h). */
#ifndef STALLMIG_CONFIG_H
#define STALLMIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_ENVS 64
#define CONFIG_MAX_LINE 4096

/* The longest duration PostgreSQL takes for lock_timeout and
 * statement_timeout (INT_MAX milliseconds, about 24.8 days); lock_wait has
 * the same limit. */
#define CONFIG_MAX_DURATION_MS 2147483647LL
/* exact_count_below: more rows than any table holds (2^53, exact in a double). */
#define CONFIG_MAX_ROWS 9007199254740992LL

/* A raw value as written in the INI, with the line it came from. */
struct config_value {
    char *raw;
    int line;
};

/* ---- the keys, each defined once --------------------------------------------
 *
 * As inih's examples/ini_xmacros.c does: every key of stallmig.ini is one
 * line of a list below, from which config.c derives the struct fields, the
 * defaults, the parser (with its messages) and the key list of "unknown key"
 * errors, lconfig.c the table a workflow sees as ctx.config, and
 * tests/unit/test_config.c checks README.md names them all.
 *
 * [env.NAME]: X(KEY, FIELD, KIND, DEFAULT, MIN, MAX, WORDS) — KEY is the INI
 * key and the name in ctx.config.environments[NAME]; FIELD the struct
 * env_config member; KIND how it is read, stored and shown:
 *   URL      struct config_value: interpolated on demand (config_env_url),
 *            never shown to Lua
 *   BOOL     bool: true/false/yes/no/on/off/1/0
 *   TIMEOUT  char *: a duration as the server is given it ("5s"), or NULL
 *   WAIT     double: a duration in seconds
 *   ENV      char *: an environment's name, or NULL
 *   COUNT    long long: a whole number from MIN to MAX ("expected WORDS
 *            from MIN to MAX")
 *   COMMAND  char *: a command line, or NULL (WORDS: an example)
 * The order is that of the "known:" list in an unknown key's message. */
#define CONFIG_ENV_KEYS(X) \
    X(url,               url,               URL,     0,       0, 0, NULL) \
    X(protected,         is_protected,      BOOL,    true,    0, 0, NULL) \
    X(backup,            backup,            BOOL,    false,   0, 0, NULL) \
    X(lock_timeout,      lock_timeout,      TIMEOUT, NULL,    0, 0, NULL) \
    X(statement_timeout, statement_timeout, TIMEOUT, NULL,    0, 0, NULL) \
    X(lock_wait,         lock_wait,         WAIT,    300.0,   0, 0, NULL)   /* the deploy lock */ \
    X(promote_from,      promote_from,      ENV,     NULL,    0, 0, NULL) \
    X(keep_backups,      keep_backups,      COUNT,   10,      1, 10000, "a whole number") \
    X(prisma_compat,     prisma_compat,     BOOL,    false,   0, 0, NULL) \
    X(rehearse,          rehearse,          BOOL,    false,   0, 0, NULL)   /* unset: !protected */ \
    X(exact_count_below, exact_count_below, COUNT,   1000000, 0, CONFIG_MAX_ROWS, \
      "a whole number of rows") \
    X(integration_tests, integration_tests, COMMAND, NULL,    0, 0, "npm run test:integration") \
    X(lock_retries,      lock_retries,      COUNT,   0,       0, 100, "a whole number") \
    X(backfill_batch,    backfill_batch,    COUNT,   1000,    1, 10000000, "a whole number of rows") \
    X(backfill_pause,    backfill_pause,    WAIT,    0.0,     0, 0, NULL)   /* between batches */ \
    X(backfill_max_lag,  backfill_max_lag,  WAIT,    10.0,    0, 0, NULL)   /* replicas' replay lag */ \
    X(backfill_batch_time, backfill_batch_time, WAIT, 0.0,   0, 0, NULL)   /* a batch's target; 0: fixed */

/* [project]: X(KEY, FIELD, DEFAULT) — a path relative to the INI's folder,
 * stored absolute; DEFAULT when the key is not given (NULL: none). KEY is
 * also its name in ctx.config. */
#define CONFIG_PROJECT_KEYS(X) \
    X(migrations, migrations_dir, "migrations") \
    X(seed,       seed,           NULL) \
    X(backups,    backups_dir,    "backups") \
    X(lint_rules, lint_rules_dir, NULL)         /* a team's own lint rules */

/* The C type of each kind. */
#define CONFIG_TYPE_URL struct config_value
#define CONFIG_TYPE_BOOL bool
#define CONFIG_TYPE_TIMEOUT char *
#define CONFIG_TYPE_WAIT double
#define CONFIG_TYPE_ENV char *
#define CONFIG_TYPE_COUNT long long
#define CONFIG_TYPE_COMMAND char *

/* CONFIG_ENV_url, ... CONFIG_ENV_KEY_COUNT: a key's index in the list. */
enum config_env_key {
#define X(key, field, kind, dflt, min, max, words) CONFIG_ENV_##key,
    CONFIG_ENV_KEYS(X)
#undef X
    CONFIG_ENV_KEY_COUNT
};

enum config_project_key {
#define X(key, field, dflt) CONFIG_PROJECT_##key,
    CONFIG_PROJECT_KEYS(X)
#undef X
    CONFIG_PROJECT_KEY_COUNT
};

struct env_config {
    char *name;
    int line;                        /* line of the [env.NAME] header */
#define X(key, field, kind, dflt, min, max, words) CONFIG_TYPE_##kind field;
    CONFIG_ENV_KEYS(X)
#undef X
};

/* [fleet.NAME]: many databases deployed from one history (docs/fleet.md).
 * Its members come from targets_query on the registry, or from the Lua file
 * targets; env holds the [env.NAME] keys every member inherits (its url is
 * unused: each member has its own). */
#define CONFIG_MAX_FLEETS 16
#define CONFIG_FLEET_MAX_PARALLEL 256
struct fleet_config {
    char *name;
    int line;                        /* line of the [fleet.NAME] header */
    struct env_config env;           /* inherited settings; env.name is the fleet's */
    struct config_value registry;    /* a url, interpolated on demand; raw NULL if none */
    char *targets_query;
    char *targets;                   /* absolute path of a Lua file, or NULL */
    long long parallel;              /* default 4 */
    char *waves;                     /* e.g. "1, 10%, 100%" (default "100%") */
    char *on_error;                  /* stop, continue, N or N% (default "stop") */
};

struct config {
    char *path;                      /* as given on the command line */
    char *dir;                       /* absolute directory of the INI file */
#define X(key, field, dflt) char *field;
    CONFIG_PROJECT_KEYS(X)
#undef X
    struct env_config envs[CONFIG_MAX_ENVS];
    size_t env_count;
    struct fleet_config fleets[CONFIG_MAX_FLEETS];
    size_t fleet_count;
};

struct config_error {
    char message[768];
    int line;                        /* 0 when the error is not about a line */
    char hint[400];                  /* config_env_url: what to do instead, or "" */
};

/* Loads and validates path. 0 on success; -1 with err filled (message
 * already prefixed with "path:line: " where there is a line). */
int config_load(const char *path, struct config *cfg, struct config_error *err);
void config_free(struct config *cfg);

const struct env_config *config_find_env(const struct config *cfg, const char *name);

const struct fleet_config *config_find_fleet(const struct config *cfg, const char *name);

/* Whether s is an environment, fleet or member name: letters, digits, '_'
 * or '-', at least one. */
bool config_valid_name(const char *s);

/* ---- fleet members (config_member.c) ---- */

/* A member of a fleet as an environment of its own, named "FLEET.MEMBER"
 * (the name its marker records), with the fleet's settings and url; with
 * promote_url, also the same member of the fleet promote_from names
 * ("OTHER.MEMBER"), which the member then promotes from. Returns the new
 * environment, or NULL with err filled (no such fleet, a member name that
 * is not letters, digits, '_' or '-', no room). */
const struct env_config *config_add_member(struct config *cfg, const char *fleet,
                                           const char *member, const char *url,
                                           const char *promote_url, struct config_error *err);

/* The registry url of a fleet, interpolated as config_env_url does. */
char *config_fleet_registry(const struct config *cfg, const struct fleet_config *f,
                            struct config_error *err);

/* Whether text is a valid waves / on_error setting (config_load checks). */
bool config_valid_waves(const char *text);
bool config_valid_on_error(const char *text);

/* ---- what the values name outside the file: config_url.c (the hidden PG*
 * variables: config.c, which hides them at load) ---- */

/* The environment's URL with ${VAR} and ${VAR:-default} taken from the
 * process environment. Returns a malloc'd string, or NULL with err filled:
 * also when it is not local:NAME and endpoint_check refuses it (it names
 * no database, or reads two ways), so that no reader of a url sees one. */
char *config_env_url(const struct config *cfg, const struct env_config *env,
                     struct config_error *err);

/* Takes PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, PGUSER and PGSERVICE out of
 * the process environment (config_load does it first), so that neither
 * libpq nor pg_dump or pg_restore fill in what a url leaves out; an
 * environment's url alone says where it leads. */
void config_hide_pg_environment(void);

/* getenv, also for the variables config_hide_pg_environment took out:
 * ${PGHOST} in the INI is the INI saying it. */
const char *config_getenv(const char *name);

/* ${VAR} / ${VAR:-default} interpolation of one value. Returns a malloc'd
 * string or NULL with a message in errbuf (e.g. "${X} is not set"). */
char *config_interpolate(const char *value, char *errbuf, size_t errlen);


/* A duration as PostgreSQL reads lock_timeout: a whole or decimal number
 * and a unit (ms, s, min, h, d; a number alone is milliseconds), a space
 * allowed between them. 0 and *ms set (rounded to whole milliseconds, as
 * the server counts them); -1 when it is not a duration; -2 when it is
 * longer than CONFIG_MAX_DURATION_MS, or not 0 but under 1ms. */
int config_parse_duration(const char *text, long long *ms);

/* "true/false/yes/no/on/off/1/0". Returns 0 and sets *out, or -1. */
int config_parse_bool(const char *text, bool *out);

#endif
