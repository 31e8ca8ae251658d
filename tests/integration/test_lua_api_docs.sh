# docs/lua-api.md against the code: every function the host registers and
# every function a library module exports has its `### name` heading, every
# heading names one, every entry has an example, every ```lua block
# compiles, and every ```lua example block (a whole script) runs.

# The functions the host registers (C modules and the methods of their
# objects, as `conn:query`), and those every lua/stallmig/*.lua module
# exports (as `deploy.run`), one per line, sorted.
api_names() {
  local modules=()
  for f in "$REPO"/lua/stallmig/*.lua; do modules+=("$(basename "$f" .lua)"); done
  cat >"$PROJECT/names.lua" <<'LUA'
local ctx = ...
local names = {}
local function add(prefix, t)
  for k, v in pairs(t) do if type(v) == "function" then names[#names + 1] = prefix .. k end end
end
for _, m in ipairs({ "db", "sql", "files", "sys", "error", "guard", "http", "fleet" }) do add(m .. ".", require("stallmig." .. m)) end
add("child:", debug.getregistry()["stallmig.fleet.child"].__index)   -- fleet.spawn's
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
-- the library: every module named on the command line (stallmig.gate too,
-- which the host runs in its own state and a workflow cannot load: the
-- test says it is the host to list its names; loading it opens nothing)
debug.getregistry()["stallmig.gate.host"] = true
for _, m in ipairs(ctx.args) do add(m .. ".", require("stallmig." .. m)) end
table.sort(names)
print(table.concat(names, "\n"))
LUA
  run_stallrun names.lua --env dev "${modules[@]}"
  assert_exit 0
  [ -n "$OUT" ] || fail "no registered names found"
  sort <<<"$OUT"
}

# The `### ` headings of docs/lua-api.md, sorted; a library module's method
# written `report:say` counts as the function `report.say` it is.
documented_names() {
  local modules
  modules=$(for f in "$REPO"/lua/stallmig/*.lua; do basename "$f" .lua; done | paste -sd'|')
  grep -E '^### ' "$REPO/docs/lua-api.md" | sed 's/^### //' |
    sed -E "s/^($modules):/\\1./" | sort
}

test_lua_api_docs_match_registered_names() {
  new_project
  local registered documented
  registered=$(api_names)
  documented=$(documented_names)
  diff <(echo "$registered") <(echo "$documented") >"$CASE_TMP/diff" ||
    fail "docs/lua-api.md and the API differ (< exported or registered but without a ### heading, > a heading that names no function): $(cat "$CASE_TMP/diff")"
  # every library module is there (a module whose functions all moved away
  # would otherwise go unnoticed)
  local f m
  for f in "$REPO"/lua/stallmig/*.lua; do
    m=$(basename "$f" .lua)
    grep -qE "^### $m[.:]" "$REPO/docs/lua-api.md" || fail "lua/stallmig/$m.lua has no ### $m.* heading"
  done
}

# Reads the document once (tests/lua/lua_api_docs.lua): examples extracted
# to $CASE_TMP/examples, one line per finding in $CASE_TMP/docs.
read_docs() {
  mkdir -p "$CASE_TMP/examples"
  cp "$REPO/tests/lua/lua_api_docs.lua" "$PROJECT/"
  run_stallrun lua_api_docs.lua "$REPO/docs/lua-api.md" "$CASE_TMP/examples"
  assert_exit 0
  printf '%s\n' "$OUT" >"$CASE_TMP/docs"
}

test_lua_api_docs_every_entry_has_a_lua_block_that_compiles() {
  new_project
  read_docs
  if grep -E '^(NOEXAMPLE|NOCOMPILE|NOCOMMAND) ' "$CASE_TMP/docs" >"$CASE_TMP/bad"; then
    fail "docs/lua-api.md: an entry without an example (NOEXAMPLE), a \`\`\`lua block that does not compile (NOCOMPILE, at its line), or a \`\`\`lua example without its '--   stallrun NAME.lua ...' line (NOCOMMAND):
$(cat "$CASE_TMP/bad")"
  fi
}

# The project every example runs in, new for each: dev (protected = false),
# staging (protected, backup = true, integration_tests) and prod (protected,
# backup = true, promote_from = staging), each a new database, and two
# migrations with a down.sql each.
examples_project() {
  new_project
  local staging prod
  staging=$(new_db staging)
  prod=$(new_db prod)
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.staging]
url = $staging
backup = true
integration_tests = true

[env.prod]
url = $prod
backup = true
promote_from = staging
INI
  add_migration 20240101000000_users 'CREATE TABLE users (id int PRIMARY KEY, nickname text);'
  printf 'DROP TABLE users;\n' >"$PROJECT/migrations/20240101000000_users/down.sql"
  add_migration 20240102000000_stalls 'CREATE TABLE stalls (id int PRIMARY KEY, name text NOT NULL);'
  printf 'DROP TABLE stalls;\n' >"$PROJECT/migrations/20240102000000_stalls/down.sql"
}

test_lua_api_docs_examples_run() {
  new_project
  read_docs
  local ran=0 line words file
  while IFS= read -r line; do
    read -ra words <<<"${line#EXAMPLE }"
    file=${words[0]}
    examples_project
    cp "$CASE_TMP/examples/$file" "$PROJECT/"
    CI=true run_stallrun "$(basename "$file")" "${words[@]:1}"
    [ "$STATUS" = 0 ] || fail "the example $(basename "$file") in docs/lua-api.md failed (exit $STATUS)"
    ! grep -q 'stack traceback' "$CASE_TMP/err" || fail "the example $(basename "$file") raised a Lua error"
    ran=$((ran + 1))
  done < <(grep '^EXAMPLE ' "$CASE_TMP/docs")
  # the ones the main calls need: deploy.run, verify.run, status.run, a release
  [ "$ran" -ge 4 ] || fail "only $ran \`\`\`lua example block(s) in docs/lua-api.md"
  local call
  for call in "### deploy.run" "### verify.run" "### status.run" "## Writing a release script"; do
    awk -v h="$call" '$0 == h {on = 1; next} /^#/ {on = 0} on && $0 == "```lua example" {found = 1}
                      END {exit !found}' "$REPO/docs/lua-api.md" ||
      fail "\"$call\" in docs/lua-api.md has no \`\`\`lua example (a whole script this test runs)"
  done
}
