/* test_sqlparse.c — statement boundaries and classification with libpg_query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sqlparse.h"

#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sql_script parse_ok(const char *text)
{
    struct sql_script s;
    struct sql_error err;
    int rc = sql_script_parse(text, strlen(text), &s, &err);
    if (rc != 0)
        print_error("unexpected parse error: %s\n", err.message);
    assert_int_equal(rc, 0);
    return s;
}

static enum sql_mode mode_of(const char *text)
{
    struct sql_script s = parse_ok(text);
    enum sql_mode mode = s.mode;
    sql_script_free(&s);
    return mode;
}

static char *read_data(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "data/sql/%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(65536);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

static void sql_script_parse__prisma_style_boundaries(void **state)
{
    (void)state;
    size_t len;
    char *text = read_data("prisma_style.sql", &len);
    struct sql_script s;
    struct sql_error err;
    assert_int_equal(sql_script_parse(text, len, &s, &err), 0);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.mode, SQL_MODE_TRANSACTIONAL);
    assert_string_equal(s.statements[0].kind, "CreateStmt");
    assert_int_equal(s.statements[0].line, 2);                  /* the leading comment is skipped */
    assert_int_equal(s.statements[0].column, 1);
    assert_string_equal(s.statements[1].kind, "CreateFunctionStmt");
    assert_int_equal(s.statements[1].line, 8);                  /* after a nested comment */
    assert_string_equal(s.statements[2].kind, "SelectStmt");
    assert_int_equal(s.statements[2].line, 14);                 /* last statement, no ';' */
    assert_memory_equal(text + s.statements[2].offset, "SELECT E'it", 11);
    assert_int_equal(text[s.statements[2].offset + s.statements[2].length - 1], '"');
    sql_script_free(&s);
    free(text);
}

static void sql_script_parse__crlf_and_bom(void **state)
{
    (void)state;
    struct sql_script s = parse_ok("\xEF\xBB\xBF" "CREATE TABLE a (id int);\r\n\r\nCREATE TABLE b (id int);\r\n");
    assert_int_equal(s.count, 2);
    assert_int_equal(s.statements[1].line, 3);
    assert_int_equal(s.statements[1].column, 1);
    sql_script_free(&s);
}

static void sql_script_parse__empty_and_comment_only(void **state)
{
    (void)state;
    struct sql_script s = parse_ok("");
    assert_int_equal(s.count, 0);
    assert_int_equal(s.mode, SQL_MODE_TRANSACTIONAL);
    sql_script_free(&s);
    s = parse_ok("-- nothing\n/* at all */\n");
    assert_int_equal(s.count, 0);
    sql_script_free(&s);
    sql_script_free(&s);                                        /* idempotent */
}

/* Splits text and checks that statement i is exactly want[i] (no ';'). */
static void assert_statements(const char *text, const char *const *want, size_t n)
{
    struct sql_script s = parse_ok(text);
    if (s.count != n)
        print_error("%zu statements, expected %zu in: %s\n", s.count, n, text);
    assert_int_equal(s.count, n);
    for (size_t i = 0; i < n; i++) {
        const struct sql_statement *st = &s.statements[i];
        if (st->length != strlen(want[i]) || memcmp(text + st->offset, want[i], st->length) != 0)
            print_error("statement %zu is [%.*s], expected [%s]\n", i + 1, (int)st->length,
                        text + st->offset, want[i]);
        assert_int_equal(st->length, strlen(want[i]));
        assert_memory_equal(text + st->offset, want[i], st->length);
    }
    sql_script_free(&s);
}

static void sql_script_parse__dollar_quotes_hold_semicolons(void **state)
{
    (void)state;
    const char *want[] = {
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql",
        "DO $tag$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $tag$",
        "SELECT $a$;$b$;$a$",
        "SELECT $x1$ ; $x$ $x1$",
    };
    assert_statements("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql;\n"
                      "DO $tag$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $tag$;\n"
                      "SELECT $a$;$b$;$a$;\nSELECT $x1$ ; $x$ $x1$;\n", want, 4);
}

