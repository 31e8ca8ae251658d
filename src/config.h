/* config.h — stallmig.ini: [project] and [env.NAME] sections (no lua.h). */
#ifndef STALLMIG_CONFIG_H
#define STALLMIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_ENVS 64
#define CONFIG_MAX_LINE 4096

/* A raw value as written in the INI, with the line it came from. */
struct config_value {
    char *raw;
    int line;
};

struct env_config {
    char *name;
    int line;                        /* line of the [env.NAME] header */
    struct config_value url;         /* interpolated on demand: config_env_url() */
    bool is_protected;               /* true unless "protected = false" */
    bool backup;
    char *lock_timeout;              /* PostgreSQL duration, e.g. "5s"; NULL: server default */
    char *statement_timeout;
    double lock_wait;                /* seconds to wait for the deploy lock */
    char *promote_from;
    int keep_backups;
    bool prisma_compat;              /* also keep _prisma_migrations as Prisma does */
    bool rehearse;                   /* verify --rehearse allowed (default: unless protected) */
    long exact_count_below;          /* verify counts rows exactly below this estimate */
    char *integration_tests;         /* the command that tests this environment after a deploy */
    int lock_retries;                /* a migration that timed out on a lock is retried this often */
};

struct config {
    char *path;                      /* as given on the command line */
    char *dir;                       /* absolute directory of the INI file */
    char *migrations_dir;            /* absolute */
    char *seed;                      /* absolute, or NULL */
    char *backups_dir;               /* absolute */
    char *lint_rules_dir;            /* absolute, or NULL: a team's own lint rules */
    struct env_config envs[CONFIG_MAX_ENVS];
    size_t env_count;
};

struct config_error {
    char message[768];
    int line;                        /* 0 when the error is not about a line */
    char hint[300];                  /* config_env_url: what to write instead, or "" */
};

/* Loads and validates path. 0 on success; -1 with err filled (message
 * already prefixed with "path:line: " where there is a line). */
int config_load(const char *path, struct config *cfg, struct config_error *err);
void config_free(struct config *cfg);

const struct env_config *config_find_env(const struct config *cfg, const char *name);

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

/* The longest duration PostgreSQL takes for lock_timeout and
 * statement_timeout (INT_MAX milliseconds, about 24.8 days); lock_wait has
 * the same limit. */
#define CONFIG_MAX_DURATION_MS 2147483647LL
/* exact_count_below: more rows than any table holds (2^53, exact in a double). */
#define CONFIG_MAX_ROWS 9007199254740992LL

/* A duration as PostgreSQL reads lock_timeout: a whole or decimal number
 * and a unit (ms, s, min, h, d; a number alone is milliseconds), a space
 * allowed between them. 0 and *ms set (rounded to whole milliseconds, as
 * the server counts them); -1 when it is not a duration; -2 when it is
 * longer than CONFIG_MAX_DURATION_MS, or not 0 but under 1ms. */
int config_parse_duration(const char *text, long long *ms);

/* "true/false/yes/no/on/off/1/0". Returns 0 and sets *out, or -1. */
int config_parse_bool(const char *text, bool *out);

#endif
