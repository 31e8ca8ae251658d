/* sqlparse.c — split and classify migration files with libpg_query.
 *
 * One pg_query_parse() of the whole file gives every statement's node and
 * its byte range; the node says whether it can run in a transaction block. */
#include "sqlparse.h"

#include "json.h"
#include "utf8.h"

#include <dlfcn.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the parser library --------------------------------------------------- */

/* libpg_query is opened on the first parse, not linked: a run that parses
 * nothing (a deploy with nothing to do, status) does not load 2.7 MB of
 * parser, 0.4 ms of every start; and what it exports (PostgreSQL's own
 * strnlen, pg_utf_mblen, ...) no longer stands in for libc's and libpq's.
 * The build names the library it compiled against (its soname);
 * STALLMIG_LIBPG_QUERY names another file (packagers). */
#ifndef PG_QUERY_SONAME
#define PG_QUERY_SONAME ""
#endif

static struct {
    void *handle;
    PgQueryParseResult (*parse)(const char *);
    void (*free_result)(PgQueryParseResult);
    void (*exit)(void);
    bool used;
    char error[480];
} parser;

static const char *parser_file(void)
{
    const char *given = getenv("STALLMIG_LIBPG_QUERY");
    if (given != NULL && given[0] != '\0')
        return given;
    return PG_QUERY_SONAME[0] ? PG_QUERY_SONAME : "libpg_query.so";
}

/* Opens the parser once; false (parser.error set) when it cannot be. */
static bool parser_open(void)
{
    if (parser.parse != NULL)
        return true;
    if (parser.error[0] != '\0')
        return false;
    const char *file = parser_file();
    void *h = dlopen(file, RTLD_LAZY | RTLD_LOCAL);
    if (h != NULL) {
        *(void **)&parser.parse = dlsym(h, "pg_query_parse");
        *(void **)&parser.free_result = dlsym(h, "pg_query_free_parse_result");
        *(void **)&parser.exit = dlsym(h, "pg_query_exit");
    }
    if (h == NULL || !parser.parse || !parser.free_result || !parser.exit) {
        snprintf(parser.error, sizeof parser.error,
                 "cannot load PostgreSQL's parser (libpg_query, %s): %s", file,
                 h ? "it lacks pg_query_parse" : dlerror());
        parser.parse = NULL;
        return false;
    }
    parser.handle = h;
    return true;
}

const char *sql_parser_missing(void)
{
    return parser_open() ? NULL : parser.error;
}

void sql_release(void)
{
    if (parser.used)
        parser.exit();
    parser.used = false;
}

const char *sql_mode_name(enum sql_mode mode)
{
    switch (mode) {
    case SQL_MODE_SELF_MANAGED: return "self-managed";
    case SQL_MODE_NON_TRANSACTIONAL: return "non-transactional";
    default: return "transactional";
    }
}

/* ---- positions ---------------------------------------------------------- */

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t sql_char_to_byte(const char *text, size_t length, long char_position)
{
    size_t byte = 0;
    for (long chars = 1; chars < char_position && byte < length; chars++) {
        byte++;
        while (byte < length && is_continuation((unsigned char)text[byte]))
            byte++;
    }
    return byte < length ? byte : length;
}

/* Moves a line/column cursor from byte from to byte to (to >= from). */
static void advance(const char *text, size_t length, size_t from, size_t to, int *line, int *column)
{
    for (size_t i = from; i < to && i < length; i++) {
        if (text[i] == '\n')
            (*line)++, *column = 1;
        else if (!is_continuation((unsigned char)text[i]))
            (*column)++;
    }
}

void sql_line_column(const char *text, size_t length, size_t byte_offset, int *line, int *column)
{
    *line = 1;
    *column = 1;
    advance(text, length, 0, byte_offset, line, column);
}

/* ---- statements ---------------------------------------------------------- */

/* Skips white space and comments (-- to end of line, nested block comments)
 * from pos; returns the offset of the first token. */
