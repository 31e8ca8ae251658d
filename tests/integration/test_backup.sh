# Verified backups before a deploy (backup = true).

backup_project() {
  new_project
  printf 'backup = true\nkeep_backups = 2\n' >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a "CREATE TABLE a (id int); INSERT INTO a VALUES (1), (2);"
}

test_backup_taken_only_when_pending_0600_restorable_recorded() {
  backup_project
  run_stallrun workflows/deploy.lua --env dev --json
  assert_exit 0
  local file
  file=$(json_get "['backup']['path']")
  [ -f "$file" ] || fail "no backup file at $file"
  [[ "$file" == "$PROJECT/backups/dev/dev-"*"-01-after-nothing.dump" ]] || fail "unexpected name $file"
  assert_eq 600 "$(stat -c %a "$file")" "backup file mode"
  "$PGBIN/pg_restore" --list "$file" >/dev/null || fail "pg_restore cannot read the backup"
  assert_eq "$(sha256sum "$file" | cut -d' ' -f1)|$(stat -c %s "$file")|nothing" \
    "$(psql_q "SELECT checksum || '|' || size_bytes || '|' || last_migration FROM stallmig.backups")"
  run_stallrun workflows/deploy.lua --env dev                  # nothing pending: no backup
  assert_exit 0
  assert_eq 1 "$(ls "$PROJECT/backups/dev" | wc -l)" "backups after a no-op deploy"
  # the second backup holds the first migration's data: restore it elsewhere
  add_migration 20240102000000_b 'DELETE FROM a;'
  run_stallrun workflows/deploy.lua --env dev --json
  assert_exit 0
  file=$(json_get "['backup']['path']")
  [[ "$file" == *"-after-20240101000000_a.dump" ]] || fail "name does not say the last migration: $file"
  local copy
  copy=$(new_db restored)
  "$PGBIN/pg_restore" --no-owner -d "$copy" "$file" || fail "restore failed"
  assert_eq 2 "$(psql_q 'SELECT count(*) FROM a' "$copy")" "rows in the restored backup"
}

test_failing_pg_dump_stops_the_deploy_before_any_change() {
  backup_project
  # no pg_dump on PATH (set on the process itself, not through a function)
  STATUS=0
  (cd "$PROJECT" && exec env PATH=/nonexistent "$STALLRUN" workflows/deploy.lua --env dev) \
    >"$CASE_TMP/out" 2>"$CASE_TMP/err" || STATUS=$?
  assert_exit 1
  assert_err_contains "the backup of dev failed, so nothing was changed: cannot run pg_dump"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")"
  # a backups "folder" that is a file
  rm -rf "$PROJECT/backups" && touch "$PROJECT/backups"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "the backup of dev failed"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")"
  assert_eq "" "$(psql_q "SELECT to_regnamespace('stallmig')")" "no history table either"
}

test_keep_backups_keeps_the_newest() {
  backup_project
  local i
  for i in 1 2 3; do
    add_migration "2024010${i}000000_m${i}" "CREATE TABLE t${i} (id int);"
    run_stallrun workflows/deploy.lua --env dev
    assert_exit 0
    sleep 1                                   # names carry the second
  done
  assert_eq 2 "$(ls "$PROJECT/backups/dev"/*.dump | wc -l)" "backups kept"
  ls "$PROJECT/backups/dev" | grep -q -- "-after-20240102000000_m2.dump" || fail "the newest was not kept: $(ls "$PROJECT/backups/dev")"
}

# The password reaches pg_dump in a password file with no name on disk
# (PGPASSFILE=/dev/fd/N, unlinked at once): never its command line, never its
# environment (readable in /proc), and nothing left behind by a kill -9.
test_backup_password_never_on_a_command_line() {
  backup_project
  # pg_dump on PATH is a spy that records its arguments and environment
  mkdir -p "$CASE_TMP/spy"
  cat >"$CASE_TMP/spy/pg_dump" <<SPY
#!/bin/sh
printf '%s\n' "\$@" >"$CASE_TMP/spy/args"
env >"$CASE_TMP/spy/env"
cat "\$PGPASSFILE" >"$CASE_TMP/spy/passfile"
ls -l "\$PGPASSFILE" >"$CASE_TMP/spy/passfile.ls"
exec "$PGBIN/pg_dump" "\$@"
SPY
  chmod +x "$CASE_TMP/spy/pg_dump"
  sed -i "s|^url = postgresql:///\([^?]*\)?|url = postgresql://postgres:Sentinel-Dump-6@/\1?|" "$PROJECT/stallmig.ini"
  STATUS=0
  (cd "$PROJECT" && exec env PATH="$CASE_TMP/spy:$PATH" "$STALLRUN" workflows/deploy.lua --env dev) \
    >"$CASE_TMP/out" 2>"$CASE_TMP/err" || STATUS=$?
  assert_exit 0
  [ -f "$CASE_TMP/spy/args" ] || fail "the spy pg_dump did not run"
  ! grep -q Sentinel "$CASE_TMP/spy/args" || fail "the password is on pg_dump's command line"
  ! grep -q Sentinel "$CASE_TMP/spy/env" || fail "the password is in pg_dump's environment"
  grep -q '^PGPASSFILE=/dev/fd/[0-9]*$' "$CASE_TMP/spy/env" || fail "no PGPASSFILE for pg_dump"
  assert_eq '*:*:*:*:Sentinel-Dump-6' "$(cat "$CASE_TMP/spy/passfile")" "the password file"
  grep -q "(deleted)" "$CASE_TMP/spy/passfile.ls" || fail "the password file has a name on disk: $(cat "$CASE_TMP/spy/passfile.ls")"
  assert_not_contains "Sentinel"
}

# backup.lua: a backup now, outside a deploy, recorded like deploy's.
test_backup_workflow_takes_a_recorded_verified_backup() {
  backup_project
  run_stallrun workflows/deploy.lua --env dev
  run_stallrun workflows/backup.lua --env dev --json
  assert_exit 0
  local file
  file=$(json_get "['path']")
  [[ "$file" == *"-after-20240101000000_a.dump" ]] || fail "unexpected name $file"
  assert_eq 600 "$(stat -c %a "$file")"
  assert_eq 2 "$(psql_q "SELECT count(*) FROM stallmig.backups")"
  assert_eq "backup" "$(psql_q "SELECT action FROM stallmig.audit ORDER BY id DESC LIMIT 1")"
}
