# Drift: snapshots, the shadow database, drift.lua and dev.lua.

test_schemadiff_names_differences_on_hand_made_snapshots() {
  new_project
  cp "$REPO/tests/lua/schemadiff_cases.lua" "$PROJECT/"
  run_stallrun schemadiff_cases.lua
  assert_exit 0
  assert_out_contains "schemadiff: all cases hold"
}

example_project() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"
}

shadows_left() {
  psql_q "SELECT count(*) FROM pg_database WHERE datname LIKE 'stallmig_shadow%'"
}

test_drift_names_hand_made_changes_on_a_real_schema() {
  example_project
  run_stallrun workflows/deploy.lua --env dev
  run_stallrun workflows/drift.lua --env dev
  assert_exit 0
  assert_out_contains "dev matches its 7 applied migration(s)."
  psql_q 'ALTER TABLE users ADD COLUMN nickname text;
    ALTER TABLE listings ALTER COLUMN title TYPE varchar(80);
    DROP INDEX "bookings_rider_id_idx";
    ALTER TABLE stalls ADD CONSTRAINT stalls_label_short CHECK (length(label) < 40);
    ALTER TYPE "Role" ADD VALUE '"'"'GROOM'"'"'' >/dev/null
  run_stallrun workflows/drift.lua --env dev --json
  assert_exit 1
  local text
  text=$(python3 -c "import json,sys; print('\n'.join(json.load(open(sys.argv[1]))['differences']))" "$CASE_TMP/out")
  for line in "table public.users: column nickname added (text)" \
      "table public.listings: column title: type text -> character varying(80)" \
      "index public.bookings_rider_id_idx removed" \
      "table public.stalls: check constraint stalls_label_short added" \
      "enum public.Role: value GROOM added" \
      "index public.listings_title_idx changed"; do   # its expression follows title's type
    grep -qF "$line" <<<"$text" || fail "drift does not say [$line]; it said: $text"
  done
  assert_eq 6 "$(wc -l <<<"$text")" "exactly the six differences"
  assert_eq 0 "$(shadows_left)" "shadow databases left behind"
}

