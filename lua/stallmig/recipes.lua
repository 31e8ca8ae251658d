-- stallmig.recipes — the zero-downtime recipe for what a lint finding is
-- about (docs/zero-downtime.md, "Recipes"): a phased migration that makes
-- the same change while the running version keeps working. The lint rules
-- say what is wrong; a finding of one of the rules below also carries
-- `recipe`, which verify shows under the suggestion.
local recipes = {}

local DOC = "docs/zero-downtime.md#recipes"

recipes.BY_RULE = {
  ["set-not-null"] = "add-a-not-null-column",
  ["set-not-null-scan"] = "add-a-not-null-column",
  ["rename-column"] = "rename-a-column-or-change-its-type",
  ["change-column-type"] = "rename-a-column-or-change-its-type",
  ["narrowing-type"] = "rename-a-column-or-change-its-type",
  ["drop-column"] = "drop-a-column",
  ["constraint-not-valid"] = "add-a-foreign-key",
  ["index-not-concurrent"] = "add-a-unique-constraint",
  ["update-without-where"] = "backfill",
}

recipes.TEXT = {
  ["add-a-not-null-column"] = "expand: ADD COLUMN (nullable), a trigger filling it, CHECK (col IS NOT NULL) NOT "
    .. "VALID; backfill: UPDATE; contract: VALIDATE CONSTRAINT, SET NOT NULL, DROP CONSTRAINT",
  ["add-a-unique-constraint"] = "expand: CREATE UNIQUE INDEX CONCURRENTLY; contract: ADD CONSTRAINT ... UNIQUE "
    .. "USING INDEX",
  ["add-a-foreign-key"] = "expand: ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID; contract: VALIDATE CONSTRAINT",
  ["rename-a-column-or-change-its-type"] = "expand: the new column and a trigger keeping it in sync; backfill: "
    .. "UPDATE; contract: drop the trigger and the old column (-- stallmig:allow drop-column: REASON above it, "
    .. "since the review measures the values it drops)",
  ["drop-a-column"] = "put the DROP COLUMN under -- stallmig:contract (alone, in a later migration if you like): "
    .. "it runs once the version that no longer uses it is rolled out",
  ["backfill"] = "put the UPDATE under -- stallmig:backfill: it runs in key-range batches, checkpointed",
}

-- recipes.for_rule(id) -> "name: what to do (docs/zero-downtime.md#recipes)" | nil
function recipes.for_rule(id)
  local name = recipes.BY_RULE[id]
  if not name then return nil end
  return name:gsub("-", " ") .. ": " .. recipes.TEXT[name] .. " (" .. DOC .. ")"
end

return recipes
