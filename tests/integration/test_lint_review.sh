# What the lint's new findings do in the review (verify) and the deploy
# gate on a protected environment: a NOT NULL column without a default is
# measured (refused only where the table holds rows); a backfill of a
# column added in the same run and Prisma's enum swap are not data loss.

# staging: protected (the default), backed up; users(id, role) with a type.
review_project() {
  new_project
  STAGING_URL=$(new_db staging)
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.staging]
url = $STAGING_URL
backup = true
INI
  add_migration 20240101000000_users $'CREATE TYPE "Role" AS ENUM (\'USER\', \'ADMIN\');\nCREATE TABLE users (id int PRIMARY KEY, role "Role" NOT NULL DEFAULT \'USER\');\n'
  export STAGING_URL
  CI=true run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 0
}

with_rows() {
  psql_q "INSERT INTO users (id) SELECT generate_series(1, 500)" "$STAGING_URL" >/dev/null
}

test_review_a_required_column_on_a_table_with_rows_is_refused() {
  review_project
  with_rows
  add_migration 20240102000000_phone 'ALTER TABLE users ADD COLUMN phone text NOT NULL;'
  run_stallrun workflows/verify.lua --env staging
  assert_exit 1
  assert_out_contains "add-column-not-null  ADD COLUMN users.phone NOT NULL without DEFAULT fails if users holds any row"
  assert_out_contains "ADD COLUMN public.users.phone NOT NULL without DEFAULT (line 1): the table holds 500 row(s), so it fails (nothing is lost)"
  CI=true run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 3
  assert_err_contains "20240102000000_phone: ADD COLUMN public.users.phone NOT NULL without DEFAULT (line 1): the table holds 500 row(s)"
  assert_eq "" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'phone'" "$STAGING_URL")" \
    "the column was added"
}

test_review_a_required_column_on_an_empty_table_passes_the_gate() {
  review_project
  add_migration 20240102000000_phone 'ALTER TABLE users ADD COLUMN phone text NOT NULL;'
  run_stallrun workflows/verify.lua --env staging
  assert_exit 1                                  # the finding stays an error in the review
  assert_out_contains "the table is empty, so it succeeds"
  CI=true run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 0
  assert_eq phone "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'phone'" "$STAGING_URL")"
}

test_review_a_backfill_and_an_enum_swap_are_not_data_loss() {
  review_project
  with_rows
  add_migration 20240102000000_backfill $'ALTER TABLE users ADD COLUMN phone text;\nUPDATE users SET phone = \'unknown\';\n'
  add_migration 20240103000000_role $'ALTER TYPE "Role" RENAME TO "Role_old";\nCREATE TYPE "Role" AS ENUM (\'USER\', \'ADMIN\', \'OWNER\');\nALTER TABLE users ALTER COLUMN role DROP DEFAULT;\nALTER TABLE users ALTER COLUMN role TYPE "Role" USING (role::text::"Role");\nALTER TABLE users ALTER COLUMN role SET DEFAULT \'USER\';\nDROP TYPE "Role_old";\n'
  run_stallrun workflows/verify.lua --env staging
  assert_exit 0
  assert_out_contains "warning     migrations/20240102000000_backfill/migration.sql:2:1  update-without-where  UPDATE users without WHERE fills phone (added in this run) in every row"
  assert_not_contains "drop-type"
  CI=true run_stallrun workflows/deploy.lua --env staging --yes
  assert_exit 0
  assert_eq 500 "$(psql_q "SELECT count(*) FROM users WHERE phone = 'unknown' AND role = 'USER'" "$STAGING_URL")"
}
