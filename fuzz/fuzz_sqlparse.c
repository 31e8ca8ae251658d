/* fuzz_sqlparse.c — the statement splitter and classifier on arbitrary bytes.
 * Invariants: statements come in order, do not overlap, lie inside the text,
 * start on a token and carry the line/column of their offset; the mode agrees
 * with the statements; position helpers stay within the text; the host's
 * schema is found only in a statement that is not read-only. */
#include "sqlparse.h"

#undef NDEBUG                        /* the invariants are the point */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_statements(const char *text, size_t size, const struct sql_script *s)
{
    size_t previous_end = 0;
    bool any_no_tx = false, any_control = false;
    for (size_t i = 0; i < s->count; i++) {
        const struct sql_statement *st = &s->statements[i];
        assert(st->offset <= size && st->length <= size - st->offset);
        assert(st->offset >= previous_end);
        assert(st->length == 0 || !isspace((unsigned char)text[st->offset]));
        previous_end = st->offset + st->length;
        assert(memchr(st->kind, '\0', sizeof st->kind) != NULL && st->kind[0] != '\0');
        int line, column;
        sql_line_column(text, size, st->offset, &line, &column);
        assert(line == st->line && column == st->column);
        assert(!st->no_transaction || st->blocker != NULL);
        any_no_tx = any_no_tx || st->no_transaction;
        any_control = any_control || st->transaction_control;
    }
    assert(memchr(s->reason, '\0', sizeof s->reason) != NULL);
    if (any_no_tx)
        assert(s->mode == SQL_MODE_NON_TRANSACTIONAL);
    else if (s->mode == SQL_MODE_TRANSACTIONAL)
        assert(!any_control && s->reason[0] == '\0');
    assert(sql_mode_name(s->mode) != NULL);
}

static void check_positions(const char *text, size_t size)
{
    long chars[] = {-1, 0, 1, 2, (long)size / 2, (long)size, (long)size + 1};
    for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) {
        size_t byte = sql_char_to_byte(text, size, chars[i]);
        assert(byte <= size);
        int line, column;
        sql_line_column(text, size, byte, &line, &column);
        assert(line >= 1 && column >= 1 && (size_t)line <= size + 1 && (size_t)column <= size + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    check_positions(text, size);
    struct sql_script script;
    struct sql_error err;
    char *json = NULL;                 /* the lint's path: the tree handed over */
    if (sql_script_parse_json(text, size, &script, &json, &err) == 0) {
        assert(json != NULL && strstr(json, "\"version\"") != NULL);
        free(json);
        check_statements(text, size, &script);
        sql_script_free(&script);
    } else {
        assert(json == NULL);
        assert(err.offset <= size && err.line >= 1 && err.column >= 1);
        assert(memchr(err.message, '\0', sizeof err.message) != NULL);
    }
    int line = -1;
    const char *problem = sql_read_only_problem(text, size, &line);
    assert(problem == NULL ? line == 0 : line >= 1);
    int host_line = -1;                /* only a statement that is not read-only is found */
    const char *host = sql_host_schema_problem(text, size, &host_line);
    assert(host == NULL ? host_line == 0 : host_line >= 1 && problem != NULL && host_line >= line);
    return 0;
}
