# verify.lua: the runbook's review questions answered with evidence from the
# target database (data at risk, rollback plan, a rehearsal), read-only
# unless --rehearse.

# A table of people (5 rows, 2 nicknames, one longer than 4 characters), an
# empty table, and a schema of two tables.
seed_people() {
  psql_q "CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, nickname text);
    INSERT INTO people SELECT g, 'person ' || g, NULL FROM generate_series(1, 5) g;
    UPDATE people SET nickname = CASE id WHEN 1 THEN 'al' WHEN 2 THEN 'bobby-b' END WHERE id <= 2;
    CREATE TABLE \"Empty Table\" (id int);
    CREATE SCHEMA legacy; CREATE TABLE legacy.a (id int); CREATE TABLE legacy.b (id int);
    INSERT INTO legacy.a SELECT generate_series(1, 3); INSERT INTO legacy.b VALUES (1);" >/dev/null
}

# The evidence module on hand-made targets (what lint.check returns).
evidence_script() {
  cat >"$PROJECT/evidence.lua" <<'LUA'
local ctx = ...
local db = require("stallmig.db")
local evidence = require("stallmig.evidence")
local conn <close> = db.connect(ctx.env)
local env = ctx.config.environments[ctx.env]
local targets = {
  { action = "drop_table", table = "people", line = 1 },
  { action = "truncate", schema = "public", table = "Empty Table", line = 2 },
  { action = "delete_all", table = "people", line = 3 },
  { action = "drop_column", table = "people", column = "nickname", line = 4 },
  { action = "alter_type", table = "people", column = "nickname", new_type = "varchar(4)", line = 5 },
  { action = "drop_schema", schema = "legacy", line = 6 },
  { action = "rewrite", table = "people", line = 7 },
  { action = "drop_table", table = "not_there", line = 8 },
  { action = "drop_table", table = "people", new_table = true, line = 9 },
  { action = "drop_column", table = "people", column = "no_such_column", line = 10 },
}
for _, item in ipairs(evidence.gather(conn, env, targets)) do print(evidence.describe(item)) end
LUA
}

test_evidence_counts_exactly_on_a_seeded_database() {
  new_project
  seed_people
  evidence_script
  run_stallrun evidence.lua --env dev
  assert_exit 0
  assert_out_contains "DROP TABLE public.people (line 1): 5 row(s) would be discarded"
  assert_out_contains "TRUNCATE public.Empty Table (line 2): 0 row(s) would be discarded"
  assert_out_contains "DELETE of every row of public.people (line 3): 5 row(s) would be discarded"
  assert_out_contains "DROP COLUMN public.people.nickname (line 4): the column contains 2 non-null value(s) that would be lost"
  assert_out_contains "type change of public.people.nickname (line 5): text -> varchar(4): the column contains 2 non-null value(s), 1 longer than 4"
  assert_out_contains "DROP SCHEMA legacy (line 6): 2 table(s) holding 4 row(s) would be discarded"
  assert_out_contains "rewrite of public.people (line 7): the table holds 5 row(s), $(psql_q "SELECT pg_size_pretty(pg_total_relation_size('people'))")"
  assert_out_contains "DROP TABLE not_there (line 8): does not exist yet, nothing to lose"
  assert_out_contains "DROP TABLE people (line 9): created in this run, nothing to lose"
  assert_out_contains "DROP COLUMN public.people.no_such_column (line 10): does not exist yet, nothing to lose"
}

test_evidence_uses_catalog_estimates_at_or_above_exact_count_below() {
  new_project
  seed_people
  echo "exact_count_below = 0" >>"$PROJECT/stallmig.ini"
  psql_q "ANALYZE" >/dev/null
  evidence_script
  run_stallrun evidence.lua --env dev
  assert_exit 0
  assert_out_contains "DROP TABLE public.people (line 1): ~5 row(s) would be discarded"
  assert_out_contains "DROP COLUMN public.people.nickname (line 4): the column contains ~2 non-null value(s) that would be lost"
  assert_out_contains "text -> varchar(4): the column contains ~2 non-null value(s), ~1 longer than 4"
  assert_out_contains "DROP SCHEMA legacy (line 6): 2 table(s) holding ~4 row(s) would be discarded"
}

# ---- the workflow ------------------------------------------------------------

