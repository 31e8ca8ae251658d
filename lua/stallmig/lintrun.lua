-- stallmig.lintrun — the offline lint (workflows/lint.lua): migration files
-- and folders linted without a database, each file against the state its
-- predecessors built, as verify lints the pending ones.
--   local list = lintrun.collect(ctx.config, ctx.args)  -- files, in order
--   local findings, counts = lintrun.run(list, lint.rules(ctx.config))
local files = require("stallmig.files")
local errors = require("stallmig.error")
local migrations = require("stallmig.migrations")
local lint = require("stallmig.lint")

local M = {}

local function migration(name, path, shown)
  return { name = name, path = path, file = shown }
end

-- The migrations of a folder, in byte-wise order of their names: every
-- NAME/migration.sql (Prisma's layout) and every NAME.sql (dbmate's, Flyway's).
local function folder(dir, shown)
  local list = {}
  for _, entry in ipairs(files.list(dir)) do
    local name = entry.name
    if name:sub(1, 1) ~= "." then
      local sub = dir .. "/" .. name .. "/migration.sql"
      if entry.type ~= "file" and files.kind(sub) == "file" then
        list[#list + 1] = migration(name, sub, shown .. "/" .. name .. "/migration.sql")
      elseif name:match("%.sql$") and files.kind(dir .. "/" .. name) == "file" then
        list[#list + 1] = migration(name:sub(1, -5), dir .. "/" .. name, shown .. "/" .. name)
      end
    end
  end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

local function no_path(path)
  return errors.new("usage", "there is no file or folder " .. path .. " to lint", {
    file = path, hint = "pass migration files or folders (default: the project's migrations folder)" })
end

-- The files to lint: each PATH in the order given (a folder's migrations in
-- their order), or the project's migrations folder when none is given.
function M.collect(config, paths)
  if #paths == 0 then
    local rel = migrations.display_path(config, config.migrations)
    if files.kind(config.migrations) ~= "dir" then error(no_path(rel), 0) end
    return folder(config.migrations, rel)
  end
  local list = {}
  for _, path in ipairs(paths) do
    local kind = files.kind(path)
    local shown = path:gsub("/+$", "")
    if kind == "dir" then
      local inside = folder(path, shown)
      table.move(inside, 1, #inside, #list + 1, list)
    elseif kind == "file" then
      local base = shown:match("([^/]+)$")
      local name = base == "migration.sql" and shown:match("([^/]+)/migration%.sql$") or base:gsub("%.sql$", "")
      list[#list + 1] = migration(name, path, shown)
    else
      error(no_path(path), 0)
    end
  end
  return list
end

local function lint_all(list, rules, opts)
  local state, findings = lint.context(opts), {}
  for _, m in ipairs(list) do
    migrations.load(m, {}, true) -- with the tree: one parse a file
    local found = lint.check(m, rules, state)
    table.move(found, 1, #found, #findings + 1, findings)
    migrations.release(m)
  end
  return findings
end

-- Lints the files in order with one state. A file that does not parse
-- raises (file:line:column). Returns every finding and lint.counts of them.
-- A lint's garbage is its parse trees while what it keeps is small, so the
-- host's pause (a cycle at every 20% of growth, src/lstate.c) ran the
-- collector every few files: it took a third of the time. While linting it
-- waits for 400% (1000 files: 0.47 -> 0.36 s CPU, peak 13 -> 23 MB, a peak
-- that does not grow with the number of files); the host's pause is put back.
function M.run(list, rules, opts)
  local pause = collectgarbage("setpause", 400)
  local ok, findings = pcall(lint_all, list, rules, opts)
  collectgarbage("setpause", pause)
  if not ok then error(findings, 0) end
  return findings, lint.counts(findings)
end

return M
