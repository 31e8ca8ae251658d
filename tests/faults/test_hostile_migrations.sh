# Hostile migration files: each gets a clear error naming the file, a hint
# and a non-zero exit, and nothing is applied. (Empty and comment-only files,
# BOM/CRLF checksums, a folder without migration.sql, NUL bytes and shared
# timestamps are in tests/integration/.)

# nothing_applied — neither the history nor any table of the migrations exists.
nothing_applied() {
  assert_eq "" "$(psql_q "SELECT to_regnamespace('stallmig')")" "the history schema was created"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "a table was created"
}

# with_timeout — run_stallrun through `timeout 60`, so a hang fails the case
# instead of the whole run.
with_timeout() {
  printf '#!/bin/sh\nexec timeout 60 %q "$@"\n' "$STALLRUN" >"$CASE_TMP/stallrun-timeout"
  chmod +x "$CASE_TMP/stallrun-timeout"
  STALLRUN="$CASE_TMP/stallrun-timeout"
}

is_asan_build() { [[ $(nm -D "$1" 2>/dev/null) == *__asan_init* ]]; }   # no pipe: grep -q + pipefail races

test_100mb_migration_is_refused_before_it_is_read() {
  new_project
  add_migration 20240101000000_small 'CREATE TABLE small (id int);'
  mkdir -p "$PROJECT/migrations/20240102000000_dump"
  { echo 'CREATE TABLE big (id int);'
    yes -- '-- a data dump, padded: INSERT INTO big VALUES (1), (2), (3), (4), (5), (6);' | head -c 100M || true
  } >"$PROJECT/migrations/20240102000000_dump/migration.sql"
  for workflow in deploy status; do
    run_stallrun workflows/$workflow.lua --env dev
    assert_exit 1
    assert_err_contains "stallrun: migrations/20240102000000_dump: migration.sql is larger than 8 MiB, the most stallrun applies (it is 100.0 MiB; nothing was read or sent)"
    assert_err_contains "hint: a file this large is usually a data dump"
  done
  nothing_applied
}

# 20 000 INSERTs (1.5 MB) once took 2.5 GB to parse; now well under 1 GB.
test_many_statement_migration_applies_in_bounded_memory() {
  new_project
  mkdir -p "$PROJECT/migrations/20240101000000_rows"
  { echo 'CREATE TABLE rows (id int PRIMARY KEY, label text);'
    seq 1 20000 | sed "s/.*/INSERT INTO rows VALUES (&, 'row & of the reference data');/"
  } >"$PROJECT/migrations/20240101000000_rows/migration.sql"
  if is_asan_build "$STALLRUN"; then   # ASan reserves terabytes of address space
    run_stallrun workflows/deploy.lua --env dev
  else
    STATUS=0
    (ulimit -v 1000000; run_stallrun workflows/deploy.lua --env dev; exit "$STATUS") || STATUS=$?
  fi
  assert_exit 0
  assert_eq 20000 "$(psql_q "SELECT count(*) FROM rows")"
}

test_non_utf8_migration_is_refused_before_sending() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240102000000_latin1 $'CREATE TABLE b (name text);\n\nINSERT INTO b VALUES (\'bl\xe5b\xe6r\');\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "stallrun: migrations/20240102000000_latin1/migration.sql:3:26: cannot parse 20240102000000_latin1: the file is not UTF-8: byte 0xE5 is not valid UTF-8"
  assert_err_contains "hint: fix the SQL; nothing was sent to the database"
  nothing_applied
}

test_bom_and_crlf_file_fails_at_the_right_line() {
  new_project
  add_migration 20240101000000_crlf $'\xef\xbb\xbfCREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\nINSERT INTO missing VALUES (1);\r\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "failed at migrations/20240101000000_crlf/migration.sql:3:13: relation \"missing\" does not exist"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")" "the first statements stayed applied"
  assert_eq "failed" "$(psql_q "SELECT string_agg(outcome, ',') FROM stallmig.migrations")"
  # the no-transaction marker is seen through a BOM and a CRLF ending
  add_migration 20240101000000_crlf $'\xef\xbb\xbf-- stallmig:no-transaction\r\nCREATE TABLE a (id int);\r\nCREATE INDEX CONCURRENTLY a_id ON a (id);\r\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "non-transactional" "$(psql_q "SELECT mode FROM stallmig.migrations WHERE outcome = 'applied'")"
}