static void sql_script_parse__e_strings_with_escaped_quotes(void **state)
{
    (void)state;
    const char *want[] = {"SELECT E'it\\'s; here'", "SELECT 'a''b;c'", "SELECT E'\\\\'", "SELECT E'\\x3b;'",
                          "SELECT 1"};
    assert_statements("SELECT E'it\\'s; here';SELECT 'a''b;c';\nSELECT E'\\\\'; SELECT E'\\x3b;';SELECT 1",
                      want, 5);
}

static void sql_script_parse__nested_block_comments(void **state)
{
    (void)state;
    const char *want[] = {"SELECT 1", "SELECT /* in; /* the */ middle; */ 2"};
    assert_statements("/* a /* b; */ c; */ SELECT 1; /* x /* y */ ; */\n"
                      "SELECT /* in; /* the */ middle; */ 2;", want, 2);
    struct sql_script s = parse_ok("/* a /* b; */ c; */ SELECT 1; /* x /* y */ ; */\nSELECT 2;");
    assert_int_equal(s.statements[1].line, 2);                  /* the comment before it is skipped */
    assert_int_equal(s.statements[1].column, 1);
    sql_script_free(&s);
}

static void sql_script_parse__semicolons_in_quoted_identifiers(void **state)
{
    (void)state;
    const char *want[] = {"CREATE TABLE \"a;b\" (\"c;d\" int)", "SELECT \"a;b\".\"c;d\" FROM \"a;b\"",
                          "CREATE TABLE \"x\"\";y\" (id int)"};
    assert_statements("CREATE TABLE \"a;b\" (\"c;d\" int);\nSELECT \"a;b\".\"c;d\" FROM \"a;b\";\n"
                      "CREATE TABLE \"x\"\";y\" (id int);", want, 3);
}

static void sql_script_parse__non_transactional_statements(void **state)
{
    (void)state;
    const char *texts[] = {
        "CREATE INDEX CONCURRENTLY i ON t (a);", "DROP INDEX CONCURRENTLY i;",
        "REINDEX INDEX CONCURRENTLY i;", "REINDEX DATABASE d;", "VACUUM t;", "VACUUM;",
        "CREATE DATABASE x;", "DROP DATABASE x;", "ALTER SYSTEM SET work_mem = '1MB';",
        "CLUSTER;", "ALTER DATABASE d SET TABLESPACE x;", "CREATE TABLESPACE x LOCATION '/x';",
        "CREATE TABLE a (id int); CREATE INDEX CONCURRENTLY i ON a (id);",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (mode_of(texts[i]) != SQL_MODE_NON_TRANSACTIONAL)
            print_error("not non-transactional: %s\n", texts[i]);
        assert_int_equal(mode_of(texts[i]), SQL_MODE_NON_TRANSACTIONAL);
    }
}

static void sql_script_parse__transactional_lookalikes(void **state)
{
    (void)state;
    const char *texts[] = {
        "CREATE INDEX i ON t (a);", "DROP INDEX i;", "REINDEX INDEX i;", "ANALYZE t;",
        "CLUSTER t USING i;", "ALTER DATABASE d SET work_mem = '1MB';",
        "SELECT 'CREATE INDEX CONCURRENTLY i ON t (a)';", "-- VACUUM;\nSELECT 1;",
        "CREATE FUNCTION f() RETURNS void AS $$ BEGIN COMMIT; END $$ LANGUAGE plpgsql;",
        "CREATE TABLE a (id int); SAVEPOINT s; RELEASE s; ROLLBACK TO s;",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (mode_of(texts[i]) != SQL_MODE_TRANSACTIONAL)
            print_error("not transactional: %s\n", texts[i]);
        assert_int_equal(mode_of(texts[i]), SQL_MODE_TRANSACTIONAL);
    }
}

static void sql_script_parse__own_transaction_is_self_managed(void **state)
{
    (void)state;
    struct sql_script s = parse_ok("CREATE TABLE x (id int);\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n");
    assert_int_equal(s.mode, SQL_MODE_SELF_MANAGED);
    assert_true(s.statements[1].transaction_control);
    assert_false(s.statements[0].transaction_control);
    assert_string_equal(s.reason, "line 2: the file controls its own transaction");
    sql_script_free(&s);
    assert_int_equal(mode_of("START TRANSACTION; SELECT 1; END;"), SQL_MODE_SELF_MANAGED);
}