# A project with people applied (seeded), and [env.staging]: protected, its
# own database, the same history applied.
verify_project() {
  new_project
  add_migration 20240101000000_people $'CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, nickname text);\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  psql_q "INSERT INTO people (name, nickname) SELECT 'person ' || g, CASE WHEN g <= 2 THEN 'nick' END FROM generate_series(1, 5) g" >/dev/null
  sed -i 's/^protected = false$/protected = false\nlock_timeout = 5s/' "$PROJECT/stallmig.ini"
  STAGING_URL=$(new_db staging)
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.staging]
url = $STAGING_URL
lock_wait = 60s
INI
  export STAGING_URL
}

# Everything a verify may not change: the schema, every table's row count,
# and every row of stallmig.* (history, marker, audit trail).
db_state() {
  local url=${1:-$DB_URL}
  "$PGBIN/pg_dump" --schema-only --no-owner -d "$url" >"$CASE_TMP/dump" || fail "pg_dump failed"
  "$PGBIN/pg_dump" --data-only --schema=stallmig -d "$url" >>"$CASE_TMP/dump" 2>/dev/null || true
  grep -Ev '^\\(un)?restrict ' "$CASE_TMP/dump"    # (their key is random per dump)
  psql_q "SELECT string_agg(format('%s=%s', c.oid::regclass, (xpath('/row/n/text()',
      query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text), ','
      ORDER BY c.oid::regclass::text)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')" "$url"
  if [ "$(psql_q "SELECT to_regclass('people') IS NOT NULL" "$url")" = t ]; then
    psql_q "SELECT string_agg(id || ':' || name || ':' || coalesce(nickname, ''), ',' ORDER BY id) FROM people" "$url"
  fi
}

test_verify_is_read_only_without_rehearse() {
  verify_project
  add_migration 20240102000000_notes $'CREATE TABLE notes (id int);\nINSERT INTO notes VALUES (1);\n'
  db_state >"$CASE_TMP/before"
  run_stallrun workflows/verify.lua --env dev
  assert_exit 0
  assert_out_contains "Verifying 1 pending migration(s) against dev (read-only):"
  db_state >"$CASE_TMP/after"
  cmp -s "$CASE_TMP/before" "$CASE_TMP/after" || fail "verify changed dev: $(diff "$CASE_TMP/before" "$CASE_TMP/after")"
  # a protected environment, in CI without --yes: reads, writes nothing
  db_state "$STAGING_URL" >"$CASE_TMP/before"
  CI=true run_stallrun workflows/verify.lua --env staging
  assert_exit 0
  assert_out_contains "Verifying 2 pending migration(s) against staging (read-only):"
  db_state "$STAGING_URL" >"$CASE_TMP/after"
  cmp -s "$CASE_TMP/before" "$CASE_TMP/after" || fail "verify changed staging"
  assert_eq "" "$(psql_q "SELECT coalesce(to_regclass('stallmig.audit')::text, '') || coalesce(to_regclass('stallmig.identity')::text, '')" "$STAGING_URL")" "an audit row or marker on staging"
}

test_verify_says_whether_down_sql_exists() {
  verify_project
  add_migration 20240102000000_notes $'CREATE TABLE notes (id int);\n'
  printf 'DROP TABLE notes;\n' >"$PROJECT/migrations/20240102000000_notes/down.sql"
  add_migration 20240103000000_tags $'CREATE TABLE tags (id int);\n'
  run_stallrun workflows/verify.lua --env dev
  assert_exit 0
  assert_out_contains "down.sql present (migrations/20240102000000_notes/down.sql)"
  assert_out_contains "no down.sql: undo with a new, corrective migration, or restore the backup taken before deploy"
  assert_out_contains "Verdict: PASS: 0 error(s), 1 warning(s), 0 suppressed (dev)"
  run_stallrun workflows/verify.lua --env dev --json
  assert_exit 0
  assert_eq "True False" "$(json_get "['migrations'][0]['down_sql']['present'], d['migrations'][1]['down_sql']['present']" | tr -d '(),')"
}

