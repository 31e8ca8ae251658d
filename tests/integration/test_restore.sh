# restore.lua: back up, damage, restore, compare.

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
  local before_rows
  # into a new database: the backup's data, and dev untouched
  run_stallrun workflows/restore.lua --env dev
  assert_exit 0
  local target
  target=$(sed -nE 's/^Restored .* into the new database ([a-z0-9_]+) .*/\1/p' <<<"$OUT")
  [ -n "$target" ] || fail "no database name in: $OUT"
  assert_eq 3 "$(psql_q 'SELECT count(*) FROM a' "$("$REPO/tests/harness/pgcluster.sh" url "$CLUSTER" "$target")")" "rows in the restored copy"
  assert_eq 1 "$(psql_q 'SELECT count(*) FROM a')" "dev was touched"
  # in place: refused without confirmation, then done with --yes
  run_stallrun workflows/restore.lua --env dev --replace
  assert_exit 3
  run_stallrun workflows/restore.lua --env dev --replace --yes
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