test_symlinks_are_followed_and_dangling_ones_are_errors() {
  new_project
  mkdir -p "$CASE_TMP/shared/20240102000000_linked_folder"
  printf 'CREATE TABLE from_outside (id int);' >"$CASE_TMP/shared/outside.sql"
  printf 'CREATE TABLE linked_folder (id int);' >"$CASE_TMP/shared/20240102000000_linked_folder/migration.sql"
  mkdir -p "$PROJECT/migrations/20240101000000_linked_file" "$PROJECT/inside"
  ln -s "$CASE_TMP/shared/outside.sql" "$PROJECT/migrations/20240101000000_linked_file/migration.sql"
  ln -s "$CASE_TMP/shared/20240102000000_linked_folder" "$PROJECT/migrations/20240102000000_linked_folder"
  printf 'CREATE TABLE from_inside (id int);' >"$PROJECT/inside/c.sql"
  mkdir -p "$PROJECT/migrations/20240103000000_relative"
  ln -s ../../inside/c.sql "$PROJECT/migrations/20240103000000_relative/migration.sql"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "from_outside linked_folder from_inside" "$(psql_q "SELECT to_regclass('from_outside'), to_regclass('linked_folder'), to_regclass('from_inside')" | tr '|' ' ')"
  assert_eq "$(sha256sum <"$CASE_TMP/shared/outside.sql" | cut -d' ' -f1)" \
    "$(psql_q "SELECT checksum FROM stallmig.migrations WHERE name = '20240101000000_linked_file'")" "checksum of the target"

  with_timeout
  mkdir -p "$PROJECT/migrations/20240104000000_dangling_file"
  ln -s "$CASE_TMP/nowhere.sql" "$PROJECT/migrations/20240104000000_dangling_file/migration.sql"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: migrations/20240104000000_dangling_file: migration.sql is a symbolic link to a file that does not exist"
  assert_err_contains "hint: every folder under migrations/ holds one readable migration.sql"
  rm -r "$PROJECT/migrations/20240104000000_dangling_file"
  ln -s "$CASE_TMP/no-such-folder" "$PROJECT/migrations/20240104000000_dangling_folder"
  run_stallrun workflows/status.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: migrations/20240104000000_dangling_folder: is a symbolic link to something that does not exist"
  rm "$PROJECT/migrations/20240104000000_dangling_folder"
  mkdir -p "$PROJECT/migrations/20240104000000_device" "$PROJECT/migrations/20240105000000_fifo"
  ln -s /dev/zero "$PROJECT/migrations/20240104000000_device/migration.sql"   # endless: never read
  mkfifo "$PROJECT/migrations/20240105000000_fifo/migration.sql"               # would block
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: migrations/20240104000000_device: migration.sql is not a regular file"
  rm -r "$PROJECT/migrations/20240104000000_device"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: migrations/20240105000000_fifo: migration.sql is not a regular file"
  assert_eq 3 "$(psql_q "SELECT count(*) FROM stallmig.migrations")" "only the three linked migrations ran"
}

# A migration folder linked to another migration folder (or its migration.sql
# to another's) was applied under each name: the same SQL twice (issue 12,
# item 4). Every workflow's scan refuses it, naming both folders; a link out
# of the folder stays allowed, but not one shared file under two names.
test_migration_linked_to_another_migration_is_refused() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  ln -s 20240101000000_a "$PROJECT/migrations/20240102000000_b"
  for workflow in deploy status; do
    run_stallrun workflows/$workflow.lua --env dev
    assert_exit 2
    assert_err_contains "stallrun: migrations/20240101000000_a and migrations/20240102000000_b are one migration under two names: their migration.sql is the same file (a link), so it would be applied twice"
    assert_err_contains "hint: a migration folder must not link to another migration's folder or migration.sql: remove migrations/20240102000000_b"
  done
  nothing_applied
  # a link to an earlier migration's file; the later file is the one that stays
  rm "$PROJECT/migrations/20240102000000_b"
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  mkdir "$PROJECT/migrations/20240101000000_c"
  ln -s ../20240102000000_b/migration.sql "$PROJECT/migrations/20240101000000_c/migration.sql"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: migrations/20240102000000_b and migrations/20240101000000_c are one migration under two names"
  assert_err_contains "remove migrations/20240101000000_c"
  nothing_applied
  # two folders linking one shared file outside the migrations folder
  rm -r "$PROJECT/migrations/20240101000000_c"
  printf 'CREATE TABLE shared (id int);' >"$CASE_TMP/shared.sql"
  mkdir "$PROJECT/migrations/20240103000000_s1" "$PROJECT/migrations/20240103000000_s2"
  ln -s "$CASE_TMP/shared.sql" "$PROJECT/migrations/20240103000000_s1/migration.sql"
  ln -s "$CASE_TMP/shared.sql" "$PROJECT/migrations/20240103000000_s2/migration.sql"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: migrations/20240103000000_s1 and migrations/20240103000000_s2 are one migration under two names"
  nothing_applied
  # one link to it is a migration like any other
  rm -r "$PROJECT/migrations/20240103000000_s2"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "20240101000000_a,20240102000000_b,20240103000000_s1" \
    "$(psql_q "SELECT string_agg(name, ',' ORDER BY id) FROM stallmig.migrations WHERE outcome = 'applied'")"
}