test_rehearsal_leaves_the_database_unchanged() {
  verify_project
  add_migration 20240102000000_change $'INSERT INTO people (name) VALUES (\'new\');\nUPDATE people SET nickname = \'x\' WHERE id <= 3;\nDELETE FROM people WHERE id = 5;\nALTER TABLE people ADD COLUMN email text;\nCREATE TABLE tags (id int);\nSET lock_timeout = \'1h\';\n'
  add_migration 20240103000000_more $'CREATE INDEX people_name ON people (name);\nINSERT INTO tags VALUES (1), (2);\n'
  db_state >"$CASE_TMP/before"
  run_stallrun workflows/verify.lua --env dev --rehearse
  assert_exit 0
  assert_out_contains "Verifying 2 pending migration(s) against dev (rehearsed in one transaction, rolled back):"
  assert_out_contains "1 row(s) inserted, 3 updated, 1 deleted (rolled back)"
  assert_out_contains "2 row(s) inserted, 0 updated, 0 deleted (rolled back)"
  db_state >"$CASE_TMP/after"
  cmp -s "$CASE_TMP/before" "$CASE_TMP/after" || fail "the rehearsal changed dev: $(diff "$CASE_TMP/before" "$CASE_TMP/after")"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'stallrun%'")" "a session left"
  run_stallrun workflows/verify.lua --env dev --rehearse --json
  assert_exit 0
  assert_eq "ok 1 3 1" "$(json_get "['migrations'][0]['rehearsal']['status'], d['migrations'][0]['rehearsal']['rows']['inserted'], d['migrations'][0]['rehearsal']['rows']['updated'], d['migrations'][0]['rehearsal']['rows']['deleted']" | tr -d "(),'")"
  assert_eq "5s 10min True False" "$(json_get "['rehearsal']['lock_timeout'], d['rehearsal']['statement_timeout'], d['rehearsal']['rolled_back'], d['rehearsal']['audited']" | tr -d "(),'")"
}

test_rehearse_is_refused_where_the_ini_does_not_allow_it() {
  verify_project
  add_migration 20240102000000_notes $'CREATE TABLE notes (id int);\n'
  CI=true run_stallrun workflows/verify.lua --env staging --rehearse --yes
  assert_exit 3
  assert_err_contains "--rehearse is not allowed on staging: it is protected"
  assert_err_contains "add 'rehearse = true' to [env.staging]"
  sed -i 's/^\[env.dev\]$/[env.dev]\nrehearse = false/' "$PROJECT/stallmig.ini"
  run_stallrun workflows/verify.lua --env dev --rehearse
  assert_exit 3
  assert_err_contains "--rehearse is not allowed on dev"
}

test_rehearse_on_a_protected_environment_needs_yes_and_is_audited() {
  verify_project
  echo "rehearse = true" >>"$PROJECT/stallmig.ini"
  add_migration 20240102000000_notes $'CREATE TABLE notes (id int);\nINSERT INTO notes VALUES (1);\n'
  CI=true run_stallrun workflows/verify.lua --env staging --rehearse
  assert_exit 3
  assert_eq "" "$(psql_q "SELECT to_regclass('stallmig.audit')" "$STAGING_URL")" "audited without confirmation"
  db_state "$STAGING_URL" >"$CASE_TMP/before"
  CI=true run_stallrun workflows/verify.lua --env staging --rehearse --yes
  assert_exit 0
  assert_err_contains "warning: writing to protected environment staging: verify --rehearse: 2 pending migration(s)"
  assert_out_contains "The rehearsal on protected staging was recorded in stallmig.audit."
  assert_eq "0" "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename IN ('people', 'notes')" "$STAGING_URL")" "the rehearsal left tables behind"
  assert_eq "1" "$(psql_q "SELECT count(*) FROM stallmig.audit WHERE action = 'verify --rehearse' AND detail LIKE '%rehearsed the pending migrations in one transaction, rolled back%'" "$STAGING_URL")"
}

test_rehearsal_blocked_by_a_lock_names_the_migration() {
  verify_project
  sed -i 's/^lock_timeout = 5s$/lock_timeout = 500ms/' "$PROJECT/stallmig.ini"
  add_migration 20240102000000_tags $'CREATE TABLE tags (id int);\n'
  add_migration 20240103000000_email $'CREATE TABLE x (id int);\nALTER TABLE people ADD COLUMN email text;\n'
  hold_in_background blocker "BEGIN" "LOCK TABLE people IN ACCESS SHARE MODE"
  run_stallrun workflows/verify.lua --env dev --rehearse
  release_background blocker
  assert_exit 1
  assert_out_contains 'FAILED in the rehearsal after'
  assert_out_contains 'migration 20240103000000_email waited 500ms (lock_timeout of dev) for a lock on "people" held by another session, and gave up at migrations/20240103000000_email/migration.sql:2'
  assert_out_contains "Verdict: FAIL: 1 error(s)"
  assert_eq "|" "$(psql_q "SELECT coalesce(to_regclass('tags')::text, '') || '|' || coalesce(to_regclass('x')::text, '')")" "the rehearsal left tables behind"
}

