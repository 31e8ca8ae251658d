# reset.lua / conn:recreate_database on a disposable database: the empty
# database is made under a new name first and swapped in by rename, so a
# role that may not make one, or a create or swap that fails, leaves the old
# database where it was, with its rows.

# shellcheck source=tests/harness/databases.sh
source "$REPO/tests/harness/databases.sh"

test_reset_refused_for_a_role_without_createdb() {
  owner_project NOCREATEDB
  run_stallrun workflows/reset.lua --env dev
  assert_exit 3
  assert_err_contains "stallrun: recreating the database is refused: the role \"$ROLE\" may not create databases (it has no CREATEDB); nothing was changed"
  assert_err_contains "hint: stallmig makes the new database first and swaps it in by rename, so the role needs CREATEDB"
  assert_eq 4 "$(psql_q 'SELECT count(*) FROM a')" "rows after the refusal"
}

test_reset_refused_for_a_role_that_does_not_own_the_database() {
  owner_project CREATEDB
  local db
  db=$(db_name "$DB_URL")
  psql_q "ALTER DATABASE \"$db\" OWNER TO postgres" >/dev/null
  run_stallrun workflows/reset.lua --env dev
  assert_exit 3
  assert_err_contains "the role \"$ROLE\" does not own the database \"$db\" (its owner is \"postgres\"), so it may not rename it; nothing was changed"
  assert_eq 4 "$(psql_q 'SELECT count(*) FROM a')" "rows after the refusal"
}

test_reset_leaves_the_database_when_the_new_one_cannot_be_created() {
  new_project
  add_migration 20240101000000_a "CREATE TABLE a (id int); INSERT INTO a VALUES (1), (2);"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  hold_template1
  run_stallrun workflows/reset.lua --env dev
  release_template1
  assert_exit 1
  assert_err_contains "stallrun: creating the new empty database for dev failed: source database \"template1\" is being accessed by other users"
  assert_err_contains "the database was left as it was"
  assert_eq 2 "$(psql_q 'SELECT count(*) FROM a')" "rows after the failed reset"
  assert_eq "$(db_name "$DB_URL")" "$(databases_like "$(db_name "$DB_URL")")" "databases beside dev"
}

test_reset_by_an_owner_with_createdb_swaps_by_rename_and_drops_the_old_one() {
  owner_project CREATEDB
  local db
  db=$(db_name "$DB_URL")
  hold_in_background superuser_session "SELECT 1"     # a superuser's: the owner may not end it
  run_stallrun workflows/reset.lua --env dev
  release_background superuser_session
  assert_exit 1
  assert_err_contains "stallrun: swapping in the new empty database for dev failed: database \"$db\" is being accessed by other users"
  assert_err_contains "hint: end the other sessions on the database"
  assert_eq 4 "$(psql_q 'SELECT count(*) FROM a')" "rows after the failed swap"
  assert_eq "$db" "$(databases_like "$db")" "databases beside dev (the new one dropped)"
  assert_eq t "$(psql_q "SELECT datallowconn FROM pg_database WHERE datname = '$db'")" "dev takes sessions"
  # with the session gone: reset, the old database dropped after the swap
  DB_URL=${DB_URL/user=postgres/user=$ROLE} hold_in_background own_session "SELECT 1"   # ended by the swap
  run_stallrun workflows/reset.lua --env dev
  release_background own_session
  assert_exit 0
  assert_eq 3 "$(psql_q 'SELECT count(*) FROM a')" "rows after the reset (the migration's)"
  assert_eq "$db" "$(databases_like "$db")" "databases beside dev"
  assert_eq "$ROLE" "$(psql_q "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$db'")" "owner of the new database"
}
