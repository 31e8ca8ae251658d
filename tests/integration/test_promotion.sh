# promote_from = staging: production takes only what staging has applied.

promotion_project() {
  new_project                                   # [env.dev] is staging here
  STAGING_URL=$DB_URL
  PROD_URL=$(new_db prod)
  sed -i 's/^\[env.dev\]$/[env.staging]/' "$PROJECT/stallmig.ini"
  printf '\n[env.prod]\nurl = %s\npromote_from = staging\n' "$PROD_URL" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
}

test_promotion_gate_accepts_what_staging_applied() {
  promotion_project
  run_stallrun workflows/deploy.lua --env staging
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  assert_eq "a|b" "$(psql_q "SELECT to_regclass('a') || '|' || to_regclass('b')" "$PROD_URL")"
}

test_promotion_gate_refuses_what_staging_has_not() {
  promotion_project
  run_stallrun workflows/deploy.lua --env staging
  add_migration 20240103000000_c 'CREATE TABLE c (id int);'            # not in staging yet
  printf '\n-- edited after staging\n' >>"$PROJECT/migrations/20240102000000_b/migration.sql"
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 3
  assert_err_contains "prod only takes migrations staging has applied; 2 are not:"
  assert_err_contains "20240102000000_b (staging applied a different version of the file)"
  assert_err_contains "20240103000000_c (not applied in staging)"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')" "$PROD_URL")" "nothing applied to prod"
}

test_promotion_gate_refuses_when_staging_is_unreachable_unless_overridden() {
  promotion_project
  sed -i "0,/^url = .*/s||url = postgresql://nobody@127.0.0.1:1/staging|" "$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 3
  assert_err_contains "prod only takes migrations staging has applied, and staging cannot be read"
  run_stallrun workflows/deploy.lua --env prod --yes --skip-promotion-check
  assert_exit 2
  assert_err_contains "--skip-promotion-check needs --reason TEXT"
  run_stallrun workflows/deploy.lua --env prod --yes --skip-promotion-check --reason "staging is down, hotfix INC-42"
  assert_exit 0
  assert_err_contains "promotion check against staging skipped: staging is down, hotfix INC-42"
  assert_eq "deploy|--skip-promotion-check (reason: staging is down, hotfix INC-42)" \
    "$(psql_q "SELECT action || '|' || overrides FROM stallmig.audit" "$PROD_URL")"
}