static void sql_script_parse__no_transaction_marker(void **state)
{
    (void)state;
    struct sql_script s = parse_ok("-- stallmig:no-transaction \r\nCREATE TABLE a (id int);\n");
    assert_int_equal(s.mode, SQL_MODE_NON_TRANSACTIONAL);
    assert_string_equal(s.reason, "line 1: -- stallmig:no-transaction");
    sql_script_free(&s);
    assert_int_equal(mode_of("\n-- stallmig:no-transaction\nSELECT 1;"), SQL_MODE_TRANSACTIONAL);
    assert_int_equal(mode_of("-- stallmig:no-transaction please\nSELECT 1;"), SQL_MODE_TRANSACTIONAL);
}

static void sql_script_parse__reason_names_line_and_statement(void **state)
{
    (void)state;
    struct sql_script s = parse_ok("CREATE TABLE a (id int);\n\nCREATE INDEX CONCURRENTLY i ON a (id);\n");
    assert_string_equal(s.reason, "line 3: CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
    assert_true(s.statements[1].no_transaction);
    sql_script_free(&s);
}

static void sql_script_parse__syntax_error_position(void **state)
{
    (void)state;
    struct sql_script s;
    struct sql_error err;
    const char *ascii = "SELECT 1;\nSELECT 1 2;";
    assert_int_equal(sql_script_parse(ascii, strlen(ascii), &s, &err), -1);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 10);
    assert_non_null(strstr(err.message, "syntax error"));
    const char *utf8 = "SELECT 'æøå';\nSELECT 'ÆØÅ' +;";               /* multibyte before it */
    assert_int_equal(sql_script_parse(utf8, strlen(utf8), &s, &err), -1);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 15);
}

static void sql_script_parse__nul_byte(void **state)
{
    (void)state;
    struct sql_script s;
    struct sql_error err;
    const char text[] = "SELECT 1;\nSELECT\0 2;";
    assert_int_equal(sql_script_parse(text, sizeof text - 1, &s, &err), -1);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "NUL byte"));
}

static void sql_script_parse_json__hands_over_the_same_tree(void **state)
{
    (void)state;
    struct sql_script s;
    struct sql_error err;
    const char *text = "CREATE TABLE a (id int);\nDROP INDEX i;";
    char *json = NULL;
    assert_int_equal(sql_script_parse_json(text, strlen(text), &s, &json, &err), 0);
    assert_int_equal(s.count, 2);
    char *alone = sql_parse_json(text, strlen(text), &err);
    assert_non_null(json);
    assert_non_null(alone);
    assert_string_equal(json, alone);  /* what sql.parse reads, from the one parse */
    free(json);
    free(alone);
    sql_script_free(&s);
    const char *broken = "SELECT 1 2;";
    json = (char *)"not touched";
    assert_int_equal(sql_script_parse_json(broken, strlen(broken), &s, &json, &err), -1);
    assert_null(json);
    assert_int_equal(err.line, 1);
}

static void sql_char_to_byte__multibyte(void **state)
{
    (void)state;
    const char *text = "aæb\nø";
    assert_int_equal(sql_char_to_byte(text, strlen(text), 1), 0);
    assert_int_equal(sql_char_to_byte(text, strlen(text), 2), 1);
    assert_int_equal(sql_char_to_byte(text, strlen(text), 3), 3);  /* 'b' after 2-byte æ */
    assert_int_equal(sql_char_to_byte(text, strlen(text), 99), strlen(text));
    int line, column;
    sql_line_column(text, strlen(text), 5, &line, &column);
    assert_int_equal(line, 2);
    assert_int_equal(column, 1);
    sql_line_column(text, strlen(text), 3, &line, &column);
    assert_int_equal(column, 3);
}

static void sql_read_only_problem__reads_pass(void **state)
{
    (void)state;
    const char *reads[] = {
        "SELECT 1", "SELECT name FROM stallmig.migrations WHERE outcome = $1",
        "SHOW lock_timeout", "EXPLAIN SELECT * FROM t", "SELECT 1; SELECT 2",
        "WITH x AS (SELECT 1) SELECT * FROM x", "SELECT 'set_config(1)'",
    };
    int line;
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        const char *problem = sql_read_only_problem(reads[i], strlen(reads[i]), &line);
        if (problem)
            print_error("refused: %s (%s)\n", reads[i], problem);
        assert_null(problem);
    }
}

