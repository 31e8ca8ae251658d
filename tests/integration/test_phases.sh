# Issue 17: expand/contract phases of a plain-SQL migration
# (docs/zero-downtime.md): deploy runs expand and backfill, complete.lua the
# contract once the rollout is confirmed (and promote_from's environment
# completed it), abort.lua the down section of an expand not completed.

schema_dump() {
  "$PGBIN/pg_dump" --schema-only --no-owner --exclude-schema=stallmig -d "${1:-$DB_URL}" |
    grep -v -e '^--' -e '^$' -e '^\\restrict' -e '^\\unrestrict'
}

# A rename of users.name to users.full_name, as the recipe does it.
RENAME_SQL='-- users.name becomes users.full_name without breaking the running version
-- stallmig:expand
ALTER TABLE users ADD COLUMN full_name text;
CREATE FUNCTION users_sync_full_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.full_name := COALESCE(NEW.full_name, NEW.name); RETURN NEW; END $$;
CREATE TRIGGER users_sync_full_name BEFORE INSERT OR UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION users_sync_full_name();
-- stallmig:backfill
UPDATE users SET full_name = name WHERE full_name IS NULL;
-- stallmig:contract
DROP TRIGGER users_sync_full_name ON users;
DROP FUNCTION users_sync_full_name();
ALTER TABLE users DROP COLUMN name;
-- stallmig:down
DROP TRIGGER users_sync_full_name ON users;
DROP FUNCTION users_sync_full_name();
ALTER TABLE users DROP COLUMN full_name;
'

phases_project() {
  new_project
  printf 'prisma_compat = true\n' >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_users $'CREATE TABLE users (id bigint PRIMARY KEY, name text);\nINSERT INTO users SELECT g, \'u\' || g FROM generate_series(1, 100) g;'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  add_migration 20240102000000_rename "$RENAME_SQL"
}

columns() {
  psql_q "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped" "${1:-$DB_URL}"
}

test_phases_deploy_expands_and_complete_contracts_after_rollout() {
  phases_project
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "id,name,full_name" "$(columns)" "deploy ran the expand only"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM name")" "backfill ran"
  assert_eq "expanded" "$(psql_q "SELECT outcome FROM stallmig.migrations WHERE name = '20240102000000_rename' ORDER BY id DESC LIMIT 1")"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20240102000000_rename'")" "Prisma's row waits for the contract"
  psql_q "INSERT INTO users (id, name) VALUES (1000, 'old app')" >/dev/null   # the old version still writes
  assert_eq "old app" "$(psql_q "SELECT full_name FROM users WHERE id = 1000")" "the sync trigger fills the new column"
  run_stallrun workflows/status.lua --env dev
  [[ "$OUT" =~ 20240102000000_rename\ +expanded ]] || fail "status does not show the migration expanded"
  run_stallrun workflows/deploy.lua --env dev              # nothing to do: expanded is not pending
  assert_exit 0
  assert_out_contains "Nothing to deploy"
  run_stallrun workflows/complete.lua --env dev            # rollout not confirmed
  assert_exit 3
  assert_err_contains "does not say that the new version is rolled out; nothing was changed"
  assert_err_contains "--rollout-confirmed"
  assert_eq "id,name,full_name" "$(columns)" "nothing contracted without the rollout"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
  assert_out_contains "20240102000000_rename completed"
  assert_eq "id,full_name" "$(columns)"
  assert_eq "applied" "$(psql_q "SELECT outcome FROM stallmig.migrations WHERE name = '20240102000000_rename' ORDER BY id DESC LIMIT 1")"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20240102000000_rename' AND finished_at IS NOT NULL")"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
  assert_out_contains "Nothing to complete on dev"
  run_stallrun workflows/status.lua --env dev
  [[ "$OUT" =~ 20240102000000_rename\ +applied ]] || fail "status does not show the migration applied"
}

test_phases_abort_after_expand_restores_the_previous_schema() {
  phases_project
  schema_dump >"$CASE_TMP/before.sql"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  run_stallrun workflows/abort.lua --env dev
  assert_exit 0
  assert_out_contains "Aborted 20240102000000_rename on dev"
  schema_dump >"$CASE_TMP/after.sql"
  diff "$CASE_TMP/before.sql" "$CASE_TMP/after.sql" >"$CASE_TMP/schema.diff" || fail "schema differs: $(cat "$CASE_TMP/schema.diff")"
  run_stallrun workflows/status.lua --env dev
  [[ "$OUT" =~ 20240102000000_rename\ +pending ]] || fail "not pending after abort"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
  assert_out_contains "Nothing to complete on dev"
  run_stallrun workflows/deploy.lua --env dev              # and forward again
  assert_exit 0
  assert_eq "id,name,full_name" "$(columns)"
}

