/* sqlparse.c — split and classify migration files with libpg_query.
 *
 * One pg_query_parse() of the whole file gives every statement's node and
 * its byte range; the node says whether it can run in a transaction block. */
#include "sqlparse.h"

#include "json.h"
#include "utf8.h"

#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parser_used;

void sql_release(void)
{
    if (parser_used)
        pg_query_exit();
    parser_used = false;
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
    parser_used = true;
    PgQueryParseResult result = pg_query_parse(copy);
    char *tree = NULL;
    if (result.error) {
        size_t offset = sql_char_to_byte(text, length, result.error->cursorpos);
        set_error(err, text, length, offset, result.error->message);
    } else if ((tree = strdup(result.parse_tree)) == NULL) {
        set_error(err, text, length, 0, "out of memory");
    }
    pg_query_free_parse_result(result);
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

int sql_script_parse(const char *text, size_t length, struct sql_script *out, struct sql_error *err)
{
    memset(out, 0, sizeof *out);
    char *tree = sql_parse_json(text, length, err);
    if (tree == NULL)
        return -1;
    int rc = read_statements(out, text, length, tree, err);
    free(tree);
    if (rc == 0)
        classify(out, text, length);
    else
        sql_script_free(out);
    return rc;
}

void sql_script_free(struct sql_script *script)
{
    free(script->statements);
    script->statements = NULL;
    script->count = 0;
}

/* ---- read-only statements ------------------------------------------------- */

/* Whether v calls a function named name anywhere (FuncCall.funcname's last part). */
static bool calls_function(const struct json *v, const char *name)
{
    if (v == NULL || (v->type != JSON_OBJECT && v->type != JSON_ARRAY))
        return false;
    const struct json *call = json_get(v, "FuncCall");
    const struct json *parts = call ? json_get(call, "funcname") : NULL;
    if (parts && parts->type == JSON_ARRAY && parts->count > 0) {
        const char *last = json_string(json_get(parts->items[parts->count - 1], "String"), "sval");
        if (last && strcmp(last, name) == 0)
            return true;
    }
    for (size_t i = 0; i < v->count; i++)
        if (calls_function(v->items[i], name))
            return true;
    return false;
}

static const char *const read_only_kinds[] = {"SelectStmt", "VariableShowStmt", "ExplainStmt", NULL};

const char *sql_read_only_problem(const char *text, size_t length, int *line)
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
        const struct json *node = json_get(stmts->items[i], "stmt");
        const char *kind = node && node->count ? node->keys[0] : "";
        bool allowed = false;
        for (size_t k = 0; read_only_kinds[k]; k++)
            allowed = allowed || strcmp(kind, read_only_kinds[k]) == 0;
        if (!allowed)
            problem = "only SELECT, SHOW and EXPLAIN run on a read-only connection";
        else if (calls_function(node, "set_config"))
            problem = "set_config() could turn read-only mode off";
        if (problem) {
            const struct json *loc = json_get(stmts->items[i], "stmt_location");
            size_t at = skip_to_token(text, length, loc ? (size_t)loc->integer : 0, length);
            int col;
            sql_line_column(text, length, at, line, &col);
        }
    }
    json_free(doc);
    return problem;
}