# owners TABLE... — "name=owner" of each table, comma-separated, in order.
owners() {
  local t list=""
  for t in "$@"; do list+="${list:+,}'$t'"; done
  psql_q "SELECT string_agg(relname || '=' || pg_get_userbyid(relowner), ',' ORDER BY relname)
            FROM pg_class WHERE relname IN ($list) AND relkind = 'r'"
}

# What a migration left in its session once reached the next ones (issue 12,
# item 9): after a SET ROLE the later tables and the history rows (db_user)
# were another role's; a temporary table made the next CREATE TEMP TABLE
# fail. Every migration (and down.sql) starts as the connecting role in a
# clean session, the history is written as that role, and the deploy lock
# (a session advisory lock) stays held throughout.
test_session_state_does_not_leak_between_migrations() {
  new_project
  psql_q "DO \$\$ BEGIN CREATE ROLE stallmig_other NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
          GRANT CREATE ON SCHEMA public TO stallmig_other" >/dev/null
  add_migration 20240101000001_role 'SET ROLE stallmig_other; CREATE TABLE t1 (id int);'
  add_migration 20240101000002_after_role 'CREATE TABLE t2 (id int);'
  add_migration 20240101000003_auth 'SET SESSION AUTHORIZATION stallmig_other; CREATE TABLE t3 (id int);'
  add_migration 20240101000004_after_auth 'CREATE TABLE t4 (id int);'
  # statement by statement: its role holds for its own statements only
  add_migration 20240101000005_by_statement $'-- stallmig:no-transaction\nSET ROLE stallmig_other;\nCREATE TABLE t5 (id int);\nCREATE INDEX CONCURRENTLY t5_id ON t5 (id);\nCREATE TABLE t5b (id int);\n'
  add_migration 20240101000006_after_statements 'CREATE TABLE t6 (id int);'
  add_migration 20240101000007_leaves_state $'CREATE TEMP TABLE scratch (id int);\nCREATE SEQUENCE s;\nSELECT nextval(\'s\');\nPREPARE p AS SELECT 1;\nDECLARE c CURSOR WITH HOLD FOR SELECT 1;\nLISTEN stallmig_test;\nSET search_path = nowhere;\n'
  add_migration 20240101000008_same_names $'CREATE TEMP TABLE scratch (id int);\nPREPARE p AS SELECT 2;\nDECLARE c CURSOR WITH HOLD FOR SELECT 2;\nCREATE TABLE t8 (id int);\nDO $$ BEGIN\n  PERFORM currval(\'s\');\n  RAISE EXCEPTION \'currval() leaked from the migration before\';\nEXCEPTION WHEN object_not_in_prerequisite_state THEN NULL;\nEND $$;\nDO $$ BEGIN\n  IF EXISTS (SELECT pg_listening_channels()) THEN RAISE EXCEPTION \'LISTEN leaked\'; END IF;\n  IF NOT EXISTS (SELECT FROM pg_locks WHERE locktype = \'advisory\' AND pid = pg_backend_pid()) THEN\n    RAISE EXCEPTION \'the deploy lock was released\';\n  END IF;\nEND $$;\n'
  printf 'DROP TABLE t8;\nSET ROLE stallmig_other;\nCREATE TABLE t8_down (id int);\n' \
    >"$PROJECT/migrations/20240101000008_same_names/down.sql"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "t1=stallmig_other,t2=postgres,t3=stallmig_other,t4=postgres,t5=stallmig_other,t5b=stallmig_other,t6=postgres,t8=postgres" \
    "$(owners t1 t2 t3 t4 t5 t5b t6 t8)"
  assert_eq "8 applied by postgres" "$(psql_q "SELECT count(*) || ' ' || string_agg(DISTINCT outcome, ',') || ' by ' || string_agg(DISTINCT db_user, ',') FROM stallmig.migrations")"
  # a down.sql is a file like the others
  run_stallrun workflows/rollback.lua --env dev --steps 1
  assert_exit 0
  assert_eq "t8_down=stallmig_other" "$(owners t8 t8_down)"
  assert_eq "rolled_back|postgres" "$(psql_q "SELECT outcome || '|' || db_user FROM stallmig.migrations ORDER BY id DESC LIMIT 1")"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "t8=postgres,t8_down=stallmig_other" "$(owners t8 t8_down)"
}