static void sql_read_only_problem__writes_and_escapes_refused(void **state)
{
    (void)state;
    const char *writes[] = {
        "INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t", "CREATE TABLE x (a int)",
        "SET default_transaction_read_only = off", "RESET ALL", "BEGIN READ WRITE",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "DISCARD ALL",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT pg_catalog.set_config('transaction_read_only', 'off', true)",
        "DO $$ BEGIN PERFORM 1; END $$", "COPY t FROM STDIN", "CALL p()",
        "SELECT 1;\nDROP TABLE t",
    };
    int line;
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        const char *problem = sql_read_only_problem(writes[i], strlen(writes[i]), &line);
        if (problem == NULL)
            print_error("accepted: %s\n", writes[i]);
        assert_non_null(problem);
    }
    sql_read_only_problem("SELECT 1;\nDROP TABLE t", 22, &line);
    assert_int_equal(line, 2);
    assert_non_null(sql_read_only_problem("SELEC 1", 7, &line));   /* unparsable: refused */
}

/* problem_of(text): the read-only problem of text, NULL when it only reads. */
static const char *problem_of(const char *text, int *line)
{
    return sql_read_only_problem(text, strlen(text), line);
}

/* Each form a READ ONLY transaction (or a pooler) let through, refused by
 * name, with the statement's line. */
static void sql_read_only_problem__hidden_writes_and_actions_refused(void **state)
{
    (void)state;
    static const struct { const char *sql, *says; } cases[] = {
        {"WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d", "WITH d AS (DELETE ...) writes"},
        {"SELECT (WITH u AS (UPDATE t SET a = 1 RETURNING a) SELECT max(a) FROM u)", "WITH u AS (UPDATE ...) writes"},
        {"WITH a AS (SELECT 1), b AS (WITH c AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT * FROM c) "
         "SELECT * FROM b", "WITH c AS (INSERT ...) writes"},
        {"EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN ANALYZE runs the DELETE it explains"},
        {"EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", "EXPLAIN ANALYZE runs the UPDATE it explains"},
        {"EXPLAIN INSERT INTO t VALUES (1)", "EXPLAIN of INSERT"},
        {"EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1", "EXPLAIN ANALYZE runs the CREATE TABLE AS"},
        {"EXPLAIN ANALYZE WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d",
         "EXPLAIN ANALYZE of a statement that is not read-only: WITH d AS (DELETE ...) writes"},
        {"EXPLAIN ANALYZE SELECT nextval('s')", "nextval() advances a sequence"},
        {"SELECT * INTO newtable FROM t", "SELECT ... INTO newtable creates a table"},
        {"SELECT * FROM t FOR UPDATE", "SELECT ... FOR UPDATE locks rows"},
        {"SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", "FOR NO KEY UPDATE locks rows"},
        {"SELECT * FROM (SELECT * FROM t FOR SHARE) s", "FOR SHARE locks rows"},
        {"SELECT * FROM t FOR KEY SHARE OF t", "FOR KEY SHARE locks rows"},
        {"SELECT lo_create(0)", "lo_create() is a large-object function"},
        {"SELECT * FROM pg_catalog.lo_import('/etc/passwd')", "lo_import() is a large-object"},
        {"SELECT lo_unlink(16384), lowrite(0, 'x')", "lo_unlink()"},
        {"SELECT pg_reload_conf()", "pg_reload_conf() reloads the server's configuration"},
        {"SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "pg_terminate_backend() ends another session"},
        {"SELECT pg_cancel_backend(1)", "pg_cancel_backend() cancels another session's query"},
        {"SELECT pg_rotate_logfile()", "pg_rotate_logfile() acts on the server"},
        {"SELECT pg_switch_wal()", "pg_switch_wal() acts on the server"},
        {"SELECT pg_create_restore_point('x')", "pg_create_restore_point() acts on the server"},
        {"SELECT pg_promote()", "pg_promote() acts on the server"},
        {"SELECT pg_advisory_lock(1)", "pg_advisory_lock() takes or releases an advisory lock"},
        {"SELECT pg_advisory_unlock_all()", "pg_advisory_unlock_all() takes or releases"},
        {"SELECT pg_advisory_xact_lock_shared(1, 2)", "pg_advisory_xact_lock_shared()"},
        {"SELECT pg_try_advisory_lock(6004233339220839751)", "pg_try_advisory_lock() takes an advisory lock"},
        {"SELECT nextval('s')", "nextval() advances a sequence"},
        {"SELECT PG_CATALOG.SETVAL('s', 1)", "setval() sets a sequence"},
        {"SELECT * FROM dblink_exec('dbname=x', 'DELETE FROM t')", "dblink_exec() runs SQL on another connection"},
        {"SELECT * FROM dblink('dbname=x', 'DELETE FROM t RETURNING 1') AS r(a int)", "dblink() runs SQL"},
        {"SELECT pg_notify('jobs', 'go')", "pg_notify() sends a notification"},
        {"SELECT 1 WHERE EXISTS (SELECT pg_drop_replication_slot('s'))", "pg_drop_replication_slot()"},
        {"SELECT query_to_xml('SELECT 1', false, false, ''), set_config('a.b', 'c', false)",
         "set_config() could turn read-only mode off"},
    };
    int line;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *problem = problem_of(cases[i].sql, &line);
        if (problem == NULL || strstr(problem, cases[i].says) == NULL)
            print_error("%s: got [%s], expected [%s]\n", cases[i].sql, problem ? problem : "(accepted)",
                        cases[i].says);
        assert_non_null(problem);
        assert_non_null(strstr(problem, cases[i].says));
        assert_int_equal(line, 1);
    }
    assert_non_null(problem_of("SELECT 1;\n\n  WITH d AS (DELETE FROM t RETURNING 1) SELECT 1", &line));
    assert_int_equal(line, 3);
}