test_sigint_during_a_rehearsal_rolls_back_and_releases_every_lock() {
  verify_project
  add_migration 20240102000000_slow $'CREATE TABLE tags (id int);\nUPDATE people SET nickname = \'gone\';\nSELECT pg_sleep(30);\n'
  db_state >"$CASE_TMP/before"
  (cd "$PROJECT" && exec "$STALLRUN" workflows/verify.lua --env dev --rehearse) >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  local pid=$! tries=0
  until [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND application_name LIKE 'stallrun verify%'")" = 1 ]; do
    tries=$((tries + 1)); [ $tries -lt 200 ] || { kill "$pid"; fail "the rehearsal never reached pg_sleep"; }; sleep 0.05
  done
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_eq 130 "$rc" "exit status after SIGINT"
  ! grep -qE 'Sanitizer|runtime error:' "$CASE_TMP/err" || fail "sanitizer report: $(cat "$CASE_TMP/err")"
  grep -q "interrupted by SIGINT" "$CASE_TMP/err" || fail "no interruption message: $(cat "$CASE_TMP/err")"
  db_state >"$CASE_TMP/after"
  cmp -s "$CASE_TMP/before" "$CASE_TMP/after" || fail "the interrupted rehearsal changed dev"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" "an advisory lock left"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' OR application_name LIKE 'stallrun%'")" "a session left"
}

test_error_finding_exits_1_warnings_and_suppressed_exit_0() {
  verify_project
  add_migration 20240102000000_drop_nickname $'-- the nicknames moved to profiles\nALTER TABLE people DROP COLUMN nickname;\n'
  run_stallrun workflows/verify.lua --env dev
  assert_exit 1
  assert_out_contains "error       migrations/20240102000000_drop_nickname/migration.sql:2:1  drop-column  DROP COLUMN people.nickname deletes its values"
  assert_out_contains "suggestion: stop reading and writing the column in a release first, then drop it in a later migration"
  assert_out_contains "DROP COLUMN public.people.nickname (line 2): the column contains 2 non-null value(s) that would be lost"
  assert_out_contains "Verdict: FAIL: 1 error(s), 1 warning(s), 0 suppressed (dev): fix the errors before deploying"
  # the same finding suppressed with a reason: printed with it, not counted
  add_migration 20240102000000_drop_nickname $'-- stallmig:allow drop-column: nicknames moved to profiles in 2024-01\nALTER TABLE people DROP COLUMN nickname;\n'
  printf 'ALTER TABLE people ADD COLUMN nickname text;\n' >"$PROJECT/migrations/20240102000000_drop_nickname/down.sql"
  run_stallrun workflows/verify.lua --env dev
  assert_exit 0
  assert_out_contains "suppressed  migrations/20240102000000_drop_nickname/migration.sql:2:1  drop-column  DROP COLUMN people.nickname deletes its values"
  assert_out_contains "reason: nicknames moved to profiles in 2024-01"
  assert_out_contains "Verdict: PASS: 0 error(s), 0 warning(s), 1 suppressed (dev)"
  # only a warning (an index built without CONCURRENTLY): exit 0
  rm -r "$PROJECT/migrations/20240102000000_drop_nickname"
  add_migration 20240103000000_index $'CREATE INDEX people_name ON people (name);\n'
  printf 'DROP INDEX people_name;\n' >"$PROJECT/migrations/20240103000000_index/down.sql"
  run_stallrun workflows/verify.lua --env dev
  assert_exit 0
  assert_out_contains "warning     migrations/20240103000000_index/migration.sql:1:1  index-not-concurrent"
  assert_out_contains "Verdict: PASS: 0 error(s), 1 warning(s), 0 suppressed (dev)"
}

