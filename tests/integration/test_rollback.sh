# rollback.lua: down.sql, newest first.

schema_dump() {
  "$PGBIN/pg_dump" --schema-only --no-owner --exclude-schema=stallmig -d "$DB_URL" | grep -v -e '^--' -e '^$' -e '^\\restrict' -e '^\\unrestrict'
}

rollback_project() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  printf 'DROP TABLE a;\n' >"$PROJECT/migrations/20240101000000_a/down.sql"
  run_stallrun workflows/deploy.lua --env dev
  schema_dump >"$CASE_TMP/before.sql"
  add_migration 20240102000000_b $'CREATE TABLE b (id int PRIMARY KEY);\nCREATE INDEX b_idx ON b (id);'
  printf 'DROP TABLE b;\n' >"$PROJECT/migrations/20240102000000_b/down.sql"
  add_migration 20240103000000_c 'ALTER TABLE a ADD COLUMN note text;'
  printf 'ALTER TABLE a DROP COLUMN note;\n' >"$PROJECT/migrations/20240103000000_c/down.sql"
  run_stallrun workflows/deploy.lua --env dev
}

test_rollback_two_steps_restores_the_previous_schema_exactly() {
  rollback_project
  run_stallrun workflows/rollback.lua --env dev --steps 2
  assert_exit 0
  assert_out_contains "  - 20240103000000_c rolled back"
  assert_out_contains "Rolled back 2 migration(s) on dev."
  schema_dump >"$CASE_TMP/after.sql"
  diff "$CASE_TMP/before.sql" "$CASE_TMP/after.sql" >"$CASE_TMP/schema.diff" || fail "schema differs: $(cat "$CASE_TMP/schema.diff")"
  run_stallrun workflows/status.lua --env dev
  [[ "$OUT" =~ 20240102000000_b\ +pending ]] || fail "b not pending after rollback"
  run_stallrun workflows/deploy.lua --env dev             # and forward again
  assert_exit 0
  assert_out_contains "Deploying 2 migration(s)"
}

test_rollback_refuses_without_down_sql_and_undoes_nothing() {
  rollback_project
  rm "$PROJECT/migrations/20240102000000_b/down.sql"
  run_stallrun workflows/rollback.lua --env dev --to 20240101000000_a
  assert_exit 1
  assert_err_contains "1 migration(s) have no down.sql, so nothing was rolled back"
  assert_err_contains "20240102000000_b"
  assert_eq "note" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 'a'::regclass AND attname = 'note'")" "c was not undone"
  run_stallrun workflows/rollback.lua --env dev
  assert_exit 2
  run_stallrun workflows/rollback.lua --env dev --steps 0
  assert_exit 2
}

test_rollback_on_protected_asks_and_backs_up() {
  rollback_project
  sed -i '/^protected = false$/d' "$PROJECT/stallmig.ini"
  run_stallrun workflows/rollback.lua --env dev --steps 1
  assert_exit 3                                           # no terminal, no --yes
  run_stallrun workflows/rollback.lua --env dev --steps 1 --yes
  assert_exit 0
  assert_out_contains "Backed up dev to backups/dev/"
  assert_eq "" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 'a'::regclass AND attname = 'note'")"
}

# Issue 13: a down.sql of comments only (the template, or "cannot be
# undone") is no rollback plan: refused, naming it, and nothing undone.
test_rollback_refuses_a_down_sql_of_comments_only() {
  rollback_project
  printf -- '-- Rollback of 20240103000000_c\n-- cannot be undone\n' >"$PROJECT/migrations/20240103000000_c/down.sql"
  run_stallrun workflows/rollback.lua --env dev --steps 2
  assert_exit 1
  assert_err_contains "1 migration(s) have no down.sql to run, so nothing was rolled back"
  assert_err_contains "20240103000000_c: migrations/20240103000000_c/down.sql holds only comments, no SQL"
  assert_eq "note|b" "$(psql_q "SELECT (SELECT attname FROM pg_attribute WHERE attrelid = 'a'::regclass AND attname = 'note') || '|' || to_regclass('b')")" "something was undone"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'rolled_back'")"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy"
}