/* Reads that look like the refused forms stay allowed: names in strings,
 * columns and tables called like functions, read-only functions. */
static void sql_read_only_problem__lookalike_reads_pass(void **state)
{
    (void)state;
    const char *reads[] = {
        "SELECT 'DELETE FROM t', 'lo_create(0)', 'SELECT * INTO x FROM t'",
        "WITH x AS (SELECT 1), y AS (SELECT * FROM x) SELECT * FROM y",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
        "EXPLAIN SELECT * FROM t", "EXPLAIN ANALYZE SELECT count(*) FROM t",
        "EXPLAIN (ANALYZE, FORMAT json) SELECT 1",
        "SELECT currval('s'), lastval()", "SELECT last_value FROM s",
        "SELECT pg_backend_pid(), pg_is_in_recovery(), current_setting('lock_timeout')",
        "SELECT lo FROM t", "SELECT nextval FROM t", "SELECT t.lo_create FROM t",
        "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory'",
        "SELECT query_to_xml(format('SELECT count(*) FROM %I', 't'), false, true, '')",
        "SELECT * FROM stallmig.migrations ORDER BY name", "SHOW search_path",
    };
    int line;
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        const char *problem = problem_of(reads[i], &line);
        if (problem)
            print_error("refused: %s (%s)\n", reads[i], problem);
        assert_null(problem);
        assert_int_equal(line, 0);
    }
}