test_shadow_is_dropped_after_failure_and_interrupt() {
  example_project
  run_stallrun workflows/deploy.lua --env dev
  # an applied migration that needs an object made by hand cannot replay
  psql_q "CREATE TABLE handmade (id int)" >/dev/null
  add_migration 20250101000000_uses_handmade 'ALTER TABLE handmade ADD COLUMN note text;'
  run_stallrun workflows/deploy.lua --env dev
  run_stallrun workflows/drift.lua --env dev
  assert_exit 1
  assert_err_contains "20250101000000_uses_handmade does not replay on an empty database"
  assert_eq 0 "$(shadows_left)" "shadow left after a failed replay"
  # a slow migration: interrupt the replay
  rm -r "$PROJECT/migrations/20250101000000_uses_handmade"
  psql_q "DELETE FROM stallmig.migrations WHERE name = '20250101000000_uses_handmade'; DROP TABLE handmade" >/dev/null
  add_migration 20250102000000_slow 'SELECT pg_sleep(20);'
  # recorded as applied without running it (a baseline), so only the replay sleeps
  psql_q "INSERT INTO stallmig.migrations (name, checksum, started_at, applied_by, environment, mode, outcome)
    VALUES ('20250102000000_slow', '$(printf 'SELECT pg_sleep(20);' | sha256sum | cut -d' ' -f1)', now(), 'test', 'dev', 'transactional', 'applied')" >/dev/null
  (cd "$PROJECT" && exec "$STALLRUN" workflows/drift.lua --env dev) >"$CASE_TMP/out" 2>"$CASE_TMP/err" &
  local pid=$! tries=0
  until [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN;%pg_sleep(20)%'")" = 1 ]; do
    tries=$((tries + 1)); [ $tries -lt 200 ] || fail "the replay never reached the slow migration"; sleep 0.05
  done
  [ "$(shadows_left)" = 1 ] || fail "no shadow database while replaying"
  kill -INT "$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_eq 130 "$rc" "exit status after SIGINT"
  assert_eq 0 "$(shadows_left)" "shadow left after SIGINT"
}

test_dev_applies_and_checks_without_resetting_unasked() {
  example_project
  run_stallrun workflows/dev.lua --env dev
  assert_exit 0
  assert_out_contains "Applying 7 migration(s) to dev"
  assert_out_contains "dev is in sync with its 7 migration(s)."
  psql_q "INSERT INTO users (id, email, updated_at) VALUES ('keep', 'k@example.no', now()); ALTER TABLE users ADD COLUMN nickname text" >/dev/null
  run_stallrun workflows/dev.lua --env dev
  assert_exit 1
  assert_out_contains "table public.users: column nickname added (text)"
  assert_err_contains "--reset"
  assert_eq 1 "$(psql_q 'SELECT count(*) FROM users')" "dev reset without being asked"
  run_stallrun workflows/dev.lua --env dev --reset
  assert_exit 0
  assert_eq "0|" "$(psql_q "SELECT (SELECT count(*) FROM users) || '|' || coalesce((SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'nickname'), '')")"
}

test_dev_detects_edited_and_deleted_migrations() {
  example_project
  run_stallrun workflows/dev.lua --env dev
  printf '\n-- edited\n' >>"$PROJECT/migrations/20240205110000_add_listings/migration.sql"
  run_stallrun workflows/dev.lua --env dev
  assert_exit 1
  assert_err_contains "20240205110000_add_listings was edited after it was applied"
  git -C "$PROJECT" init -q 2>/dev/null || true
  cp "$REPO/migrations/20240205110000_add_listings/migration.sql" "$PROJECT/migrations/20240205110000_add_listings/"
  rm -r "$PROJECT/migrations/20240402094500_index_listings_title"
  run_stallrun workflows/dev.lua --env dev
  assert_exit 1
  assert_err_contains "20240402094500_index_listings_title was applied but its folder is gone"
}

test_pushed_prototype_shows_as_drift() {
  example_project
  run_stallrun workflows/dev.lua --env dev
  printf 'CREATE TABLE prototype (id int PRIMARY KEY);\n' >"$PROJECT/proto.sql"
  run_stallrun workflows/push.lua --env dev --file proto.sql
  assert_exit 0
  run_stallrun workflows/dev.lua --env dev
  assert_exit 1
  assert_out_contains "table public.prototype added"
}

# Prototype with push, capture it with create --from-diff, and the captured
# migration rebuilds exactly that schema.
test_create_from_diff_captures_a_prototype() {
  example_project
  run_stallrun workflows/dev.lua --env dev
  cat >"$PROJECT/proto.sql" <<'SQL'
CREATE TABLE stall_photos (id bigserial PRIMARY KEY, stall_id text NOT NULL REFERENCES stalls(id),
  url text NOT NULL, taken_at timestamptz DEFAULT now());
CREATE INDEX stall_photos_stall ON stall_photos (stall_id);
ALTER TABLE users ADD COLUMN nickname varchar(40) NOT NULL DEFAULT '';
ALTER TABLE users DROP COLUMN bio;
ALTER TYPE "Role" ADD VALUE 'GROOM';
CREATE FUNCTION hello() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
SQL
  run_stallrun workflows/push.lua --env dev --file proto.sql
  run_stallrun workflows/create.lua --name add-stall-photos --from-diff --env dev
  assert_exit 0
  assert_out_contains "not expressed (write it by hand): function public.hello() was added or changed"
  local file
  file=$(ls "$PROJECT"/migrations/*_add_stall_photos/migration.sql)
  grep -q 'CREATE TABLE public.stall_photos' "$file" || fail "no CREATE TABLE in $(cat "$file")"
  grep -q 'DROP COLUMN bio' "$file" || fail "no DROP COLUMN"
  # the function is written by hand, as the note says
  printf 'CREATE FUNCTION hello() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n' >>"$file"
  run_stallrun workflows/dev.lua --env dev --reset
  assert_exit 0
  run_stallrun workflows/dev.lua --env dev
  assert_exit 0
  assert_out_contains "dev is in sync with its 8 migration(s)."
  run_stallrun workflows/create.lua --name nothing-changed --from-diff --env dev
  assert_exit 0
  assert_out_contains "Nothing to capture"
}

# At a terminal dev.lua asks before resetting; "n" keeps the data.
test_dev_asks_at_a_terminal_before_resetting() {
  example_project
  run_stallrun workflows/dev.lua --env dev
  psql_q "INSERT INTO users (id, email, updated_at) VALUES ('keep', 'k@example.no', now()); ALTER TABLE users ADD COLUMN nickname text" >/dev/null
  local cmd="cd '$PROJECT' && '$STALLRUN' workflows/dev.lua --env dev" rc=0
  printf 'n\n' | env -u CI script -qec "$cmd" /dev/null >"$CASE_TMP/tty.out" 2>&1 || rc=$?
  grep -q "and re-apply every migration? \[y/N\]" "$CASE_TMP/tty.out" || { cat "$CASE_TMP/tty.out"; fail "no question"; }
  assert_eq 1 "$rc" "exit status after answering no"
  assert_eq 1 "$(psql_q 'SELECT count(*) FROM users')" "data kept after answering no"
  rc=0
  printf 'y\n' | env -u CI script -qec "$cmd" /dev/null >"$CASE_TMP/tty.out" 2>&1 || rc=$?
  assert_eq 0 "$rc" "exit status after answering yes"
  assert_eq 0 "$(psql_q 'SELECT count(*) FROM users')" "reset after answering yes"
}

# Issue 13: after create --from-diff the captured migration is pending while
# dev already holds what it makes: that is no drift to capture again (a
# second --from-diff finds nothing), and dev says a reset applies it.
test_a_captured_prototype_is_not_drift() {
  example_project
  run_stallrun workflows/dev.lua --env dev
  printf 'CREATE TABLE prototype (id int PRIMARY KEY);\n' >"$PROJECT/proto.sql"
  run_stallrun workflows/push.lua --env dev --file proto.sql
  run_stallrun workflows/create.lua --name add-prototype --from-diff --env dev
  assert_exit 0
  run_stallrun workflows/create.lua --name add-prototype-again --from-diff --env dev
  assert_exit 0
  assert_out_contains "Nothing to capture: dev matches its migrations, the 1 pending one(s) included"
  run_stallrun workflows/dev.lua --env dev
  assert_exit 1
  assert_not_contains "--from-diff --env dev), or reset"
  assert_not_contains "has drifted"
  assert_err_contains "dev already holds what its 1 pending migration(s) make"
  assert_err_contains "stallrun workflows/dev.lua --env dev --reset"
  assert_eq 0 "$(shadows_left)" "a shadow left"
  run_stallrun workflows/dev.lua --env dev --reset
  assert_exit 0
  run_stallrun workflows/dev.lua --env dev
  assert_exit 0
  assert_out_contains "dev is in sync with its 8 migration(s)."
  # a prototype the pending migration does not capture is still drift
  psql_q "CREATE TABLE scribble (x int)" >/dev/null
  run_stallrun workflows/create.lua --name add-more --env dev
  run_stallrun workflows/dev.lua --env dev
  assert_exit 1
  assert_out_contains "table public.scribble added"
}