# The rehearsal (verify --rehearse) and the shadow replay (drift, dev) run
# the same files one after another in one session: they reset it between
# them as deploy does, or a history deploy applies fails there.
test_session_state_does_not_leak_into_rehearsals_and_replays() {
  new_project
  add_migration 20240101000001_a $'CREATE TEMP TABLE scratch (id int);\nPREPARE p AS SELECT 1;\nCREATE TABLE t1 (id int);\n'
  add_migration 20240101000002_b $'CREATE TEMP TABLE scratch (id int);\nPREPARE p AS SELECT 2;\nCREATE TABLE t2 (id int);\n'
  run_stallrun workflows/verify.lua --env dev --rehearse
  assert_exit 0
  assert_out_contains "Verifying 2 pending migration(s) against dev (rehearsed in one transaction, rolled back):"
  assert_not_contains "already exists"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  run_stallrun workflows/drift.lua --env dev
  assert_exit 0
  assert_out_contains "dev matches its 2 applied migration(s)."
}

# Run as the unprivileged user the cluster runs as: root reads anything.
test_unreadable_files_and_folders_as_an_unprivileged_user() {
  new_project
  chmod 0755 "$CASE_TMP" "$PROJECT" "$PROJECT/migrations"
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  as_user() {
    LAST_ARGS="(as postgres) $*"
    STATUS=0
    (cd "$PROJECT" && exec runuser -u postgres -- "$STALLRUN" "$@") >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null || STATUS=$?
    ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$CASE_TMP/err" || fail "sanitizer report"
  }
  as_user workflows/status.lua --env dev
  assert_exit 1                      # readable: two pending
  chmod 000 "$PROJECT/migrations/20240102000000_b/migration.sql"
  as_user workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: migrations/20240102000000_b: migration.sql cannot be read: permission denied"
  chmod 644 "$PROJECT/migrations/20240102000000_b/migration.sql"
  chmod 000 "$PROJECT/migrations/20240102000000_b"
  as_user workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallrun: migrations/20240102000000_b: migration.sql cannot be read: permission denied"
  chmod 755 "$PROJECT/migrations/20240102000000_b"
  chmod 000 "$PROJECT/migrations"
  as_user workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "cannot list the migrations folder"
  assert_err_contains "Permission denied"
  assert_err_contains "hint: make migrations/ readable by the user running stallrun"
  chmod 755 "$PROJECT/migrations"
  nothing_applied
  as_user workflows/deploy.lua --env dev
  assert_exit 0
}

test_long_non_ascii_and_non_utf8_names() {
  new_project
  printf 'prisma_compat = true\n' >>"$PROJECT/stallmig.ini"
  local long
  long=20240101000000_$(printf 'a%.0s' $(seq 1 185))          # 200 bytes
  add_migration "$long" 'CREATE TABLE long_one (id int);'
  add_migration '20240102000000_bokføring_æøå' 'CREATE TABLE bokføring (id int);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "20240102000000_bokføring_æøå: name is not <14-digit UTC timestamp>_<lowercase_name>"
  assert_eq "200 $long" "$(psql_q "SELECT length(name) || ' ' || name FROM stallmig.migrations WHERE name LIKE '2024010100%'")"
  assert_eq "200" "$(psql_q "SELECT length(migration_name) FROM _prisma_migrations WHERE migration_name LIKE '2024010100%'")"
  assert_eq "20240102000000_bokføring_æøå" "$(psql_q "SELECT name FROM stallmig.migrations WHERE name LIKE '20240102%'")"
  run_stallrun workflows/status.lua --env dev
  assert_exit 0
  add_migration $'20240103000000_bl\xe5b\xe6r' 'CREATE TABLE latin1 (id int);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "the folder name is not UTF-8 (rename it)"
  assert_eq 2 "$(psql_q "SELECT count(*) FROM stallmig.migrations")"
  assert_eq "" "$(psql_q "SELECT to_regclass('latin1')")"
}

# A BEGIN without COMMIT once reported "ok" while the session rolled it all
# back at the end of the run, history row included.
test_file_that_never_commits_its_transaction_fails() {
  new_project
  add_migration 20240101000000_open $'-- forgot the COMMIT\nBEGIN;\nCREATE TABLE never_committed (id int);\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "stallrun: migration 20240101000000_open failed at migrations/20240101000000_open/migration.sql:2:1: the file opens a transaction and never commits it (add COMMIT at the end)"
  assert_eq "" "$(psql_q "SELECT to_regclass('never_committed')")"
  assert_eq "failed|f" "$(psql_q "SELECT outcome, partial FROM stallmig.migrations")"
  add_migration 20240101000000_open $'-- forgot the COMMIT\nBEGIN;\nCREATE TABLE never_committed (id int);\nCOMMIT;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0                      # nothing was left behind: retried
  assert_eq "never_committed" "$(psql_q "SELECT to_regclass('never_committed')")"
}