static size_t skip_to_token(const char *text, size_t length, size_t pos, size_t end)
{
    while (pos < end) {
        if (strchr(" \t\r\n\f\v", text[pos]) && text[pos]) {
            pos++;
        } else if (pos + 1 < end && text[pos] == '-' && text[pos + 1] == '-') {
            while (pos < end && text[pos] != '\n')
                pos++;
        } else if (pos + 1 < end && text[pos] == '/' && text[pos + 1] == '*') {
            int depth = 0;
            do {
                if (pos + 1 < end && text[pos] == '/' && text[pos + 1] == '*')
                    depth++, pos += 2;
                else if (pos + 1 < end && text[pos] == '*' && text[pos + 1] == '/')
                    depth--, pos += 2;
                else
                    pos++;
            } while (depth > 0 && pos < end);
        } else {
            break;
        }
    }
    (void)length;
    return pos;
}

/* Statements that never run in a transaction block. Subscriptions are here
 * whole: most of their forms create or drop a replication slot. */
static const struct { const char *kind, *words; } no_tx_always[] = {
    {"CreatedbStmt", "CREATE DATABASE"}, {"DropdbStmt", "DROP DATABASE"},
    {"CreateTableSpaceStmt", "CREATE TABLESPACE"}, {"DropTableSpaceStmt", "DROP TABLESPACE"},
    {"AlterSystemStmt", "ALTER SYSTEM"}, {"CreateSubscriptionStmt", "CREATE SUBSCRIPTION"},
    {"AlterSubscriptionStmt", "ALTER SUBSCRIPTION"}, {"DropSubscriptionStmt", "DROP SUBSCRIPTION"},
    {NULL, NULL},
};

static bool has_defelem(const struct json *list, const char *name)
{
    for (size_t i = 0; list && list->type == JSON_ARRAY && i < list->count; i++) {
        const char *defname = json_string(json_get(list->items[i], "DefElem"), "defname");
        if (defname && strcmp(defname, name) == 0)
            return true;
    }
    return false;
}

/* Whether the statement node (kind, body) cannot run in a transaction block;
 * *what names it for the reason text. */
static bool cannot_run_in_transaction(const char *kind, const struct json *body, const char **what)
{
    for (size_t i = 0; no_tx_always[i].kind; i++)
        if (strcmp(kind, no_tx_always[i].kind) == 0)
            return *what = no_tx_always[i].words, true;
    if (strcmp(kind, "IndexStmt") == 0 && json_true(body, "concurrent"))
        return *what = "CREATE INDEX CONCURRENTLY", true;
    if (strcmp(kind, "DropStmt") == 0 && json_true(body, "concurrent"))
        return *what = "DROP INDEX CONCURRENTLY", true;
    if (strcmp(kind, "ReindexStmt") == 0) {
        const char *object = json_string(body, "kind");
        if (has_defelem(json_get(body, "params"), "concurrently"))
            return *what = "REINDEX CONCURRENTLY", true;
        if (object && (strcmp(object, "REINDEX_OBJECT_SYSTEM") == 0 ||
                       strcmp(object, "REINDEX_OBJECT_DATABASE") == 0))
            return *what = "REINDEX SYSTEM/DATABASE", true;
    }
    if (strcmp(kind, "VacuumStmt") == 0 && json_true(body, "is_vacuumcmd"))
        return *what = "VACUUM", true;
    if (strcmp(kind, "ClusterStmt") == 0 && json_get(body, "relation") == NULL)
        return *what = "CLUSTER without a table", true;
    if (strcmp(kind, "AlterDatabaseStmt") == 0 && has_defelem(json_get(body, "options"), "tablespace"))
        return *what = "ALTER DATABASE ... SET TABLESPACE", true;
    return false;
}

/* BEGIN/START/COMMIT/ROLLBACK/PREPARE/COMMIT PREPARED/ROLLBACK PREPARED end or
 * start a transaction; SAVEPOINT, RELEASE and ROLLBACK TO work inside ours. */
static bool is_transaction_control(const char *kind, const struct json *body)
{
    if (strcmp(kind, "TransactionStmt") != 0)
        return false;
    const char *k = json_string(body, "kind");
    return k == NULL || (strcmp(k, "TRANS_STMT_SAVEPOINT") != 0 &&
                         strcmp(k, "TRANS_STMT_RELEASE") != 0 &&
                         strcmp(k, "TRANS_STMT_ROLLBACK_TO") != 0);
}