static void sql_host_schema_problem__writes_naming_stallmig_found(void **state)
{
    (void)state;
    static const struct { const char *sql, *says; } cases[] = {
        {"INSERT INTO stallmig.migrations (name) VALUES ('x')", "names stallmig.migrations, which only the host writes"},
        {"UPDATE \"stallmig\".migrations SET outcome = 'applied'", "names stallmig.migrations"},
        {"DELETE FROM StallMig.audit", "names stallmig.audit"},
        {"TRUNCATE stallmig.identity", "names stallmig.identity"},
        {"WITH d AS (DELETE FROM stallmig.migrations RETURNING 1) SELECT count(*) FROM d", "names stallmig.migrations"},
        {"INSERT INTO public.copy SELECT * FROM stallmig.migrations", "names stallmig.migrations"},
        {"DROP TABLE stallmig.migrations", "names stallmig.migrations"},
        {"DROP SCHEMA stallmig CASCADE", "names the schema stallmig"},
        {"DROP SCHEMA scratch, stallmig", "names the schema stallmig"},
        {"ALTER SCHEMA stallmig RENAME TO old", "names the schema stallmig"},
        {"ALTER SCHEMA old RENAME TO stallmig", "names the schema stallmig"},
        {"ALTER SCHEMA stallmig OWNER TO someone", "names the schema stallmig"},
        {"COMMENT ON SCHEMA stallmig IS 'x'", "names the schema stallmig"},
        {"GRANT ALL ON SCHEMA stallmig TO app", "names the schema stallmig"},
        {"REVOKE ALL ON ALL TABLES IN SCHEMA stallmig FROM app", "names the schema stallmig"},
        {"ALTER DEFAULT PRIVILEGES IN SCHEMA stallmig GRANT SELECT ON TABLES TO app", "names the schema stallmig"},
        {"CREATE SCHEMA stallmig", "names the schema stallmig"},
        {"CREATE TABLE stallmig.x (id int)", "names stallmig.x"},
        {"CREATE FUNCTION stallmig.f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "names stallmig.f"},
        {"CREATE EXTENSION hstore SCHEMA stallmig", "names the schema stallmig"},
        {"ALTER TABLE public.t SET SCHEMA stallmig", "names the schema stallmig"},
        {"ALTER TABLE stallmig.migrations ADD COLUMN x int", "names stallmig.migrations"},
        {"CREATE TRIGGER t BEFORE INSERT ON stallmig.migrations FOR EACH ROW EXECUTE FUNCTION f()",
         "names stallmig.migrations"},
        {"SET search_path = stallmig, public", "puts stallmig on the search_path"},
        {"SET search_path TO \"$user\", \"StallMig\"", "puts stallmig on the search_path"},
        {"ALTER ROLE app SET search_path = 'public, stallmig'", "puts stallmig on the search_path"},
        {"SELECT set_config('search_path', 'stallmig', false)", "puts stallmig on the search_path"},
        {"SET SCHEMA 'stallmig'", "puts stallmig on the search_path"},
        {"DO $$ BEGIN DELETE FROM stallmig.migrations; END $$", "a string in it"},
        {"DO $$ BEGIN EXECUTE 'TRUNCATE \"stallmig\".audit'; END $$", "a string in it"},
        {"DO $$ BEGIN EXECUTE format('DROP SCHEMA %I CASCADE', 'stallmig'); END $$", "a string in it"},
        {"CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DELETE FROM stallmig.audit $$", "a string in it"},
        {"SELECT dblink_exec('dbname=x', 'DELETE FROM stallmig.migrations')", "a string in it"},
        {"SELECT 1;\nCREATE TABLE a (id int);\n\nDROP SCHEMA stallmig", "names the schema stallmig"},
    };
    int line;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *problem = sql_host_schema_problem(cases[i].sql, strlen(cases[i].sql), &line);
        if (problem == NULL || strstr(problem, cases[i].says) == NULL)
            print_error("%s: got [%s], expected [%s]\n", cases[i].sql, problem ? problem : "(none)",
                        cases[i].says);
        assert_non_null(problem);
        assert_non_null(strstr(problem, cases[i].says));
        assert_int_equal(line, strchr(cases[i].sql, '\n') ? 4 : 1);
    }
    assert_string_equal(sql_host_schema_problem("DELETE FROM stallmig.migrations", 31, &line),
                        "it is not read-only and names stallmig.migrations, which only the host writes");
    assert_string_equal(sql_host_schema_problem("SELEC 1", 7, &line), "it cannot be parsed");
}

