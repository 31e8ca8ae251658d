# adopt.lua: a database Prisma migrated, or one made by hand.

# The example history applied the way Prisma would, with Prisma's table.
prisma_database() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"
  psql_q 'CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0)' >/dev/null
  local dir name
  for dir in "$PROJECT"/migrations/*/; do
    name=$(basename "$dir")
    "$PSQL" -XAtq -v ON_ERROR_STOP=1 -d "$DB_URL" -f "$dir/migration.sql" >/dev/null || fail "cannot apply $name"
    psql_q "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count)
      VALUES (gen_random_uuid(), '$(sha256sum "$dir/migration.sql" | cut -d' ' -f1)', now(), '$name', 1)" >/dev/null
  done
}

test_adopt_from_prisma_applies_nothing_twice() {
  prisma_database
  run_stallrun workflows/adopt.lua --env dev --from prisma
  assert_exit 0
  assert_out_contains "dev: 7 migration(s) recorded as applied (adopted from _prisma_migrations)."
  run_stallrun workflows/status.lua --env dev
  assert_exit 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy"
  run_stallrun workflows/adopt.lua --env dev --from prisma
  assert_exit 1
  assert_err_contains "already has a stallmig history"
}

test_adopt_reports_every_mismatch_and_imports_nothing() {
  prisma_database
  printf '\n-- edited after Prisma applied it\n' >>"$PROJECT/migrations/20240205110000_add_listings/migration.sql"
  rm -r "$PROJECT/migrations/20240219083000_add_bookings"
  psql_q "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) VALUES
    (gen_random_uuid(), 'x', '20240501000000_half_done', 'error: ...');
    INSERT INTO _prisma_migrations (id, checksum, migration_name, rolled_back_at) VALUES
    (gen_random_uuid(), 'y', '20240502000000_given_up', now())" >/dev/null
  run_stallrun workflows/adopt.lua --env dev --from prisma
  assert_exit 1
  assert_err_contains "3 row(s) of _prisma_migrations do not match the migrations folder; nothing was adopted"
  assert_err_contains "20240205110000_add_listings: the file differs from what Prisma applied (checksum)"
  assert_err_contains "20240219083000_add_bookings: applied by Prisma, but there is no such folder"
  assert_err_contains "20240501000000_half_done: failed in Prisma"
  assert_eq "" "$(psql_q "SELECT to_regclass('stallmig.migrations')")" "something was imported"
}

test_baseline_marks_without_running() {
  new_project
  cp -r "$REPO"/migrations/. "$PROJECT/migrations/"
  "$PSQL" -XAtq -d "$DB_URL" -f "$PROJECT/migrations/20240115093000_init_users/migration.sql" >/dev/null
  run_stallrun workflows/adopt.lua --env dev --baseline 20240115093000_init_users
  assert_exit 0
  assert_eq "baseline: recorded as applied without running it" "$(psql_q "SELECT note FROM stallmig.migrations")"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Deploying 6 migration(s)"
  run_stallrun workflows/adopt.lua --env dev --baseline nope
  assert_exit 1
}

# The first deploy onto a database Prisma migrated (its tables and
# _prisma_migrations, no stallmig history) applies nothing twice: it refuses
# and names adopt.lua, with prisma_compat and without.
test_first_deploy_over_a_prisma_history_refuses_and_names_adopt() {
  prisma_database
  local compat
  for compat in false true; do
    sed -i '/^prisma_compat = /d' "$PROJECT/stallmig.ini"
    printf 'prisma_compat = %s\n' "$compat" >>"$PROJECT/stallmig.ini"
    run_stallrun workflows/deploy.lua --env dev
    assert_exit 3
    assert_err_contains "dev's database has no stallmig history but already holds a schema of its own"
    assert_err_contains "stallrun workflows/adopt.lua --env dev --from prisma"
    assert_eq "7" "$(psql_q "SELECT count(*) FROM _prisma_migrations")" "prisma_compat=$compat wrote rows"
    assert_eq "" "$(psql_q "SELECT to_regclass('stallmig.migrations')")" "prisma_compat=$compat: a history"
  done
  run_stallrun workflows/adopt.lua --env dev --from prisma
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy"
}

# A schema of the database's own (made by hand) refuses the first deploy;
# adopt.lua --baseline none says the migrations are all still to apply over
# it; an empty database, or one holding only extensions, deploys at once.
test_first_deploy_over_a_schema_of_its_own_needs_a_baseline_choice() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  psql_q "CREATE TABLE legacy (id int); CREATE TYPE mood AS ENUM ('ok')" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 3
  assert_err_contains "(1 table(s), view(s) or sequence(s), 1 types)"
  assert_err_contains "--baseline LAST_APPLIED_MIGRATION; if none of them is there and they should all run over what is: --baseline none"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")"
  run_stallrun workflows/adopt.lua --env dev --baseline none
  assert_exit 0
  assert_out_contains "dev: 0 migration(s) recorded as applied"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "a|legacy" "$(psql_q "SELECT to_regclass('a') || '|' || to_regclass('legacy')")"
  # only what an extension made: deploys
  local other
  other=$(new_db ext)
  psql_q "CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE EXTENSION IF NOT EXISTS pg_trgm" "$other" >/dev/null
  printf '\n[env.fresh]\nurl = %s\nprotected = false\n' "$other" >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env fresh
  assert_exit 0
  assert_eq "a" "$(psql_q "SELECT to_regclass('a')" "$other")"
}

# The first deploy's quick look (is anything of the database's own there?)
# misses no kind OWN_OBJECTS counts: a database holding only one table,
# view, sequence, function, enum, domain, composite type, range type or
# empty schema of its own refuses, each counted; one holding nothing
# deploys.
test_first_deploy_refuses_each_kind_of_object_alone() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  local kind url n=0
  while IFS='|' read -r kind sql; do
    n=$((n + 1))
    url=$(new_db "own$n")
    psql_q "$sql" "$url" >/dev/null
    printf '\n[env.own%d]\nurl = %s\nprotected = false\n' "$n" "$url" >>"$PROJECT/stallmig.ini"
    run_stallrun workflows/deploy.lua --env "own$n"
    assert_exit 3
    assert_err_contains "own$n's database has no stallmig history but already holds a schema of its own (1 $kind)"
    assert_eq "" "$(psql_q "SELECT to_regclass('a')" "$url")" "$kind: the migration ran"
  done <<'KINDS'
table(s), view(s) or sequence(s)|CREATE TABLE t (id int)
table(s), view(s) or sequence(s)|CREATE VIEW v AS SELECT 1 AS one
table(s), view(s) or sequence(s)|CREATE SEQUENCE s
functions|CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'
types|CREATE TYPE mood AS ENUM ('ok')
types|CREATE DOMAIN positive AS int CHECK (VALUE > 0)
types|CREATE TYPE pair AS (a int, b int)
schemas|CREATE SCHEMA app
KINDS
  url=$(new_db own_range)
  psql_q "CREATE TYPE span AS RANGE (subtype = int4)" "$url" >/dev/null
  printf '\n[env.own_range]\nurl = %s\nprotected = false\n' "$url" >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env own_range
  assert_exit 3
  assert_err_contains "holds a schema of its own ("
  url=$(new_db nothing)
  printf '\n[env.nothing]\nurl = %s\nprotected = false\n' "$url" >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env nothing
  assert_exit 0
  assert_eq "a" "$(psql_q "SELECT to_regclass('a')" "$url")"
}