/* Where the previous statement started: statements come in file order, so
 * each line/column is counted on from there, not from the top of the file
 * (which made 10 000 INSERTs take seconds). */
struct cursor {
    size_t offset;
    int line, column;
};

/* Fills one statement from a RawStmt JSON object. */
static void read_statement(const char *text, size_t length, const struct json *raw,
                           struct sql_statement *s, struct cursor *at)
{
    const struct json *loc = json_get(raw, "stmt_location"), *len = json_get(raw, "stmt_len");
    size_t start = loc ? (size_t)loc->integer : 0;
    size_t end = len && len->integer > 0 ? start + (size_t)len->integer : length;
    if (end > length)
        end = length;
    s->offset = skip_to_token(text, length, start, end);
    while (end > s->offset && strchr(" \t\r\n\f\v", text[end - 1]))
        end--;                       /* the last statement runs to the end of the file */
    s->length = end - s->offset;
    if (s->offset < at->offset)
        *at = (struct cursor){0, 1, 1};
    advance(text, length, at->offset, s->offset, &at->line, &at->column);
    at->offset = s->offset;
    s->line = at->line;
    s->column = at->column;
    const struct json *node = json_get(raw, "stmt");
    const char *kind = node && node->count > 0 ? node->keys[0] : "Unknown";
    const struct json *body = node && node->count > 0 ? node->items[0] : NULL;
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    s->blocker = NULL;
    s->no_transaction = cannot_run_in_transaction(kind, body, &s->blocker);
    s->transaction_control = is_transaction_control(kind, body);
}

/* ---- parsing ------------------------------------------------------------- */

static void set_error(struct sql_error *err, const char *text, size_t length, size_t offset,
                      const char *message)
{
    snprintf(err->message, sizeof err->message, "%s", message);
    err->offset = offset;
    sql_line_column(text, length, offset, &err->line, &err->column);
}

/* A NUL-terminated copy for libpg_query; NULL (err set) on a NUL byte or
 * text that is not UTF-8 (the connection's client_encoding): refused here,
 * before anything is sent, rather than by the server half-way through. */
static char *terminated_copy(const char *text, size_t length, struct sql_error *err)
{
    const char *nul = memchr(text, '\0', length);
    if (nul != NULL) {
        set_error(err, text, length, (size_t)(nul - text),
                  "the file contains a NUL byte: it is not SQL text");
        return NULL;
    }
    size_t bad = utf8_invalid_at(text, length);
    if (bad < length) {
        char why[200];
        snprintf(why, sizeof why, "the file is not UTF-8: byte 0x%02X is not valid UTF-8 (convert "
                 "the file, e.g. iconv -f LATIN1 -t UTF-8)", (unsigned char)text[bad]);
        set_error(err, text, length, bad, why);
        return NULL;
    }
    char *copy = malloc(length + 1);
    if (copy == NULL) {
        set_error(err, text, length, 0, "out of memory");
        return NULL;
    }
    memcpy(copy, text, length);
    copy[length] = '\0';
    if (length >= 3 && memcmp(copy, "\xEF\xBB\xBF", 3) == 0)
        memset(copy, ' ', 3);        /* a BOM is not SQL; blanks keep every offset */
    return copy;
}

char *sql_parse_json(const char *text, size_t length, struct sql_error *err)
{
    memset(err, 0, sizeof *err);
    char *copy = terminated_copy(text, length, err);
    if (copy == NULL)
        return NULL;
    if (!parser_open()) {
        snprintf(err->message, sizeof err->message, "%s", parser.error);
        err->no_parser = true;
        free(copy);
        return NULL;
    }
    parser.used = true;
    PgQueryParseResult result = parser.parse(copy);
    char *tree = NULL;
    if (result.error) {
        size_t offset = sql_char_to_byte(text, length, result.error->cursorpos);
        set_error(err, text, length, offset, result.error->message);
    } else if ((tree = strdup(result.parse_tree)) == NULL) {
        set_error(err, text, length, 0, "out of memory");
    }
    parser.free_result(result);
    free(copy);
    return tree;
}

