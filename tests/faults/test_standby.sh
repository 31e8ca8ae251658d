# A target that is a read-only hot standby (issue 7): it grants the advisory
# lock and would fail only at the first DDL, so deploy (and every workflow
# that writes) refuses before anything is attempted; status works.

# standby_project — a primary cluster and its hot standby under $CASE_TMP,
# a database "app" with one migration deployed on the primary, and a
# project whose [env.replica] points at the standby. Stops both at the end.
standby_project() {
  primary_cluster
  PROJECT=$(mktemp -d "$CASE_TMP/project.XXXX")
  DB_URL=$PRIMARY_URL
  mkdir -p "$PROJECT/migrations"
  cat >"$PROJECT/stallmig.ini" <<INI
[project]
migrations = migrations

[env.primary]
url = $PRIMARY_URL
protected = false

[env.replica]
url = $REPLICA_URL
protected = false
INI
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/deploy.lua --env primary
  assert_exit 0
  start_standby
  add_migration 20240101000001_b 'CREATE TABLE b (id int);'
}

test_deploy_to_a_hot_standby_is_refused_before_anything() {
  standby_project
  local audits
  audits=$(psql_q 'SELECT count(*) FROM stallmig.audit')
  run_stallrun workflows/deploy.lua --env replica
  assert_exit 3
  assert_err_contains "stallrun: replica's database is a read-only hot standby (in recovery): point url at the primary"
  assert_err_contains "hint: set the url of [env.replica]"
  assert_not_contains "read-only transaction"
  assert_not_contains "Deploying"
  assert_eq "|$audits" "$(psql_q "SELECT coalesce(to_regclass('b')::text, '') || '|' || (SELECT count(*) FROM stallmig.audit)")" \
    "nothing was applied or recorded on the primary"
  # the history the standby shows still has only the first migration
  assert_eq 1 "$(psql_q 'SELECT count(*) FROM stallmig.migrations' "$REPLICA_URL")"
}

test_status_and_doctor_work_on_a_hot_standby() {
  standby_project
  run_stallrun workflows/status.lua --env replica
  assert_exit 1                      # status' own "not up to date"
  assert_out_contains "replica: 1 applied, 1 pending"
  assert_not_contains "hot standby"
  run_stallrun workflows/doctor.lua --env replica
  assert_out_contains "hot standby"
}

test_resolve_and_restamp_on_a_hot_standby_are_refused() {
  standby_project
  run_stallrun workflows/resolve.lua --env replica --migration 20240101000000_a --rolled-back --reason test
  assert_exit 3
  assert_err_contains "read-only hot standby (in recovery)"
  run_stallrun workflows/restamp.lua --env replica --yes
  assert_exit 3
  assert_err_contains "read-only hot standby (in recovery)"
  assert_not_contains "read-only transaction"
}
