-- restamp.lua — declare that a database (a restored copy, a clone) now belongs to an environment
--
--   stallrun workflows/restamp.lua --env staging [--yes]
--
-- A copy of production carries production's marker, so stallmig treats it as
-- production until someone who knows better says otherwise: here, by typing
-- the environment's name. Who did it, and when, is recorded.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")

cli.check_options(ctx, {})
local env = cli.require_env(ctx)
local conn <close> = db.connect(env.name)

-- 1. Say what the database is now believed to be.
local before = conn:identity()
print(string.format("%s: marked as %s%s", env.name, before.marker_env or "nothing yet",
  before.doubt and ("; " .. before.doubt) or ""))

-- 2. Re-stamp (asks for the name, or --yes), then show the result.
conn:restamp()
local after = conn:identity()
print(string.format("%s: now marked as %s's database%s", env.name, after.marker_env,
  after.doubt and ("; still: " .. after.doubt) or ""))
return after.doubt == nil