test_json_document() {
  verify_project
  add_migration 20240102000000_drop_nickname $'ALTER TABLE people DROP COLUMN nickname;\n'
  run_stallrun workflows/verify.lua --env dev --json --rehearse
  assert_exit 1
  [ "$(head -c1 "$CASE_TMP/out")" = "{" ] && [ "$(wc -l <"$CASE_TMP/out")" = 1 ] || fail "stdout is not one JSON document"
  assert_eq "verify dev False 1" "$(json_get "['workflow'], d['environment'], d['ok'], d['pending']" | tr -d "(),'")"
  assert_eq "drop-column error 1 1" "$(json_get "['migrations'][0]['findings'][0]['rule'], d['migrations'][0]['findings'][0]['severity'], d['migrations'][0]['findings'][0]['line'], d['migrations'][0]['findings'][0]['column']" | tr -d "(),'")"
  assert_eq "drop_column nickname 2 True True" "$(json_get "['migrations'][0]['evidence'][0]['action'], d['migrations'][0]['evidence'][0]['column'], d['migrations'][0]['evidence'][0]['non_null'], d['migrations'][0]['evidence'][0]['exact'], d['migrations'][0]['evidence'][0]['at_risk']" | tr -d "(),'")"
  assert_eq "ok False 1 0" "$(json_get "['migrations'][0]['rehearsal']['status'], d['migrations'][0]['down_sql']['present'], d['verdict']['errors'], d['history']['problems'].__len__()" | tr -d "(),'")"
  assert_eq "True 1" "$(json_get "['history']['ok'], d['history']['applied']" | tr -d "(),'")"
  # a failure before the report (a bad --format) is still one document
  run_stallrun workflows/verify.lua --env dev --json --format github
  assert_exit 2
  assert_eq "False usage" "$(json_get "['ok'], d['error']['kind']" | tr -d "(),'")"
}

test_github_format_annotates_the_files() {
  verify_project
  add_migration 20240102000000_drop_nickname $'-- stallmig:allow drop-column: moved, 50% done\nALTER TABLE people DROP COLUMN nickname;\nCREATE INDEX people_name ON people (name);\n'
  # the rule's own suggestion (its wording belongs to the lint rules)
  printf 'print(require("stallmig.lint.index_not_concurrent").suggestion)\n' >"$PROJECT/suggestion.lua"
  run_stallrun suggestion.lua
  local suggestion=$OUT
  run_stallrun workflows/verify.lua --env dev --format github
  assert_exit 0
  local f=migrations/20240102000000_drop_nickname/migration.sql
  assert_eq "::notice file=$f,line=2,col=1,title=drop-column (suppressed)::DROP COLUMN people.nickname deletes its values%0Asuppressed: moved, 50%25 done
::warning file=$f,line=3,col=1,title=index-not-concurrent::CREATE INDEX on people without CONCURRENTLY blocks writes while it builds%0Asuggestion: $suggestion
::notice file=$f,line=2,title=data::DROP COLUMN public.people.nickname (line 2): the column contains 2 non-null value(s) that would be lost
::notice file=$f,line=3,title=data::lock on public.people (CREATE INDEX without CONCURRENTLY, line 3): the table holds 5 row(s), $(psql_q "SELECT pg_size_pretty(pg_total_relation_size('people'))")
::warning file=$f,title=no rollback plan::no down.sql: undo with a new, corrective migration, or restore the backup taken before deploy
Verdict: PASS: 0 error(s), 2 warning(s), 1 suppressed (dev)" "$OUT" "the annotations"
}

test_github_escapes_messages_and_properties() {
  new_project
  cat >"$PROJECT/annotate.lua" <<'LUA'
local review = require("stallmig.review")
print(review.annotation("error", { file = "a,b:c.sql", line = 3, col = 7, title = "50% a, b: c" }, "one\r\ntwo 100%, ok: yes"))
print(review.annotation("notice", {}, "plain"))
LUA
  run_stallrun annotate.lua
  assert_exit 0
  assert_eq "::error file=a%2Cb%3Ac.sql,line=3,col=7,title=50%25 a%2C b%3A c::one%0D%0Atwo 100%25, ok: yes
::notice::plain" "$OUT"
}

