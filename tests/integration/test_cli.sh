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

# Every function the host registers has a "### name" heading in
# docs/lua-api.md, and every heading names a registered function.
test_lua_api_docs_match_registered_names() {
  new_project
  cat >"$PROJECT/names.lua" <<'LUA'
local names = {}
local function add(prefix, t)
  for k, v in pairs(t) do if type(v) == "function" then names[#names + 1] = prefix .. k end end
end
for _, m in ipairs({ "db", "sql", "files", "sys", "error", "guard" }) do add(m .. ".", require("stallmig." .. m)) end
-- methods: a connection, a transaction and a scan, reached through their metatables
local db = require("stallmig.db")
local conn <close> = db.connect("dev")
add("conn:", getmetatable(conn).__index)
local tx <close> = conn:transaction()
add("tx:", getmetatable(tx).__index)
tx:rollback()
local scan <close> = require("stallmig.files").scan(".")
add("scan:", getmetatable(scan).__index)
local change <close> = conn:begin_change("docs")
add("change:", getmetatable(change).__index)
table.sort(names)
print(table.concat(names, "\n"))
LUA
  run_stallrun names.lua --env dev
  assert_exit 0
  local registered documented
  registered=$(sort <<<"$OUT")
  documented=$(grep -E '^### ' "$REPO/docs/lua-api.md" | sed 's/^### //' | sort)
  [ -n "$registered" ] || fail "no registered names found"
  diff <(echo "$registered") <(echo "$documented") >"$CASE_TMP/diff" \
    || fail "docs/lua-api.md and the registered API differ (< registered, > documented): $(cat "$CASE_TMP/diff")"
}
