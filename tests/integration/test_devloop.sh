# The development loop so far: create, reset-and-seed, push.

test_create_makes_ordered_descriptive_migrations() {
  new_project
  # create touches no database: the URL may lead nowhere
  sed -i 's|^url = .*$|url = postgresql://nobody@127.0.0.1:1/nothing|' "$PROJECT/stallmig.ini"
  run_stallrun workflows/create.lua --name add-user-profile-fields
  assert_exit 0
  run_stallrun workflows/create.lua --name add_user_phone
  assert_exit 0
  local first second
  first=$(ls "$PROJECT/migrations" | head -1)
  second=$(ls "$PROJECT/migrations" | tail -1)
  [[ "$first" =~ ^[0-9]{14}_add_user_profile_fields$ ]] || fail "bad folder name: $first"
  [[ "$second" =~ ^[0-9]{14}_add_user_phone$ ]] || fail "bad folder name: $second"
  [ "${first:0:14}" \< "${second:0:14}" ] || fail "timestamps not distinct and ordered: $first $second"
  [ -f "$PROJECT/migrations/$first/down.sql" ] || fail "no down.sql template"
  grep -q "do not edit it: write a new one" "$PROJECT/migrations/$first/migration.sql" || fail "no header"
  # a folder from the future (a clock ahead elsewhere) still sorts first
  mkdir "$PROJECT/migrations/29990101000000_from_the_future"
  touch "$PROJECT/migrations/29990101000000_from_the_future/migration.sql"
  run_stallrun workflows/create.lua --name add-stall-photos
  assert_exit 0
  [ -d "$PROJECT/migrations/29990101000001_add_stall_photos" ] || fail "not after the latest: $(ls "$PROJECT/migrations")"
}

test_create_refuses_names_that_say_nothing() {
  new_project
  local name
  for name in "" fix update changes test "AddUser" "add user" "add--user" "-add" "bruker_æ"; do
    run_stallrun workflows/create.lua --name "$name"
    [ "$STATUS" = 2 ] || fail "name [$name] accepted (exit $STATUS)"
    assert_err_contains "--name add-user-profile-fields"
  done
  run_stallrun workflows/create.lua
  assert_exit 2
  [ -z "$(ls "$PROJECT/migrations")" ] || fail "a refused create left a folder"
}

seeded_project() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"
  mkdir -p "$PROJECT/seeds"
  cp "$REPO/seeds/seed.sql" "$PROJECT/seeds/"
  sed -i 's/^\[project\]$/[project]\nseed = seeds\/seed.sql/' "$PROJECT/stallmig.ini"
}

test_reset_drops_reapplies_and_seeds() {
  seeded_project
  run_stallrun workflows/reset.lua --env dev
  assert_exit 0
  assert_out_contains "public.users                                  120 rows"
  assert_eq "120|20|120|90|60" "$(psql_q 'SELECT (SELECT count(*) FROM users) || $$|$$ || (SELECT count(*) FROM stables) || $$|$$ || (SELECT count(*) FROM stalls) || $$|$$ || (SELECT count(*) FROM listings) || $$|$$ || (SELECT count(*) FROM bookings)')"
  psql_q "INSERT INTO users (id, email, updated_at) VALUES ('extra', 'x@example.no', now()); CREATE TABLE scribble (x int)" >/dev/null
  run_stallrun workflows/reset.lua --env dev --json
  assert_exit 0
  assert_eq "120|" "$(psql_q "SELECT (SELECT count(*) FROM users) || '|' || coalesce(to_regclass('scribble')::text, '')")"
  assert_eq "7" "$(psql_q "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'applied'")"
  run_stallrun workflows/reset.lua --env dev --no-seed
  assert_exit 0
  assert_eq 0 "$(psql_q 'SELECT count(*) FROM users')"
}

test_reset_creates_a_missing_database() {
  seeded_project
  local db
  db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$DB_URL")
  psql_q "DROP DATABASE \"$db\"" "${DB_URL/\/$db?//postgres?}" >/dev/null
  run_stallrun workflows/reset.lua --env dev
  assert_exit 0
  assert_eq 120 "$(psql_q 'SELECT count(*) FROM users')"
}

test_reset_refused_on_protected_and_on_a_database_marked_protected() {
  seeded_project
  sed -i '/^protected = false$/d' "$PROJECT/stallmig.ini"       # dev is now protected
  run_stallrun workflows/deploy.lua --env dev --yes
  psql_q "INSERT INTO users (id, email, updated_at) VALUES ('keep', 'k@example.no', now())" >/dev/null
  run_stallrun workflows/reset.lua --env dev --yes
  assert_exit 3
  assert_err_contains "reset is dev-only work, and dev is protected"
  assert_eq 1 "$(psql_q 'SELECT count(*) FROM users')"
  # marked as production's: protected = false in the INI does not help
  printf 'protected = false\n' >>"$PROJECT/stallmig.ini"
  psql_q "UPDATE stallmig.identity SET environment = 'prod', protected = true" >/dev/null
  run_stallrun workflows/reset.lua --env dev
  assert_exit 3
  assert_err_contains "dev reaches a database marked as belonging to prod (protected)"
  assert_eq 1 "$(psql_q 'SELECT count(*) FROM users')"
}