test_phases_complete_waits_for_the_source_environment() {
  phases_project                                       # [env.dev] plays staging
  PROD_URL=$(new_db prod)
  printf '\n[env.prod]\nurl = %s\npromote_from = dev\n' "$PROD_URL" >>"$PROJECT/stallmig.ini"
  psql_q "CREATE TABLE users (id bigint PRIMARY KEY, name text)" "$PROD_URL" >/dev/null
  run_stallrun workflows/adopt.lua --env prod --baseline 20240101000000_users --yes
  assert_exit 0
  run_stallrun workflows/deploy.lua --env dev
  run_stallrun workflows/deploy.lua --env prod --yes      # dev expanded it: prod may expand
  assert_exit 0
  assert_eq "id,name,full_name" "$(columns "$PROD_URL")"
  run_stallrun workflows/complete.lua --env prod --rollout-confirmed --yes
  assert_exit 3
  assert_err_contains "prod completes only what dev has completed; nothing was changed:"
  assert_err_contains "20240102000000_rename (expanded in dev, not yet completed there)"
  assert_eq "id,name,full_name" "$(columns "$PROD_URL")"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
  run_stallrun workflows/complete.lua --env prod --rollout-confirmed --yes
  assert_exit 0
  assert_eq "id,full_name" "$(columns "$PROD_URL")"
}

test_phases_a_script_cannot_contract_without_the_gate() {
  phases_project
  run_stallrun workflows/deploy.lua --env dev
  # calls the gate's step itself, without --rollout-confirmed: refused in C
  cat >"$PROJECT/sneaky.lua" <<'LUA'
local ctx = ...
ctx.options["rollout-confirmed"] = true              -- a table the script holds: not the run's command line
local conn <close> = require("stallmig.db").connect("dev")
local change <close> = conn:begin_change("complete")
change:complete("20240102000000_rename")
LUA
  run_stallrun sneaky.lua --env dev
  assert_exit 3
  assert_err_contains "does not say that the new version is rolled out"
  # around the gate: the history is the host's, and loading the gate's half is refused
  cat >"$PROJECT/around.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect("dev")
conn:exec("INSERT INTO stallmig.migrations (name, checksum, started_at, applied_by, environment, mode, outcome) VALUES ('20240102000000_rename', 'x', now(), 'me', 'dev', 'transactional', 'applied')")
LUA
  run_stallrun around.lua --env dev
  [ "$STATUS" != 0 ] || fail "a write to stallmig.migrations outside the gate was accepted"
  printf 'require("stallmig.gate")\n' >"$PROJECT/gatehalf.lua"
  run_stallrun gatehalf.lua --env dev
  assert_exit 2
  assert_eq "id,name,full_name" "$(columns)" "nothing contracted"
  assert_eq "expanded" "$(psql_q "SELECT outcome FROM stallmig.migrations WHERE name = '20240102000000_rename' ORDER BY id DESC LIMIT 1")"
}

test_phases_a_failed_contract_stays_expanded_and_completes_after_the_fix() {
  phases_project
  run_stallrun workflows/deploy.lua --env dev
  hold_in_background blocker "SET lock_timeout = 0" "BEGIN" "LOCK TABLE users IN ACCESS SHARE MODE"
  sed -i 's/^\[env.dev\]$/[env.dev]\nlock_timeout = 200ms\nlock_retries = 1/' "$PROJECT/stallmig.ini"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  release_background blocker
  assert_exit 1
  assert_err_contains "gave up waiting for a lock; try 2 of 2"
  assert_err_contains "20240102000000_rename stays expanded"
  assert_eq "contract_failed" "$(psql_q "SELECT outcome FROM stallmig.migrations WHERE name = '20240102000000_rename' ORDER BY id DESC LIMIT 1")"
  run_stallrun workflows/deploy.lua --env dev               # not taken for a pending migration
  assert_exit 0
  assert_out_contains "Nothing to deploy"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
  assert_eq "id,full_name" "$(columns)"
}

test_phases_sections_given_twice_or_sql_above_them_are_refused() {
  new_project
  add_migration 20240101000000_a $'-- stallmig:expand\nCREATE TABLE a (id int);\n-- stallmig:expand\nCREATE TABLE b (id int);\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "migrations/20240101000000_a/migration.sql:3: -- stallmig:expand is given twice (first on line 1)"
  add_migration 20240101000000_a $'CREATE TABLE a (id int);\n-- stallmig:contract\nDROP TABLE a;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "SQL above the first -- stallmig: section line would run in every phase"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")" "nothing applied"
}