test_edited_or_deleted_applied_migration_fails_verify() {
  verify_project
  printf '\n-- edited\n' >>"$PROJECT/migrations/20240101000000_people/migration.sql"
  run_stallrun workflows/verify.lua --env dev
  assert_exit 1
  assert_out_contains "Applied migrations: 1 applied migration(s) were edited since they were applied:"
  assert_out_contains "hint: never edit an applied migration: restore the file (git checkout) and put the change in a new migration"
  assert_out_contains "Verdict: FAIL: 1 error(s)"
  run_stallrun workflows/verify.lua --env dev --format github
  assert_exit 1
  assert_out_contains "::error file=migrations/20240101000000_people/migration.sql,title=edited applied migration::20240101000000_people was edited since it was applied%0Ahint: never edit an applied migration"
  rm -r "$PROJECT/migrations/20240101000000_people"
  run_stallrun workflows/verify.lua --env dev --json
  assert_exit 1
  assert_eq "missing 20240101000000_people False" "$(json_get "['history']['problems'][0]['state'], d['history']['problems'][0]['name'], d['history']['ok']" | tr -d "(),'")"
}

test_verify_usage_errors() {
  verify_project
  run_stallrun workflows/verify.lua --env dev --format xml
  assert_exit 2
  assert_err_contains "--format xml: expected text, github, html or markdown"
  run_stallrun workflows/verify.lua --env dev --rehearsal
  assert_exit 2
  assert_err_contains "unknown option --rehearsal (this workflow takes --drift, --format, --output, --rehearse)"
  run_stallrun workflows/verify.lua
  assert_exit 2
  mkdir -p "$PROJECT/rules" && printf 'return 42\n' >"$PROJECT/rules/bad.lua"
  sed -i 's|^migrations = migrations$|migrations = migrations\nlint_rules = rules|' "$PROJECT/stallmig.ini"
  run_stallrun workflows/verify.lua --env dev
  assert_exit 2
  assert_err_contains "lint rule"
}

# The rehearsal's own <close> transaction rolls back on SIGINT: the same
# connection, still open after the interruption was caught, sees nothing.
test_sigint_rolls_back_the_rehearsal_transaction_on_its_connection() {
  verify_project
  add_migration 20240102000000_slow $'CREATE TABLE tags (id int);\nSELECT pg_sleep(30);\n'
  cat >"$PROJECT/interrupt.lua" <<'LUA'
local ctx = ...
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local rehearse = require("stallmig.rehearse")
local env = ctx.config.environments.dev
local conn <close> = db.connect("dev")
local found = migrations.discover(ctx.config)
local plan = migrations.plan(found, history.read(conn))
for _, m in ipairs(plan.pending) do migrations.load(m, found) end
local ok, err = pcall(rehearse.run, conn, env, plan.pending)
print("caught", ok, err.kind)
print("status", conn:transaction_status())
print("tags", conn:query("SELECT to_regclass('tags') IS NULL AS gone")[1].gone)
LUA
  (cd "$PROJECT" && exec "$STALLRUN" interrupt.lua --env dev) >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  local pid=$! tries=0
  until [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND application_name LIKE 'stallrun interrupt%'")" = 1 ]; do
    tries=$((tries + 1)); [ $tries -lt 200 ] || { kill "$pid"; fail "never reached pg_sleep"; }; sleep 0.05
  done
  kill -INT "$pid"
  wait "$pid" || true
  assert_eq "caught	false	interrupted
status	idle
tags	true" "$(cat "$CASE_TMP/out")" "after SIGINT $(cat "$CASE_TMP/err")"
}

test_non_transactional_migrations_are_not_rehearsed_nor_those_after() {
  verify_project
  add_migration 20240102000000_tags $'CREATE TABLE tags (id int);\n'
  add_migration 20240103000000_index $'CREATE INDEX CONCURRENTLY people_name ON people (name);\n'
  add_migration 20240104000000_more $'CREATE TABLE more (id int);\n'
  run_stallrun workflows/verify.lua --env dev --rehearse
  assert_exit 0
  assert_out_contains "rehearsed on dev:"
  assert_out_contains "not rehearsed: non-transactional ("
  assert_out_contains "): it cannot run inside the rehearsal's transaction"
  assert_out_contains "not rehearsed: comes after 20240103000000_index, which cannot be rehearsed"
  assert_eq "|" "$(psql_q "SELECT coalesce(to_regclass('tags')::text, '') || '|' || coalesce(to_regclass('people_name')::text, '')")"
}