test_failing_seed_names_its_line_and_keeps_nothing() {
  seeded_project
  printf "INSERT INTO users (id, email, updated_at) VALUES ('a', 'a@example.no', now());\nINSERT INTO nowhere VALUES (1);\n" >"$PROJECT/seeds/seed.sql"
  run_stallrun workflows/reset.lua --env dev
  assert_exit 1
  assert_err_contains "seeds/seed.sql:2: the seed failed (nothing of it was kept)"
  assert_eq 0 "$(psql_q 'SELECT count(*) FROM users')"
}

test_push_is_for_disposable_environments_only() {
  new_project
  PROD_URL=$(new_db)
  printf '\n[env.prod]\nurl = %s\n' "$PROD_URL" >>"$PROJECT/stallmig.ini"
  printf 'CREATE TABLE prototype (id int);\n' >"$PROJECT/schema.sql"
  run_stallrun workflows/push.lua --env dev --file schema.sql
  assert_exit 0
  assert_out_contains "not recorded as a migration"
  assert_eq "prototype|" "$(psql_q "SELECT to_regclass('prototype') || '|' || coalesce(to_regnamespace('stallmig')::text, '')")"
  run_stallrun workflows/push.lua --env prod --file schema.sql --yes
  assert_exit 3
  assert_err_contains "push is dev-only work, and prod is protected"
  assert_eq "" "$(psql_q "SELECT to_regclass('prototype')" "$PROD_URL")"
  run_stallrun workflows/push.lua --env dev
  assert_exit 2
  assert_err_contains "--file FILE is required"
}

# url = local:NAME — the project's own cluster, made and started on demand.
test_local_database_out_of_the_box() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"
  sed -i 's|^url = .*$|url = local:stallplass_dev|' "$PROJECT/stallmig.ini"
  run_stallrun workflows/local.lua status
  assert_out_contains "stopped"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  [ -f "$PROJECT/.stallmig/pg/data/PG_VERSION" ] || fail "no cluster in .stallmig/pg"
  local pid
  pid=$(head -1 "$PROJECT/.stallmig/pg/data/postmaster.pid")
  run_stallrun workflows/status.lua --env dev
  assert_exit 0
  assert_eq "$pid" "$(head -1 "$PROJECT/.stallmig/pg/data/postmaster.pid")" "the running cluster is reused"
  ! ss -ltn 2>/dev/null | grep -q ":5432 .*$pid" || fail "the local cluster listens on TCP"
  run_stallrun workflows/local.lua stop
  assert_exit 0
  assert_out_contains "stopped"
  run_stallrun workflows/status.lua --env dev      # started again on demand
  assert_exit 0
  run_stallrun workflows/local.lua stop
  sed -i 's|^url = .*$|url = local:|' "$PROJECT/stallmig.ini"
  run_stallrun workflows/status.lua --env dev
  assert_exit 2                                    # a configuration error
  assert_err_contains "write local:DATABASE, e.g. local:stallplass_dev"
}

# Issue 13: a name that is taken is refused, naming the folder that has it,
# and a refusal never suggests a name the project already uses.
test_create_refuses_a_name_that_is_taken() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"     # has 20240311152000_add_user_profile_fields
  run_stallrun workflows/create.lua --name add-user-profile-fields
  assert_exit 2
  assert_err_contains "a migration named add_user_profile_fields exists already: migrations/20240311152000_add_user_profile_fields"
  run_stallrun workflows/create.lua --name add_user_profile_fields
  assert_exit 2
  assert_eq 7 "$(ls -d "$PROJECT"/migrations/*/ | wc -l)" "a refused create left a folder"
  run_stallrun workflows/create.lua --name fix
  assert_exit 2
  assert_not_contains "--name add-user-profile-fields"
  assert_err_contains "--name add-stall-photos"
  run_stallrun workflows/create.lua --name add-stall-photos
  assert_exit 0
  run_stallrun workflows/create.lua --name add-stall-photos
  assert_exit 2
  assert_err_contains "a migration named add_stall_photos exists already: migrations/"
  assert_eq 8 "$(ls -d "$PROJECT"/migrations/*/ | wc -l)" "two migrations with one name"
  run_stallrun workflows/create.lua --name update
  assert_err_contains "--name index-bookings-by-start-date"
}

# Issue 13: a new migration.sql holds only comments until it is written;
# create says so, and warns about an existing one left empty.
test_create_warns_about_empty_migrations() {
  new_project
  run_stallrun workflows/create.lua --name add-notes
  assert_exit 0
  assert_out_contains "Its migration.sql holds only comments so far: write the change in it"
  assert_eq "" "$ERR" "a warning about the only, new migration"
  run_stallrun workflows/create.lua --name add-tags
  assert_exit 0
  assert_err_contains "_add_notes/migration.sql holds no SQL statement, only comments: deploy applies it as an empty migration"
}

# Issue 13: an unreadable --file is a usage error (exit 2), nothing sent.
test_push_of_a_file_that_cannot_be_read_is_a_usage_error() {
  new_project
  run_stallrun workflows/push.lua --env dev --file missing.sql
  assert_exit 2
  assert_err_contains "missing.sql"
  assert_err_contains "hint: --file takes the path of a readable SQL file"
  mkdir "$PROJECT/folder.sql"
  run_stallrun workflows/push.lua --env dev --file folder.sql
  assert_exit 2
}