static void sql_host_schema_problem__reads_and_other_schemas_pass(void **state)
{
    (void)state;
    const char *texts[] = {
        "SELECT name, checksum FROM stallmig.migrations WHERE outcome = $1 ORDER BY name",
        "SELECT * FROM \"stallmig\".identity LIMIT 1", "EXPLAIN SELECT * FROM stallmig.audit",
        "SHOW search_path", "SELECT to_regclass('stallmig.migrations')",
        "CREATE TABLE public.users (id int, stallmig_note text)",
        "CREATE SCHEMA stallmig_archive", "CREATE TABLE stallmigration.x (id int)",
        "INSERT INTO notes (body) VALUES ('we use stallmig for migrations')",
        "UPDATE t SET a = b.stallmig FROM b", "CREATE TABLE stallmig (id int)",
        "SET search_path = public, app", "DO $$ BEGIN PERFORM 1; END $$",
        "DROP SCHEMA scratch CASCADE", "ALTER TABLE public.t SET SCHEMA archive",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT count(*) FROM mystallmig.x'",
        "", "-- DROP SCHEMA stallmig\nSELECT 1",
    };
    int line;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *problem = sql_host_schema_problem(texts[i], strlen(texts[i]), &line);
        if (problem)
            print_error("found: %s (%s)\n", texts[i], problem);
        assert_null(problem);
        assert_int_equal(line, 0);
    }
}

static void sql_mode_name__names(void **state)
{
    (void)state;
    assert_string_equal(sql_mode_name(SQL_MODE_TRANSACTIONAL), "transactional");
    assert_string_equal(sql_mode_name(SQL_MODE_SELF_MANAGED), "self-managed");
    assert_string_equal(sql_mode_name(SQL_MODE_NON_TRANSACTIONAL), "non-transactional");
}

/* Found by fuzz_sqlparse: 1000 unary '+' parse, but their tree nests deeper
 * than the JSON reader goes; the read-only check said "statement at line 0"
 * and the splitter gave no reason. */
static void sql_nesting_deeper_than_the_reader__clear_error_at_line_1(void **state)
{
    (void)state;
    char text[1100] = "SELECT ";
    memset(text + 7, '+', 1000);
    strcpy(text + 1007, "1;");
    struct sql_script script;
    struct sql_error err;
    assert_int_equal(sql_script_parse(text, strlen(text), &script, &err), -1);
    assert_non_null(strstr(err.message, "nested deeper than"));
    assert_non_null(strstr(err.message, "simplify"));
    assert_int_equal(err.line, 1);
    int line = 0;
    const char *problem = sql_read_only_problem(text, strlen(text), &line);
    assert_string_equal(problem, "it is nested too deeply to be checked");
    assert_int_equal(line, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sql_script_parse__prisma_style_boundaries),
        cmocka_unit_test(sql_script_parse__crlf_and_bom),
        cmocka_unit_test(sql_script_parse__empty_and_comment_only),
        cmocka_unit_test(sql_script_parse__dollar_quotes_hold_semicolons),
        cmocka_unit_test(sql_script_parse__e_strings_with_escaped_quotes),
        cmocka_unit_test(sql_script_parse__nested_block_comments),
        cmocka_unit_test(sql_script_parse__semicolons_in_quoted_identifiers),
        cmocka_unit_test(sql_script_parse__non_transactional_statements),
        cmocka_unit_test(sql_script_parse__transactional_lookalikes),
        cmocka_unit_test(sql_script_parse__own_transaction_is_self_managed),
        cmocka_unit_test(sql_script_parse__no_transaction_marker),
        cmocka_unit_test(sql_script_parse__reason_names_line_and_statement),
        cmocka_unit_test(sql_script_parse__syntax_error_position),
        cmocka_unit_test(sql_script_parse__nul_byte),
        cmocka_unit_test(sql_script_parse_json__hands_over_the_same_tree),
        cmocka_unit_test(sql_char_to_byte__multibyte),
        cmocka_unit_test(sql_read_only_problem__reads_pass),
        cmocka_unit_test(sql_read_only_problem__writes_and_escapes_refused),
        cmocka_unit_test(sql_read_only_problem__hidden_writes_and_actions_refused),
        cmocka_unit_test(sql_read_only_problem__lookalike_reads_pass),
        cmocka_unit_test(sql_host_schema_problem__writes_naming_stallmig_found),
        cmocka_unit_test(sql_host_schema_problem__reads_and_other_schemas_pass),
        cmocka_unit_test(sql_mode_name__names),
        cmocka_unit_test(sql_nesting_deeper_than_the_reader__clear_error_at_line_1),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    sql_release();
    return failed;
}