/* A first line "-- stallmig:no-transaction" (after an optional BOM). */
static bool marked_no_transaction(const char *text, size_t length)
{
    static const char marker[] = "-- stallmig:no-transaction";
    size_t pos = length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    size_t n = sizeof marker - 1;
    if (length - pos < n || memcmp(text + pos, marker, n) != 0)
        return false;
    for (pos += n; pos < length && text[pos] != '\n'; pos++)
        if (!strchr(" \t\r", text[pos]))
            return false;
    return true;
}

static void classify(struct sql_script *s, const char *text, size_t length)
{
    if (marked_no_transaction(text, length)) {
        s->mode = SQL_MODE_NON_TRANSACTIONAL;
        snprintf(s->reason, sizeof s->reason, "line 1: -- stallmig:no-transaction");
        return;
    }
    const struct sql_statement *control = NULL;
    for (size_t i = 0; i < s->count; i++) {
        const struct sql_statement *st = &s->statements[i];
        if (st->no_transaction) {
            s->mode = SQL_MODE_NON_TRANSACTIONAL;
            snprintf(s->reason, sizeof s->reason, "line %d: %s cannot run inside a transaction block",
                     st->line, st->blocker ? st->blocker : st->kind);
            return;
        }
        if (st->transaction_control && control == NULL)
            control = st;
    }
    if (control) {
        s->mode = SQL_MODE_SELF_MANAGED;
        snprintf(s->reason, sizeof s->reason, "line %d: the file controls its own transaction",
                 control->line);
    }
}

