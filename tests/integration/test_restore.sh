# restore.lua: back up, damage, restore, compare; and what --replace must
# never do (drop a database before its replacement is there, restore a stale
# backup nobody chose, leave no trace).

# shellcheck source=tests/harness/databases.sh
source "$REPO/tests/harness/databases.sh"

test_restore_into_new_database_and_in_place() {
  new_project
  printf 'backup = true\n' >>"$PROJECT/stallmig.ini"
  sed -i '/^protected = false$/d' "$PROJECT/stallmig.ini"               # dev is protected here
  add_migration 20240101000000_a "CREATE TABLE a (id int); INSERT INTO a VALUES (1), (2), (3);"
  run_stallrun workflows/deploy.lua --env dev --yes
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  run_stallrun workflows/deploy.lua --env dev --yes       # backs up a's state first
  assert_exit 0
  psql_q "DELETE FROM a WHERE id > 1" >/dev/null           # the damage
  # into a new database: the backup's data, and dev untouched
  run_stallrun workflows/restore.lua --env dev --yes
  assert_exit 0
  local target file
  target=$(sed -nE 's/^Restored .* into the new database ([a-z0-9_]+) .*/\1/p' <<<"$OUT")
  [ -n "$target" ] || fail "no database name in: $OUT"
  assert_eq 3 "$(psql_q 'SELECT count(*) FROM a' "$(db_url "$target")")" "rows in the restored copy"
  assert_eq 1 "$(psql_q 'SELECT count(*) FROM a')" "dev was touched"
  # in place: refused without confirmation, then done with --yes and the file named
  file=$(ls "$PROJECT"/backups/dev/*-after-20240101000000_a.dump)
  run_stallrun workflows/restore.lua --env dev --backup "$file" --replace
  assert_exit 3
  run_stallrun workflows/restore.lua --env dev --backup "$file" --replace --yes
  assert_out_contains "Replaced dev's database with"
  [[ "$OUT" =~ 20240102000000_b\ +pending ]] || fail "status does not show what the backup lacks: $OUT"
  assert_exit 1                                           # status: b is pending again
  assert_eq 3 "$(psql_q 'SELECT count(*) FROM a')" "rows after the restore"
  assert_eq "" "$(psql_q "SELECT to_regclass('b')")" "b is not in the backup"
  run_stallrun workflows/doctor.lua --env dev
  assert_out_contains "marked as dev's database"          # re-stamped, not in doubt
  run_stallrun workflows/deploy.lua --env dev --yes
  assert_exit 0
}

# prod_project — prod (protected, backup = true) on its own database: a
# deployed with 3 rows, 2 rows written, b deployed (the backup before it
# holds a and its 5 rows), then a sixth row. STALE is that newest backup:
# older than b. PROD and PROD_URL name the database.
prod_project() {
  new_project
  PROD_URL=$(new_db prod)
  PROD=$(db_name "$PROD_URL")
  printf '\n[env.prod]\nurl = %s\nbackup = true\n' "$PROD_URL" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a "CREATE TABLE a (id int); INSERT INTO a VALUES (1), (2), (3);"
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  psql_q "INSERT INTO a VALUES (4), (5)" "$PROD_URL" >/dev/null
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  psql_q "INSERT INTO a VALUES (6)" "$PROD_URL" >/dev/null
  STALE=$(ls "$PROJECT"/backups/prod/*-after-20240101000000_a.dump)
}

# spy NAME SH — a NAME ahead of the real one on PATH (use it as
# PATH="$CASE_TMP/spy:$PATH" run_stallrun ...): SH runs first, then the real one.
spy() {
  mkdir -p "$CASE_TMP/spy"
  printf '#!/bin/sh\n%s\nexec "%s/%s" "$@"\n' "$2" "$PGBIN" "$1" >"$CASE_TMP/spy/$1"
  chmod +x "$CASE_TMP/spy/$1"
}

# prod_untouched — prod still has its six rows and b, takes sessions, and no
# half-made database is left beside it.
prod_untouched() {
  assert_eq 6 "$(psql_q 'SELECT count(*) FROM a' "$PROD_URL")" "prod's rows"
  assert_eq b "$(psql_q "SELECT to_regclass('b')" "$PROD_URL")" "prod's table b"
  assert_eq "$PROD" "$(databases_like "$PROD")" "databases beside prod"
  assert_eq t "$(psql_q "SELECT datallowconn FROM pg_database WHERE datname = '$PROD'")" "prod takes sessions"
}

test_restore_replace_refuses_a_backup_older_than_the_newest_migration_unless_named() {
  prod_project
  run_stallrun workflows/restore.lua --env prod --replace --yes     # picks the newest: STALE
  assert_exit 3
  assert_err_contains "stallrun: the backup $STALE is older than prod's newest migration: taken"
  assert_err_contains "after 20240101000000_a, and 20240102000000_b was applied after it"
  assert_err_contains "restoring it would lose that migration and every row written since; nothing was changed"
  assert_err_contains "hint: to restore exactly this backup, name it: --backup $STALE"
  # shown before anything was asked or done
  assert_out_contains "  last migration applied then: 20240101000000_a"
  assert_out_contains "  older than prod's newest migration, 20240102000000_b"
  prod_untouched
  assert_eq 2 "$(ls "$PROJECT/backups/prod" | wc -l)" "backups (none taken by the refused restore)"
  # named on the command line, it is what the user chose
  run_stallrun workflows/restore.lua --env prod --backup "$STALE" --replace --yes
  assert_out_contains "Replaced prod's database with $STALE."
  assert_exit 1                                                     # status: b pending again
  assert_eq 5 "$(psql_q 'SELECT count(*) FROM a' "$PROD_URL")" "rows after the restore"
  assert_eq "" "$(psql_q "SELECT to_regclass('b')" "$PROD_URL")" "b is not in the backup"
}

test_restore_replace_backs_up_what_it_replaces_and_keeps_it() {
  prod_project
  run_stallrun workflows/restore.lua --env prod --backup "$STALE" --replace --yes
  assert_exit 1
  local before kept copy
  before=$(ls "$PROJECT"/backups/prod/prod-*-before-restore-after-20240102000000_b.dump) ||
    fail "no backup of what was replaced: $(ls "$PROJECT/backups/prod")"
  assert_eq 600 "$(stat -c %a "$before")" "mode of the backup before the restore"
  assert_out_contains "What it replaced was backed up to backups/prod/$(basename "$before")"
  copy=$(new_db copy)
  "$PGBIN/pg_restore" --no-owner -d "$copy" "$before" || fail "the backup before the restore does not restore"
  assert_eq 6 "$(psql_q 'SELECT count(*) FROM a' "$copy")" "rows in the backup before the restore"
  kept=$(databases_like "${PROD}_replaced_")
  [ -n "$kept" ] || fail "the replaced database was not kept: $(databases_like "$PROD")"
  assert_out_contains "kept as the database $kept; when it is no longer needed: DROP DATABASE \"$kept\";"
  assert_eq 6 "$(psql_q 'SELECT count(*) FROM a' "$(db_url "$kept")")" "rows in the kept database"
  assert_eq "$PROD"$'\n'"$kept" "$(databases_like "$PROD")" "databases beside prod"
  assert_eq 5 "$(psql_q 'SELECT count(*) FROM a' "$PROD_URL")" "rows after the restore"
}

test_restore_replace_is_recorded_in_the_restored_database_and_the_local_log() {
  prod_project
  run_stallrun workflows/restore.lua --env prod --backup "$STALE" --replace --yes
  assert_exit 1
  local before kept detail line
  before=$(ls "$PROJECT"/backups/prod/*-before-restore-*.dump)
  kept=$(databases_like "${PROD}_replaced_")
  detail=$(psql_q "SELECT detail FROM stallmig.audit WHERE action = 'restore' AND workflow = 'restore'" "$PROD_URL")
  assert_eq "replaced from $STALE; before it, what it replaced was backed up to $before and kept as the database $kept" \
    "$detail" "the audit row in the restored database"
  line=$(grep "restore: prod's database \"$PROD\"" "$PROJECT/.stallmig/audit.log") ||
    fail "no line in .stallmig/audit.log: $(cat "$PROJECT/.stallmig/audit.log" 2>&1)"
  [[ "$line" == *" prod: restore: prod's database \"$PROD\" $detail" ]] || fail "the local log line: $line"
  assert_eq 600 "$(stat -c %a "$PROJECT/.stallmig/audit.log")" "mode of the local log"
  run_stallrun workflows/doctor.lua --env prod
  assert_out_contains "marked as prod's database"               # re-stamped: its OID is new
}

test_restore_into_a_new_database_on_a_protected_environment_needs_confirmation() {
  prod_project
  local count target
  count=$(psql_q "SELECT count(*) FROM pg_database")
  CI=true run_stallrun workflows/restore.lua --env prod --backup "$STALE"
  assert_exit 3
  assert_err_contains "stallrun: prod is protected: to restore the backup $(basename "$STALE") into a new database on its server it needs confirmation, and there is no terminal to ask on (CI); nothing was changed"
  assert_err_contains "hint: pass --yes"
  assert_eq "$count" "$(psql_q "SELECT count(*) FROM pg_database")" "databases after the refusal"
  CI=true run_stallrun workflows/restore.lua --env prod --backup "$STALE" --yes
  assert_exit 0
  target=$(sed -nE 's/^Restored .* into the new database ([a-z0-9_]+) .*/\1/p' <<<"$OUT")
  [ -n "$target" ] || fail "no database name in: $OUT"
  assert_out_contains "When it is no longer needed: DROP DATABASE \"$target\";"
  assert_eq 5 "$(psql_q 'SELECT count(*) FROM a' "$(db_url "$target")")" "rows in the copy"
  prod_untouched
}

test_restore_takes_a_relative_backup_path() {
  prod_project
  local rel=${STALE#"$PROJECT/"} target
  run_stallrun workflows/restore.lua --env prod --backup "$rel" --yes
  assert_exit 0
  target=$(sed -nE 's/^Restored .* into the new database ([a-z0-9_]+) .*/\1/p' <<<"$OUT")
  assert_eq 5 "$(psql_q 'SELECT count(*) FROM a' "$(db_url "$target")")" "rows in the copy"
  # named relative to where stallrun runs: that file, so not refused as stale
  run_stallrun workflows/restore.lua --env prod --backup "$rel" --replace --yes
  assert_out_contains "Replaced prod's database with $rel."
  assert_eq 5 "$(psql_q 'SELECT count(*) FROM a' "$PROD_URL")" "rows after the restore"
  run_stallrun workflows/restore.lua --env prod --backup no-such.dump --replace --yes
  assert_exit 1
  assert_err_contains "stallrun: cannot read the backup no-such.dump: No such file or directory; nothing was changed"
}

test_restore_replace_stops_when_the_backup_of_what_it_replaces_fails() {
  prod_project
  spy pg_dump 'echo "pg_dump: error: the spy refuses" >&2; exit 1'
  PATH="$CASE_TMP/spy:$PATH" run_stallrun workflows/restore.lua --env prod --backup "$STALE" --replace --yes
  assert_exit 1
  assert_err_contains "stallrun: the backup of prod's database before the restore failed, so nothing was changed: pg_dump failed (exit 1): pg_dump: error: the spy refuses"
  assert_err_contains "hint: pg_dump must be installed"
  prod_untouched
  assert_eq 2 "$(ls "$PROJECT/backups/prod" | wc -l)" "files in backups/prod (no partial backup)"
}

test_restore_replace_leaves_the_database_when_the_restore_fails() {
  prod_project
  spy pg_restore 'case "$*" in *--dbname*) echo "pg_restore: error: the spy refuses" >&2; exit 1;; esac'
  PATH="$CASE_TMP/spy:$PATH" run_stallrun workflows/restore.lua --env prod --backup "$STALE" --replace --yes
  assert_exit 1
  assert_err_contains "stallrun: restoring $STALE into a new database failed: pg_restore failed (exit 1): pg_restore: error: the spy refuses; it was dropped, and prod's database was not touched"
  prod_untouched
}

test_restore_replace_leaves_the_database_when_the_new_one_cannot_be_created() {
  prod_project
  hold_template1
  run_stallrun workflows/restore.lua --env prod --backup "$STALE" --replace --yes
  release_template1
  assert_exit 1
  assert_err_contains "to restore into failed: source database \"template1\" is being accessed by other users"
  assert_err_contains "prod's database was not touched"
  prod_untouched
}

test_restore_replace_refused_for_a_role_without_createdb() {
  owner_project NOCREATEDB
  run_stallrun workflows/restore.lua --env dev --backup "$DUMP" --replace
  assert_exit 3
  assert_err_contains "stallrun: replacing the database with a backup is refused: the role \"$ROLE\" may not create databases (it has no CREATEDB); nothing was changed"
  assert_err_contains "hint: stallmig makes the new database first and swaps it in by rename, so the role needs CREATEDB"
  assert_eq 4 "$(psql_q 'SELECT count(*) FROM a')" "rows after the refusal"
  [ ! -e "$PROJECT/backups" ] || fail "a backup was taken: $(ls -R "$PROJECT/backups")"
}

test_restore_replace_by_an_owner_with_createdb_waits_for_sessions_it_cannot_end() {
  owner_project CREATEDB
  local db
  db=$(db_name "$DB_URL")
  hold_in_background superuser_session "SELECT 1"     # a superuser's: the owner may not end it
  run_stallrun workflows/restore.lua --env dev --backup "$DUMP" --replace
  release_background superuser_session
  assert_exit 1
  assert_err_contains "stallrun: swapping the restored database in failed: database \"$db\" is being accessed by other users"
  assert_err_contains "dev's database was not touched, and the restored copy was dropped"
  assert_err_contains "hint: end the other sessions on the database"
  assert_eq 4 "$(psql_q 'SELECT count(*) FROM a')" "rows after the failed swap"
  assert_eq t "$(psql_q "SELECT datallowconn FROM pg_database WHERE datname = '$db'")" "dev takes sessions"
  assert_eq "" "$(psql_q "SELECT datname FROM pg_database WHERE datname LIKE '%\_restoring\_%'")" "half-made databases"
  # with the session gone, the owner replaces its database (not a superuser)
  run_stallrun workflows/restore.lua --env dev --backup "$DUMP" --replace
  assert_exit 0
  assert_out_contains "Replaced dev's database with $DUMP."
  assert_eq 3 "$(psql_q 'SELECT count(*) FROM a')" "rows after the restore"
  assert_eq "$ROLE" "$(psql_q "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$db'")" "owner of the restored database"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM stallmig.audit WHERE action = 'restore'")" "the restore's audit row"
}

test_replace_with_backup_enforces_its_rules_for_any_script() {
  prod_project
  cat >"$PROJECT/my-rollback.lua" <<'LUA'
local ctx = ...
local db = require("stallmig.db")
local guard = require("stallmig.guard")
local conn = db.connect(ctx.env)
guard.confirm(conn, "roll back")
conn:replace_with_backup(ctx.args[1])
LUA
  # a script of its own, no --backup: the stale backup is refused all the same
  run_stallrun my-rollback.lua --env prod --yes "$STALE"
  assert_exit 3
  assert_err_contains "stallrun: the backup $STALE is older than prod's newest migration"
  prod_untouched
  # --backup names another file than the one the script restores: still refused
  run_stallrun my-rollback.lua --env prod --yes --backup "$(ls "$PROJECT"/backups/prod/*-after-nothing.dump)" "$STALE"
  assert_exit 3
  assert_err_contains "is older than prod's newest migration"
  run_stallrun my-rollback.lua --env prod --yes no-such.dump
  assert_exit 1
  assert_err_contains "stallrun: cannot read the backup no-such.dump: No such file or directory; nothing was changed"
  prod_untouched
}

test_restore_into_a_new_database_that_fails_leaves_nothing_behind() {
  prod_project
  local count
  count=$(psql_q "SELECT count(*) FROM pg_database")
  spy pg_restore 'case "$*" in *--dbname*) echo "pg_restore: error: the spy refuses" >&2; exit 1;; esac'
  PATH="$CASE_TMP/spy:$PATH" run_stallrun workflows/restore.lua --env prod --backup "$STALE" --yes
  assert_exit 1
  assert_err_contains "stallrun: restoring $STALE into a new database failed: pg_restore failed (exit 1): pg_restore: error: the spy refuses; prod's database was not touched"
  assert_eq "$count" "$(psql_q "SELECT count(*) FROM pg_database")" "databases after the failed restore"
  prod_untouched
}