test_a_migration_that_fails_in_the_rehearsal_fails_verify() {
  verify_project
  add_migration 20240102000000_bad $'CREATE TABLE tags (id int);\nINSERT INTO tags VALUES (1);\nINSERT INTO nope VALUES (1);\n'
  add_migration 20240103000000_after $'CREATE TABLE after_bad (id int);\n'
  run_stallrun workflows/verify.lua --env dev --rehearse
  assert_exit 1
  assert_out_contains 'FAILED in the rehearsal after'
  assert_out_contains 'migration 20240102000000_bad failed in the rehearsal at migrations/20240102000000_bad/migration.sql:3: relation "nope" does not exist (SQLSTATE 42P01)'
  assert_out_contains "not rehearsed: comes after 20240102000000_bad, which failed"
  assert_out_contains "Verdict: FAIL: 1 error(s)"
  run_stallrun workflows/verify.lua --env dev --rehearse --format github
  assert_exit 1
  assert_out_contains "::error file=migrations/20240102000000_bad/migration.sql,line=3,title=rehearsal::FAILED in the rehearsal after"
  assert_eq "" "$(psql_q "SELECT to_regclass('tags')")"
}

test_rehearse_refused_when_the_database_is_marked_as_protected() {
  verify_project
  add_migration 20240102000000_tags $'CREATE TABLE tags (id int);\n'
  psql_q "UPDATE stallmig.identity SET environment = 'staging', protected = true" >/dev/null
  CI=true run_stallrun workflows/verify.lua --env dev --rehearse --yes
  assert_exit 3
  assert_err_contains "verify --rehearse on dev is refused: dev reaches a database marked as belonging to staging (protected)"
  assert_eq "" "$(psql_q "SELECT to_regclass('tags')")"
}

test_drift_is_checked_with_the_flag() {
  verify_project
  psql_q "ALTER TABLE people ADD COLUMN handmade text" >/dev/null
  run_stallrun workflows/verify.lua --env dev
  assert_exit 0
  assert_out_contains "Drift: not checked (--drift replays the applied migrations on a shadow database)."
  run_stallrun workflows/verify.lua --env dev --drift
  assert_exit 1
  assert_out_contains "Drift: 1 difference(s):"
  assert_out_contains "table public.people: column handmade added (text)"
  run_stallrun workflows/verify.lua --env dev --drift --format github
  assert_exit 1
  assert_out_contains "::error title=drift::dev: table public.people: column handmade added (text)"
  psql_q "ALTER TABLE people DROP COLUMN handmade" >/dev/null
  run_stallrun workflows/verify.lua --env dev --drift --json
  assert_exit 0
  assert_eq "0" "$(json_get "['drift']['differences'].__len__()")"
}

test_a_figure_that_cannot_be_read_is_a_warning_not_a_failure() {
  verify_project
  add_migration 20240102000000_drop_people $'-- stallmig:allow drop-table: replaced by persons\nDROP TABLE people;\n'
  printf 'SELECT 1;\n' >"$PROJECT/migrations/20240102000000_drop_people/down.sql"
  local role="reader_$RANDOM"
  psql_q "CREATE ROLE $role LOGIN; GRANT USAGE ON SCHEMA stallmig TO $role; GRANT SELECT ON ALL TABLES IN SCHEMA stallmig TO $role" >/dev/null
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.reader]
url = ${DB_URL/user=postgres/user=$role}
protected = false
lock_timeout = 5s
INI
  run_stallrun workflows/verify.lua --env reader
  psql_q "DROP OWNED BY $role; DROP ROLE $role" >/dev/null
  assert_exit 0
  assert_out_contains "DROP TABLE people (line 2): could not be measured: permission denied for table people"
  assert_out_contains "Verdict: PASS: 0 error(s), 1 warning(s), 1 suppressed (reader)"
}

test_rehearsal_waits_for_a_running_deploy_and_gives_up_after_lock_wait() {
  verify_project
  add_migration 20240102000000_tags $'CREATE TABLE tags (id int);\n'
  sed -i 's/^lock_wait = 60s$/lock_wait = 1s/' "$PROJECT/stallmig.ini"
  hold_in_background the-deploy "SELECT pg_advisory_lock(x'5354414c4c4d4947'::bigint)"
  run_stallrun workflows/verify.lua --env dev --rehearse
  release_background the-deploy
  assert_exit 1
  assert_err_contains "waiting for the deploy lock"
  assert_err_contains "another deploy still holds the deploy lock after 1s"
  # read-only verify never takes the lock: it runs beside a deploy
  run_stallrun workflows/verify.lua --env dev
  assert_exit 0
}