/* Appends one statement slot; false when out of memory. */
static bool grow(struct sql_script *out, size_t *cap)
{
    if (out->count < *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 16;
    struct sql_statement *grown = realloc(out->statements, n * sizeof *grown);
    if (grown == NULL)
        return false;
    out->statements = grown;
    *cap = n;
    return true;
}

/* Reads the parser's {"version":..,"stmts":[...]} one statement at a time,
 * each statement's tree freed before the next is read: the whole tree of a
 * file of 100 000 INSERTs would take over a gigabyte. */
static int read_statements(struct sql_script *out, const char *text, size_t length,
                           const char *tree, struct sql_error *err)
{
    const char *list = strstr(tree, "\"stmts\":[");
    size_t len = strlen(tree), pos = list ? (size_t)(list - tree) + 9 : len, cap = 0;
    struct cursor at = {0, 1, 1};
    char why[128];
    while (list && pos < len && tree[pos] != ']') {
        struct json *raw = json_parse_next(tree, len, &pos, why, sizeof why);
        if (raw == NULL || !grow(out, &cap)) {
            char message[256];       /* the reader's depth limit: PostgreSQL's parser has none as low */
            snprintf(message, sizeof message, raw ? "out of memory" : "cannot read the parser's "
                     "output: %s (simplify the most deeply nested expression)", why);
            json_free(raw);
            set_error(err, text, length, 0, message);
            return -1;
        }
        read_statement(text, length, raw, &out->statements[out->count++], &at);
        json_free(raw);
        while (pos < len && (tree[pos] == ',' || tree[pos] == ' ' || tree[pos] == '\n'))
            pos++;
    }
    if (out->statements == NULL && (out->statements = calloc(1, sizeof *out->statements)) == NULL) {
        set_error(err, text, length, 0, "out of memory");
        return -1;
    }
    return 0;
}

int sql_script_parse_json(const char *text, size_t length, struct sql_script *out, char **json,
                          struct sql_error *err)
{
    memset(out, 0, sizeof *out);
    if (json)
        *json = NULL;
    char *tree = sql_parse_json(text, length, err);
    if (tree == NULL)
        return -1;
    int rc = read_statements(out, text, length, tree, err);
    if (rc == 0)
        classify(out, text, length);
    else
        sql_script_free(out);
    if (rc == 0 && json)
        *json = tree;
    else
        free(tree);
    return rc;
}

int sql_script_parse(const char *text, size_t length, struct sql_script *out, struct sql_error *err)
{
    return sql_script_parse_json(text, length, out, NULL, err);
}

void sql_script_free(struct sql_script *script)
{
    free(script->statements);
    script->statements = NULL;
    script->count = 0;
}

/* ---- read-only statements ------------------------------------------------- */

/* Every statement on a read-only connection also runs in a READ ONLY
 * transaction (lapi_db.c), which stops writes to tables, sequences and the
 * catalog. This check refuses what that transaction lets through or what
 * would lift it: statements other than SELECT/SHOW/EXPLAIN, session
 * settings, writes hidden in a SELECT, row locks, and functions that act
 * on other sessions, the server or other connections. */

static char problem_text[300];       /* the last problem found (see sqlparse.h) */

/* The SQL words of a statement node, for messages. */
static const char *statement_words(const char *kind)
{
    static const struct { const char *kind, *words; } names[] = {
        {"InsertStmt", "INSERT"}, {"UpdateStmt", "UPDATE"}, {"DeleteStmt", "DELETE"},
        {"MergeStmt", "MERGE"}, {"CreateTableAsStmt", "CREATE TABLE AS"},
        {"DeclareCursorStmt", "DECLARE CURSOR"}, {"ExecuteStmt", "EXECUTE"},
        {NULL, NULL},
    };
    for (size_t i = 0; names[i].kind; i++)
        if (strcmp(kind, names[i].kind) == 0)
            return names[i].words;
    return kind;
}

static bool writes_rows(const char *kind)
{
    return strcmp(kind, "InsertStmt") == 0 || strcmp(kind, "UpdateStmt") == 0 ||
           strcmp(kind, "DeleteStmt") == 0 || strcmp(kind, "MergeStmt") == 0;
}

/* The kind of a node {"Kind": {...}}, "" if it is not one. */
static const char *node_kind(const struct json *node)
{
    return node && node->type == JSON_OBJECT && node->count > 0 ? node->keys[0] : "";
}

/* The last part of a function's name (pg_catalog.x is x), as the parser gives it. */
static const char *function_name(const struct json *call)
{
    const struct json *parts = json_get(call, "funcname");
    if (parts == NULL || parts->type != JSON_ARRAY || parts->count == 0)
        return NULL;
    return json_string(json_get(parts->items[parts->count - 1], "String"), "sval");
}

/* Functions a read-only connection does not call: a READ ONLY transaction
 * lets most of them run. A name ending in '*' is a prefix. */
static const struct { const char *name, *why; } refused_functions[] = {
    {"set_config", "could turn read-only mode off"},
    {"lo_*", "is a large-object function: they write large objects and server files"},
    {"loread", "is a large-object function: they write large objects and server files"},
    {"lowrite", "is a large-object function: they write large objects and server files"},
    {"pg_advisory_*", "takes or releases an advisory lock (the deploy lock is one)"},
    {"pg_try_advisory_*", "takes an advisory lock (the deploy lock is one)"},
    {"nextval", "advances a sequence"},
    {"setval", "sets a sequence"},
    {"pg_terminate_backend", "ends another session"},
    {"pg_cancel_backend", "cancels another session's query"},
    {"pg_notify", "sends a notification to other sessions"},
    {"pg_reload_conf", "reloads the server's configuration"},
    {"pg_rotate_logfile", "acts on the server (rotates its log)"},
    {"pg_switch_wal", "acts on the server (switches its WAL file)"},
    {"pg_create_restore_point", "acts on the server (writes a restore point)"},
    {"pg_promote", "acts on the server (promotes a standby)"},
    {"pg_create_physical_replication_slot", "creates a replication slot"},
    {"pg_create_logical_replication_slot", "creates a replication slot"},
    {"pg_copy_physical_replication_slot", "creates a replication slot"},
    {"pg_copy_logical_replication_slot", "creates a replication slot"},
    {"pg_drop_replication_slot", "drops a replication slot"},
    {"pg_stat_reset*", "resets the server's statistics"},
    {"dblink*", "runs SQL on another connection, which is not read-only"},
    {NULL, NULL},
};

static const char *refused_function(const char *name)
{
    for (size_t i = 0; name && refused_functions[i].name; i++) {
        const char *pattern = refused_functions[i].name;
        size_t n = strlen(pattern);
        if (pattern[n - 1] == '*' ? strncmp(name, pattern, n - 1) == 0 : strcmp(name, pattern) == 0)
            return refused_functions[i].why;
    }
    return NULL;
}

static const char *lock_strength(const char *strength)
{
    if (strength && strcmp(strength, "LCS_FORNOKEYUPDATE") == 0) return "FOR NO KEY UPDATE";
    if (strength && strcmp(strength, "LCS_FORSHARE") == 0) return "FOR SHARE";
    if (strength && strcmp(strength, "LCS_FORKEYSHARE") == 0) return "FOR KEY SHARE";
    return "FOR UPDATE";
}

/* Whether the tree under v (part of a SELECT) writes, locks or calls a
 * refused function; why says what, naming it. */
static bool tree_problem(const struct json *v, char *why, size_t size)
{
    if (v == NULL || (v->type != JSON_OBJECT && v->type != JSON_ARRAY))
        return false;
    for (size_t i = 0; v->type == JSON_OBJECT && i < v->count; i++) {
        const char *key = v->keys[i];
        const struct json *body = v->items[i];
        const char *what;
        if (strcmp(key, "CommonTableExpr") == 0 && writes_rows(node_kind(json_get(body, "ctequery")))) {
            const char *name = json_string(body, "ctename");
            snprintf(why, size, "WITH %s AS (%s ...) writes", name ? name : "?",
                     statement_words(node_kind(json_get(body, "ctequery"))));
            return true;
        }
        if (writes_rows(key)) {
            snprintf(why, size, "%s inside a SELECT writes", statement_words(key));
            return true;
        }
        if (strcmp(key, "intoClause") == 0 && body->type == JSON_OBJECT) {
            const char *table = json_string(json_get(body, "rel"), "relname");
            snprintf(why, size, "SELECT ... INTO %s creates a table", table ? table : "?");
            return true;
        }
        if (strcmp(key, "LockingClause") == 0) {
            snprintf(why, size, "SELECT ... %s locks rows", lock_strength(json_string(body, "strength")));
            return true;
        }
        if (strcmp(key, "FuncCall") == 0 && (what = refused_function(function_name(body))) != NULL) {
            snprintf(why, size, "%s() %s", function_name(body), what);
            return true;
        }
    }
    for (size_t i = 0; i < v->count; i++)
        if (tree_problem(v->items[i], why, size))
            return true;
    return false;
}

/* Whether one statement (its node {"Kind": body}) is not read-only, and why. */
static bool statement_problem(const struct json *node, char *why, size_t size)
{
    const char *kind = node_kind(node);
    const struct json *body = json_get(node, kind);
    if (strcmp(kind, "ExplainStmt") == 0) {
        const struct json *query = json_get(body, "query");
        const char *explained = node_kind(query);
        bool analyze = has_defelem(json_get(body, "options"), "analyze");
        char inner[200];
        if (strcmp(explained, "SelectStmt") != 0)
            snprintf(why, size, analyze ? "EXPLAIN ANALYZE runs the %s it explains"
                     : "EXPLAIN of %s: only a read-only statement is explained here",
                     statement_words(explained));
        else if (tree_problem(query, inner, sizeof inner))
            snprintf(why, size, "EXPLAIN%s of a statement that is not read-only: %s",
                     analyze ? " ANALYZE" : "", inner);
        else
            return false;
        return true;
    }
    if (strcmp(kind, "SelectStmt") != 0 && strcmp(kind, "VariableShowStmt") != 0) {
        snprintf(why, size, "only SELECT, SHOW and EXPLAIN run on a read-only connection");
        return true;
    }
    return tree_problem(body, why, size);
}

/* Parses text and applies check to each statement until one has a problem
 * (written to out); *line is that statement's. Unreadable text is a
 * problem too: what cannot be checked is refused. */
static const char *first_problem(const char *text, size_t length, int *line, char *out, size_t size,
                                 bool (*check)(const struct json *node, char *why, size_t size))
{
    struct sql_error err;
    *line = 0;
    char *tree = sql_parse_json(text, length, &err);
    if (tree == NULL)
        return *line = err.line, "it cannot be parsed";
    char why[128];
    struct json *doc = json_parse(tree, strlen(tree), why, sizeof why);
    free(tree);
    if (doc == NULL)                 /* found by fuzz_sqlparse: it said "line 0" */
        return *line = 1, "it is nested too deeply to be checked";
    const struct json *stmts = json_get(doc, "stmts");
    const char *problem = NULL;
    for (size_t i = 0; stmts && stmts->type == JSON_ARRAY && i < stmts->count && !problem; i++) {
        if (!check(json_get(stmts->items[i], "stmt"), out, size))
            continue;
        problem = out;
        const struct json *loc = json_get(stmts->items[i], "stmt_location");
        size_t at = skip_to_token(text, length, loc ? (size_t)loc->integer : 0, length);
        int col;
        sql_line_column(text, length, at, line, &col);
    }
    json_free(doc);
    return problem;
}

const char *sql_read_only_problem(const char *text, size_t length, int *line)
{
    return first_problem(text, length, line, problem_text, sizeof problem_text, statement_problem);
}

/* ---- the host's schema ----------------------------------------------------- */

/* Only the host writes the stallmig schema (ledger.c): its history, marker
 * and audit. A statement that is not read-only and names it, as PostgreSQL's
 * parser sees names, is found here; a plain read of stallmig.* is not. */

static char host_schema_text[300];   /* the last problem found (see sqlparse.h) */

#define HOST_SCHEMA "stallmig"
#define ONLY_THE_HOST "which only the host writes"

static bool is_host_schema(const char *name)
{
    return name && strcasecmp(name, HOST_SCHEMA) == 0;
}

static bool is_identifier_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* Whether code in a string (a DO block, a function body, EXECUTE's text)
 * names the schema: stallmig.x or "stallmig".x, or the literal 'stallmig'
 * (format('%I.x', 'stallmig')), any case. */
static bool text_names_host_schema(const char *s)
{
    for (const char *p = s; (p = strcasestr(p, HOST_SCHEMA)) != NULL; p++) {
        char before = p > s ? p[-1] : ' ';
        const char *after = p + strlen(HOST_SCHEMA);
        if (before == '\'' && *after == '\'')
            return true;
        if (is_identifier_char(before))
            continue;
        if (before == '"' && *after == '"')
            after++;
        if (*after == '.')
            return true;
    }
    return false;
}

/* Whether a search_path value ("a, \"stallmig\", b") lists the schema. */
static bool search_path_has_host_schema(const char *value)
{
    size_t want = strlen(HOST_SCHEMA);
    while (value && *value) {
        size_t n = strcspn(value, ",");
        const char *from = value, *to = value + n;
        while (from < to && strchr(" \t\r\n\"", *from))
            from++;
        while (to > from && strchr(" \t\r\n\"", to[-1]))
            to--;
        if ((size_t)(to - from) == want && strncasecmp(from, HOST_SCHEMA, want) == 0)
            return true;
        value += n + (value[n] == ',');
    }
    return false;
}

/* The string of a constant node {"A_Const": {"sval": {"sval": ...}}}, or NULL. */
static const char *constant_text(const struct json *node)
{
    return json_string(json_get(json_get(node, "A_Const"), "sval"), "sval");
}

/* Whether the object v is about schemas as such: DROP/ALTER/COMMENT ON/GRANT
 * ON SCHEMA, GRANT ... IN SCHEMA, ALTER DEFAULT PRIVILEGES IN SCHEMA,
 * CREATE EXTENSION ... SCHEMA; then every name under it is a schema's. */
static bool names_schemas(const struct json *v)
{
    static const char *const type_keys[] = {"objtype", "removeType", "objectType", "renameType", NULL};
    for (size_t k = 0; type_keys[k]; k++) {
        const char *type = json_string(v, type_keys[k]);
        if (type && strcmp(type, "OBJECT_SCHEMA") == 0)
            return true;
    }
    const char *target = json_string(v, "targtype"), *defname = json_string(v, "defname");
    return (target && strcmp(target, "ACL_TARGET_ALL_IN_SCHEMA") == 0) ||
           (defname && (strcmp(defname, "schemas") == 0 || strcmp(defname, "schema") == 0));
}

/* SET search_path (also in ALTER ROLE/DATABASE ... SET, CREATE FUNCTION
 * ... SET) or set_config('search_path', ...) listing the schema. */
static bool sets_search_path(const struct json *v)
{
    const char *var = json_string(v, "name"), *kind = json_string(v, "kind");
    const struct json *args = json_get(v, "args");
    if (var && kind && strcmp(var, "search_path") == 0 && strncmp(kind, "VAR_SET", 7) == 0) {
        for (size_t i = 0; args && args->type == JSON_ARRAY && i < args->count; i++)
            if (search_path_has_host_schema(constant_text(args->items[i])))
                return true;
        return false;
    }
    const struct json *call = json_get(v, "FuncCall");
    const char *function = function_name(call);
    args = json_get(call, "args");
    if (function == NULL || strcmp(function, "set_config") != 0 || args == NULL ||
        args->type != JSON_ARRAY || args->count < 2)
        return false;
    const char *setting = constant_text(args->items[0]);
    return setting && strcasecmp(setting, "search_path") == 0 &&
           search_path_has_host_schema(constant_text(args->items[1]));
}

/* The String node's text, or NULL. */
static const char *name_text(const struct json *node)
{
    return json_string(json_get(node, "String"), "sval");
}

enum naming { NAMES_OBJECT, NAMES_SCHEMA, NAMES_SEARCH_PATH, NAMES_IN_STRING };

/* Writes why the statement was found (object: the name after stallmig.). */
static bool found(char *why, size_t size, enum naming how, const char *object)
{
    if (how == NAMES_OBJECT && object)
        snprintf(why, size, "it is not read-only and names %s.%s, " ONLY_THE_HOST, HOST_SCHEMA, object);
    else if (how == NAMES_SEARCH_PATH)
        snprintf(why, size, "it puts %s on the search_path, so that unqualified names reach "
                 "tables only the host writes", HOST_SCHEMA);
    else if (how == NAMES_IN_STRING)
        snprintf(why, size, "a string in it (a DO block, a function body or dynamic SQL) names "
                 "%s, " ONLY_THE_HOST, HOST_SCHEMA);
    else
        snprintf(why, size, "it is not read-only and names the schema %s, " ONLY_THE_HOST, HOST_SCHEMA);
    return true;
}

/* Whether the tree under v names the host's schema; why says how.
 * in_schemas: v is under a statement about schemas, where every name is a
 * schema's. Columns are skipped: their table is in FROM, a RangeVar. */
static bool names_host_schema(const struct json *v, bool in_schemas, char *why, size_t size)
{
    if (v == NULL || (v->type != JSON_OBJECT && v->type != JSON_ARRAY))
        return false;
    if (v->type == JSON_ARRAY && v->count > 0 && is_host_schema(name_text(v->items[0])))
        return found(why, size, NAMES_OBJECT, !in_schemas && v->count > 1 ? name_text(v->items[1]) : NULL);
    if (v->type == JSON_OBJECT) {
        in_schemas = in_schemas || names_schemas(v);
        const char *text = name_text(v);
        if (json_get(v, "ColumnRef"))
            return false;
        if (json_get(v, "relname") && is_host_schema(json_string(v, "schemaname")))
            return found(why, size, NAMES_OBJECT, json_string(v, "relname"));
        if (sets_search_path(v))
            return found(why, size, NAMES_SEARCH_PATH, NULL);
        if (is_host_schema(json_string(v, "schemaname")) || is_host_schema(json_string(v, "newschema")) ||
            (in_schemas && (is_host_schema(json_string(v, "subname")) ||
                            is_host_schema(json_string(v, "newname")) || is_host_schema(text))))
            return found(why, size, NAMES_SCHEMA, NULL);
        if (text == NULL && (text = constant_text(v)) != NULL && is_host_schema(text))
            return found(why, size, NAMES_IN_STRING, NULL);
        if (text && text_names_host_schema(text))
            return found(why, size, NAMES_IN_STRING, NULL);
    }
    for (size_t i = 0; i < v->count; i++)
        if (names_host_schema(v->items[i], in_schemas, why, size))
            return true;
    return false;
}

/* A statement that is not read-only and names the host's schema. */
static bool host_schema_statement(const struct json *node, char *why, size_t size)
{
    char ignored[200];
    return statement_problem(node, ignored, sizeof ignored) &&
           names_host_schema(node, false, why, size);
}

const char *sql_host_schema_problem(const char *text, size_t length, int *line)
{
    return first_problem(text, length, line, host_schema_text, sizeof host_schema_text,
                         host_schema_statement);
}
