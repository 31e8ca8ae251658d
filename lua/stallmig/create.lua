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

local function refuse(why)
  error(errors.new("usage", why, {
    hint = "say what the migration does, in lowercase words: --name add-user-profile-fields" }), 0)
end

-- The folder's name part (snake_case) for a --name, or a usage error.
function create.check_name(name)
  if type(name) ~= "string" or name:match("^%s*$") then
    refuse("--name is required and must not be empty")
  end
  if not name:match("^[a-z][a-z0-9]*$") and not name:match("^[a-z][a-z0-9]*[-_][a-z0-9_-]*[a-z0-9]$") then
    refuse(string.format("'%s' is not lowercase words (letters and digits, separated by - or _)", name))
  end
  if name:match("[-_][-_]") then refuse(string.format("'%s' has an empty word", name)) end
  if GENERIC[name] then refuse(string.format("'%s' does not say what the migration does", name)) end
  local snake = name:gsub("-", "_")
  if #snake > 200 then refuse("the name is longer than 200 characters") end
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
  local snake = create.check_name(name)
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
