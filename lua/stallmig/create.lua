-- stallmig.create — a new migration folder: a descriptive name, a UTC
-- timestamp later than every existing one, and commented templates.
local files = require("stallmig.files")
local sys = require("stallmig.sys")
local errors = require("stallmig.error")

local create = {}

-- Single words that say nothing about what a migration does.
local GENERIC = {}
for word in ([[fix fixes update updates change changes test tests temp tmp wip misc stuff
    migration migrations migrate new changeset patch schema db database]]):gmatch("%S+") do
  GENERIC[word] = true
end

-- The folder of `found` (migrations.discover) whose name part is `snake`,
-- or nil: "20240311152000_add_user_profile_fields" has the name part
-- "add_user_profile_fields" (a folder without a timestamp: its whole name).
function create.taken(found, snake)
  for _, m in ipairs(found or {}) do
    if (m.name:match("^%d%d%d%d%d%d%d%d%d%d%d%d%d%d_(.+)$") or m.name) == snake then return m end
  end
  return nil
end

-- Names a refusal may show as an example: the first one the project does
-- not use yet (the example project has an add_user_profile_fields).
local EXAMPLES = { "add-user-profile-fields", "add-stall-photos", "index-bookings-by-start-date",
  "add-invoices-table" }

local function example(found)
  for _, e in ipairs(EXAMPLES) do
    if not create.taken(found, (e:gsub("-", "_"))) then return e end
  end
  return "add-what-it-adds"
end

local function refuse(why, found)
  error(errors.new("usage", why, {
    hint = "say what the migration does, in lowercase words: --name " .. example(found) }), 0)
end

-- The folder's name part (snake_case) for a --name, or a usage error: also
-- when a folder of `found` (optional) has that name already, since two
-- migrations with one name cannot be told apart in status, verify or a
-- resolve command.
function create.check_name(name, found)
  if type(name) ~= "string" or name:match("^%s*$") then
    refuse("--name is required and must not be empty", found)
  end
  if not name:match("^[a-z][a-z0-9]*$") and not name:match("^[a-z][a-z0-9]*[-_][a-z0-9_-]*[a-z0-9]$") then
    refuse(string.format("'%s' is not lowercase words (letters and digits, separated by - or _)", name), found)
  end
  if name:match("[-_][-_]") then refuse(string.format("'%s' has an empty word", name), found) end
  if GENERIC[name] then refuse(string.format("'%s' does not say what the migration does", name), found) end
  local snake = name:gsub("-", "_")
  if #snake > 200 then refuse("the name is longer than 200 characters", found) end
  local same = create.taken(found, snake)
  if same then
    error(errors.new("usage", string.format("a migration named %s exists already: %s%s", snake,
      found.rel or "", same.name), { hint = "if this is the same change and it is applied nowhere yet, "
      .. "write it in that folder's migration.sql; otherwise give this migration a name that says how "
      .. "it differs" }), 0)
  end
  return snake
end

-- A 14-digit UTC timestamp: now, or one second after the latest existing
-- migration when that is not earlier (two creates in one second stay ordered).
function create.next_timestamp(found)
  local at = sys.epoch()
  for _, m in ipairs(found) do
    local prefix = m.name:match("^(%d%d%d%d%d%d%d%d%d%d%d%d%d%d)_")
    local t = prefix and sys.epoch(prefix)
    if t and t >= at then at = t + 1 end
  end
  return sys.utc_timestamp(at)
end

local TEMPLATE = [[
-- Migration %s, created %s by %s.
--
-- Write the change below in PostgreSQL's SQL. stallrun runs this file and
-- its history row in one transaction, unless the file has its own BEGIN/
-- COMMIT or needs autocommit (CREATE INDEX CONCURRENTLY: keep such a
-- statement alone in its file). Once this migration has been applied
-- anywhere, do not edit it: write a new one.

]]

local DOWN = [[
-- Rollback of %s: SQL that undoes migration.sql (the rollback plan).
-- If the change cannot be undone (it drops data), say so here.

]]

-- Creates migrations/<timestamp>_<name>/ with migration.sql and down.sql;
-- body (optional) follows migration.sql's header.
-- Returns the folder's path as the user knows it.
function create.folder(config, found, name, body)
  local snake = create.check_name(name, found)
  local folder = create.next_timestamp(found) .. "_" .. snake
  if files.kind(config.migrations) == nil then files.mkdir(config.migrations) end
  local dir = config.migrations .. "/" .. folder
  files.mkdir(dir)
  files.create(dir .. "/migration.sql", TEMPLATE:format(folder, sys.utc_time(),
    sys.user() .. "@" .. sys.hostname()) .. (body or ""))
  files.create(dir .. "/down.sql", DOWN:format(folder))
  return dir, folder
end

return create