test_rehearsal_statement_timeout() {
  verify_project
  sed -i 's/^lock_timeout = 5s$/lock_timeout = 5s\nstatement_timeout = 200ms/' "$PROJECT/stallmig.ini"
  add_migration 20240102000000_slow $'CREATE TABLE tags (id int);\nSELECT pg_sleep(5);\n'
  run_stallrun workflows/verify.lua --env dev --rehearse
  assert_exit 1
  assert_out_contains "migration 20240102000000_slow failed in the rehearsal at migrations/20240102000000_slow/migration.sql:2: canceling statement due to statement timeout (SQLSTATE 57014)"
  assert_eq "" "$(psql_q "SELECT to_regclass('tags')")"
}

test_nothing_pending() {
  verify_project
  run_stallrun workflows/verify.lua --env dev --rehearse
  assert_exit 0
  assert_out_contains "Nothing to verify: dev has no pending migrations."
  assert_out_contains "Verdict: PASS: 0 error(s), 0 warning(s), 0 suppressed (dev)"
}

test_nothing_rehearsable_asks_for_nothing() {
  verify_project
  echo "rehearse = true" >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 0
  add_migration 20240102000000_index $'CREATE INDEX CONCURRENTLY people_name ON people (name);\n'
  local audit_rows
  audit_rows=$(psql_q "SELECT count(*) FROM stallmig.audit" "$STAGING_URL")
  CI=true run_stallrun workflows/verify.lua --env staging --rehearse --yes
  assert_exit 0
  assert_out_contains "not rehearsed: non-transactional ("
  assert_eq "$audit_rows" "$(psql_q "SELECT count(*) FROM stallmig.audit" "$STAGING_URL")" "an audit row for a rehearsal of nothing"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" "$STAGING_URL")"
}

# Issue 13: every warning the verdict counts is shown where it comes from,
# marked "warning", and summed up by kind above the verdict.
test_every_counted_warning_is_shown() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"          # 7 migrations, no down.sql
  run_stallrun workflows/verify.lua --env dev
  assert_exit 0
  assert_out_contains "Verdict: PASS: 0 error(s), 7 warning(s), 0 suppressed (dev)"
  assert_eq 7 "$(grep -c '^      warning     no down.sql: ' "$CASE_TMP/out")" "warnings shown"
  assert_out_contains "Warnings: 7 without a rollback plan (down.sql) (marked above)."
  run_stallrun workflows/verify.lua --env dev --format github
  assert_eq 7 "$(grep -c '^::warning ' "$CASE_TMP/out")" "warning annotations"
}

# Issue 13: a migration.sql or down.sql of comments only is empty: verify
# flags both, and deploy warns before applying the empty migration.
test_comment_only_files_are_empty() {
  verify_project
  add_migration 20240102000000_nothing_yet $'-- Migration 20240102000000_nothing_yet\n/* to be written */\n'
  printf -- '-- Rollback of 20240102000000_nothing_yet\n' >"$PROJECT/migrations/20240102000000_nothing_yet/down.sql"
  run_stallrun workflows/verify.lua --env dev
  assert_exit 0
  assert_out_contains "warning     migrations/20240102000000_nothing_yet/migration.sql  empty-migration  migration.sql holds no SQL statement, only comments"
  assert_out_contains "warning     down.sql holds only comments (migrations/20240102000000_nothing_yet/down.sql): no rollback plan"
  assert_not_contains "down.sql present"
  assert_out_contains "Verdict: PASS: 0 error(s), 2 warning(s), 0 suppressed (dev)"
  run_stallrun workflows/verify.lua --env dev --json
  assert_eq "True True empty-migration" "$(json_get "['migrations'][0]['down_sql']['present'], d['migrations'][0]['down_sql']['empty'], d['migrations'][0]['findings'][0]['rule']" | tr -d "(),'")"
  run_stallrun workflows/status.lua --env dev
  assert_err_contains "20240102000000_nothing_yet/migration.sql holds no SQL statement, only comments"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "warning: migrations/20240102000000_nothing_yet/migration.sql holds no SQL statement, only comments: deploy applies it as an empty migration"
  run_stallrun workflows/deploy.lua --env dev
  assert_not_contains "holds no SQL statement"                  # applied: said once
}
