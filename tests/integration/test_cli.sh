# The command line, and the Lua API against its documentation.

test_help_lists_workflows_with_descriptions() {
  new_project
  run_stallrun --help
  assert_exit 0
  assert_out_contains "usage: stallrun WORKFLOW.lua [--env NAME]"
  assert_out_contains "deploy.lua"
  assert_out_contains "apply pending migrations in order"
  assert_out_contains "status.lua"
  assert_out_contains "--json"
}

test_version_needs_no_configuration() {
  new_project
  rm "$PROJECT/stallmig.ini"
  run_stallrun --version
  assert_exit 0
  assert_out_contains "stallrun 0."
}

test_no_workflow_is_a_usage_error() {
  new_project
  run_stallrun --env dev
  assert_exit 2
  assert_err_contains "no workflow given"
}
