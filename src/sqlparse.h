/* sqlparse.h — PostgreSQL's parser (libpg_query) applied to migration files:
 * statement boundaries, and whether a file can run in one transaction.
 * Plain C, no lua.h. */
#ifndef STALLMIG_SQLPARSE_H
#define STALLMIG_SQLPARSE_H

#include <stdbool.h>
#include <stddef.h>

enum sql_mode { SQL_MODE_TRANSACTIONAL, SQL_MODE_SELF_MANAGED, SQL_MODE_NON_TRANSACTIONAL };

struct sql_statement {
    size_t offset;            /* byte offset of the first token (comments before it skipped) */
    size_t length;            /* bytes from offset, excluding the terminating ';' */
    int line, column;         /* 1-based position of offset; column in characters */
    char kind[48];            /* parse node name: "CreateStmt", "IndexStmt", ... */
    bool no_transaction;      /* cannot run inside a transaction block */
    const char *blocker;      /* then what, e.g. "CREATE INDEX CONCURRENTLY" (static) */
    bool transaction_control; /* BEGIN/START/COMMIT/END/ROLLBACK/PREPARE TRANSACTION/... */
};

struct sql_script {
    struct sql_statement *statements;
    size_t count;
    enum sql_mode mode;
    char reason[200];         /* why not transactional; "" when it is */
};

struct sql_error {
    char message[512];
    int line, column;
    size_t offset;
    bool no_parser;                  /* the parser library could not be loaded: not the text's fault */
};

/* Splits and classifies text (need not be NUL-terminated). 0 on success; -1
 * with err filled on a syntax error or a NUL byte. */
int sql_script_parse(const char *text, size_t length, struct sql_script *out, struct sql_error *err);
/* sql_script_parse that also hands over the parser's JSON of the whole file
 * (*json, malloc'd, the caller frees it; NULL on failure): one parse for a
 * caller that wants both the statements and the tree (the lint). */
int sql_script_parse_json(const char *text, size_t length, struct sql_script *out, char **json,
                          struct sql_error *err);
/* Idempotent; safe on a zeroed struct. */
void sql_script_free(struct sql_script *script);

/* PostgreSQL's parser is libpg_query, opened on first use: NULL when it is
 * (or now could be) loaded, else why it cannot be (static text). The hint
 * to give with it: */
const char *sql_parser_missing(void);
#define SQL_PARSER_HINT "install libpg_query (Debian: apt-get install libpg-query-dev; " \
                        "make deps does), or point STALLMIG_LIBPG_QUERY at it"

/* The parse tree as libpg_query's JSON (malloc'd), or NULL with err filled. */
char *sql_parse_json(const char *text, size_t length, struct sql_error *err);

/* PostgreSQL reports positions as 1-based characters; these map them. */
size_t sql_char_to_byte(const char *text, size_t length, long char_position);
void sql_line_column(const char *text, size_t length, size_t byte_offset, int *line, int *column);

/* NULL when text only reads: SELECT, SHOW, EXPLAIN of such a SELECT, with
 * no writable WITH, no SELECT ... INTO, no FOR UPDATE/SHARE and no call of a
 * function that writes or acts on other sessions, the server or another
 * connection (set_config, lo_*, pg_advisory_*, nextval, pg_terminate_backend,
 * dblink*, ...: by the last part of the name). Else why not, naming it, with
 * *line the statement's line; text that cannot be parsed is refused. The
 * READ ONLY transaction every such statement runs in (lapi_db.c) stops the
 * writes; this stops what that transaction lets through. The text returned
 * is valid until the next call. */
const char *sql_read_only_problem(const char *text, size_t length, int *line);

/* NULL unless a statement that is not read-only (the rules above) names the
 * host's schema stallmig (any case, quoted or not): a table stallmig.x, a
 * name stallmig.x, the schema itself (CREATE/DROP/ALTER/COMMENT ON/GRANT ON
 * SCHEMA, SET SCHEMA, IN SCHEMA), the search_path (SET, set_config), or a
 * string holding "stallmig." or equal to "stallmig" (DO blocks, function
 * bodies, EXECUTE's text). Then why, and *line the statement's line. Reads
 * of stallmig.* (status) pass; text that cannot be parsed is refused. The
 * text returned is valid until the next call. */
const char *sql_host_schema_problem(const char *text, size_t length, int *line);

/* "transactional", "self-managed", "non-transactional" */
const char *sql_mode_name(enum sql_mode mode);

/* Frees the parser's memory (end of run); harmless if it was never used. */
void sql_release(void);

#endif
