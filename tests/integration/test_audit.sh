# The audit trail of every run that changes a database.

test_audit_records_who_commit_duration_and_outcome() {
  new_project
  git -C "$PROJECT" init -q
  git -C "$PROJECT" -c user.email=t@example.no -c user.name=t commit -q --allow-empty -m first
  local head
  head=$(git -C "$PROJECT" rev-parse HEAD)
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "deploy|$(id -un)@$(hostname)|$head|ok|true" "$(psql_q "SELECT workflow || '|' || actor || '|' || git_commit || '|' || outcome || '|' || (duration_ms >= 0 AND finished_at >= at) FROM stallmig.audit")"
  add_migration 20240102000000_b 'SELECT 1/0;'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_eq "t" "$(psql_q "SELECT outcome LIKE 'failed: migration 20240102000000_b failed at %division by zero (SQLSTATE 22012)' FROM stallmig.audit ORDER BY id DESC LIMIT 1")"
}