# Steps: CONCURRENTLY and VALIDATE CONSTRAINT alone, outside a transaction;
# the rest of a section in one transaction per run of ordinary statements.
STEPS_SQL='-- stallmig:expand
ALTER TABLE users ADD COLUMN email text;
ALTER TABLE users ADD CONSTRAINT users_email_set CHECK (email IS NOT NULL) NOT VALID;
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
-- stallmig:backfill
UPDATE users SET email = name || '"'"'@example.com'"'"' WHERE email IS NULL;
-- stallmig:contract
ALTER TABLE users VALIDATE CONSTRAINT users_email_set;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_set;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
-- stallmig:down
DROP INDEX CONCURRENTLY users_email_key;
ALTER TABLE users DROP COLUMN email;
'

test_phases_split_into_steps_concurrently_and_validate_alone() {
  phases_project
  rm -r "$PROJECT/migrations/20240102000000_rename"
  add_migration 20240102000000_email "$STEPS_SQL"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "steps|expanded" "$(psql_q "SELECT mode || '|' || outcome FROM stallmig.migrations WHERE name = '20240102000000_email' ORDER BY id DESC LIMIT 1")"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM users WHERE email IS NULL")" "the backfill ran"
  assert_eq "t" "$(psql_q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_key'::regclass")"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
  assert_eq "true|users_email_key" "$(psql_q "SELECT attnotnull || '|' || (SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype = 'u') FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'")"
}

test_phases_a_step_waiting_for_a_lock_names_the_holder_and_resumes() {
  phases_project
  rm -r "$PROJECT/migrations/20240102000000_rename"
  add_migration 20240102000000_email "$STEPS_SQL"
  sed -i 's/^\[env.dev\]$/[env.dev]\nlock_timeout = 100ms\nlock_retries = 1/' "$PROJECT/stallmig.ini"
  hold_in_background blocker "BEGIN" "LOCK TABLE users IN ACCESS SHARE MODE"
  run_stallrun workflows/deploy.lua --env dev
  release_background blocker
  assert_exit 1
  assert_err_contains "20240102000000_email step 1 of 3 (transaction, line 2) gave up waiting for a lock after 100ms, held by pid"
  assert_err_contains "(application 'blocker', "
  assert_err_contains "try 2 of 2"
  assert_eq "" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'")" "step 1 rolled back"
  # a later step that fails leaves the earlier ones applied, and deploy resumes there
  psql_q "CREATE TABLE users_email_key (x int)" >/dev/null       # the index's name is taken
  run_stallrun workflows/deploy.lua --env dev
  psql_q "DROP TABLE users_email_key" >/dev/null
  assert_exit 1
  assert_err_contains "migration.sql:4 (step 2 of 3): relation \"users_email_key\" already exists"
  assert_err_contains "it resumes at step 2"
  assert_eq "t" "$(psql_q "SELECT attname = 'email' FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'")" "steps 1-2 stay"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "no invalid index left behind"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "stopped at step 2 of 3; resuming there"
  assert_eq "expanded" "$(psql_q "SELECT outcome FROM stallmig.migrations WHERE name = '20240102000000_email' ORDER BY id DESC LIMIT 1")"
}

# verify: the compatibility check, expand and contract in one release, and the recipes.
test_phases_verify_says_whether_the_running_version_survives() {
  phases_project
  run_stallrun workflows/verify.lua --env dev                 # the phased rename: compatible
  assert_out_contains "Compatibility: the schema stays usable by the running version until the contract phase."
  assert_not_contains "drop-column"                           # the contract is not what deploy runs
  rm -r "$PROJECT/migrations/20240102000000_rename"
  add_migration 20240102000000_rename $'ALTER TABLE users ADD COLUMN full_name text;\nUPDATE users SET full_name = name;\nALTER TABLE users DROP COLUMN name;\n'
  add_migration 20240103000000_email $'ALTER TABLE users ADD COLUMN email text NOT NULL;\nALTER TABLE users RENAME COLUMN id TO user_id;\n'
  run_stallrun workflows/verify.lua --env dev --json
  assert_eq "False" "$(json_get "['compatibility']['compatible']")"
  assert_eq 3 "$(json_get "['compatibility']['breaking'].__len__()")"
  run_stallrun workflows/verify.lua --env dev
  assert_out_contains "Compatibility: the running version would break while these deploy:"
  assert_out_contains "20240102000000_rename (migrations/20240102000000_rename/migration.sql:3) drops column users.name, which the running version may still read or write (make it a phased migration: docs/zero-downtime.md)"
  assert_out_contains "adds users.email NOT NULL without a default, so the running version's INSERTs fail"
  assert_out_contains "renames column users.id, so the running version's queries of it fail"
  assert_out_contains "users is expanded (ADD COLUMN full_name in 20240102000000_rename, ADD COLUMN email in 20240103000000_email) and contracted (DROP COLUMN name in 20240102000000_rename"
  assert_out_contains "recipe: rename a column or change its type: expand: the new column and a trigger keeping it in sync"
  assert_out_contains "recipe: drop a column: put the DROP COLUMN under -- stallmig:contract"
}

