-- restamp.lua — declare that a database (a restored copy, a clone) now belongs to an environment
--
--   stallrun workflows/restamp.lua --env staging [--yes]
--   stallrun workflows/restamp.lua --env dev --restamp-from prod --reason TEXT   (CI)
--
-- A copy of production carries production's marker, so stallmig treats it as
-- production until someone who knows better says otherwise: here, by typing
-- the environment's name (or --yes). Re-stamping a protected environment's
-- database as an unprotected one's lowers its protection, which --yes never
-- confirms: the host asks for the name of the environment it is marked as,
-- or, without a terminal, --restamp-from that name with a --reason. Who did
-- it, when and how is recorded.
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

-- 2. Re-stamp: the host decides which confirmation it needs, and refuses
--    (exit 3, nothing changed) without it.
local done = conn:restamp()

-- 3. Say what was done, and what is left.
local function level(protected) return protected and "protected" or "not protected" end
print(string.format("%s: re-stamped from %s to %s (%s)%s, confirmed by %s", env.name,
  done.from and string.format("%s (%s)", done.from, level(done.from_protected)) or "no marker",
  done.env, level(done.protected), done.lowered and ", lowering protection" or "", done.confirmed_by))
local after = conn:identity()
print(string.format("%s: now marked as %s's database%s", env.name, after.marker_env,
  after.doubt and ("; still: " .. after.doubt) or ""))
return after.doubt == nil