test_phases_drift_replays_a_phased_migration_as_far_as_it_went() {
  phases_project
  sed -i '/^prisma_compat = true$/d' "$PROJECT/stallmig.ini"    # _prisma_migrations is not the migrations' own
  psql_q "DROP TABLE _prisma_migrations" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  run_stallrun workflows/drift.lua --env dev                   # expanded: expand and backfill replayed
  assert_exit 0
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  run_stallrun workflows/drift.lua --env dev                   # completed: and the contract, never the down section
  assert_exit 0
  psql_q "ALTER TABLE users ADD COLUMN handmade int" >/dev/null
  run_stallrun workflows/drift.lua --env dev
  assert_exit 1
  assert_out_contains "handmade"
}

# The contract is reviewed as any migration on a protected environment: a
# DROP COLUMN over values is refused unless the file says the loss is
# intended (-- stallmig:allow) or the run accepts it with a reason.
test_phases_contract_that_loses_data_is_refused_on_a_protected_environment() {
  new_project
  PROD_URL=$(new_db prod)
  printf '\n[env.prod]\nurl = %s\nprotected = true\n' "$PROD_URL" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_users $'CREATE TABLE users (id bigint PRIMARY KEY, name text);\nINSERT INTO users SELECT g, \'u\' || g FROM generate_series(1, 100) g;'
  add_migration 20240102000000_rename "$RENAME_SQL"
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  run_stallrun workflows/complete.lua --env prod --rollout-confirmed --yes
  assert_exit 3
  assert_err_contains "the review found data that the contract section of 20240102000000_rename would lose there; nothing was changed"
  assert_err_contains "stallmig:allow"
  assert_eq "id,name,full_name" "$(columns "$PROD_URL")" "nothing contracted"
  assert_eq "expanded" "$(psql_q "SELECT outcome FROM stallmig.migrations WHERE name = '20240102000000_rename' ORDER BY id DESC LIMIT 1" "$PROD_URL")"
  run_stallrun workflows/complete.lua --env prod --rollout-confirmed --yes --accept-data-loss --reason "copied to full_name"
  assert_exit 0
  assert_eq "id,full_name" "$(columns "$PROD_URL")"
  # the same drop, said intended in the file: no override needed
  add_migration 20240103000000_nick $'-- stallmig:expand\nALTER TABLE users ADD COLUMN nick text;\n-- stallmig:backfill\nUPDATE users SET nick = full_name WHERE nick IS NULL;\n-- stallmig:contract\n-- stallmig:allow drop-column: nick keeps every value\nALTER TABLE users DROP COLUMN full_name;\n-- stallmig:down\nALTER TABLE users DROP COLUMN nick;\n'
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  run_stallrun workflows/complete.lua --env prod --rollout-confirmed --yes
  assert_exit 0
  assert_eq "id,nick" "$(columns "$PROD_URL")"
}

# abort's down section is reviewed the same way: dropping a column the
# expand added and someone filled is refused on a protected environment.
test_phases_abort_that_loses_data_is_refused_on_a_protected_environment() {
  new_project
  PROD_URL=$(new_db prod)
  printf '\n[env.prod]\nurl = %s\nprotected = true\n' "$PROD_URL" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_users $'CREATE TABLE users (id bigint PRIMARY KEY, name text);\nINSERT INTO users SELECT g, \'u\' || g FROM generate_series(1, 100) g;'
  add_migration 20240102000000_rename "$RENAME_SQL"
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  run_stallrun workflows/abort.lua --env prod --yes
  assert_exit 3
  assert_err_contains "the review found data that the down section of 20240102000000_rename would lose there; nothing was changed"
  assert_eq "id,name,full_name" "$(columns "$PROD_URL")" "nothing undone"
  run_stallrun workflows/abort.lua --env prod --yes --accept-data-loss --reason "full_name is a copy of name"
  assert_exit 0
  assert_eq "id,name" "$(columns "$PROD_URL")"
}
