-- stallmig.prisma — keep _prisma_migrations as Prisma Migrate's engine does
-- (prisma_compat = true), so that `prisma migrate status` and stallrun agree
-- on the same database while a team moves over: a row per attempt,
-- started_at before the script, finished_at on success, logs on failure,
-- rolled_back_at when resolved as rolled back.
local prisma = {}

local TABLE = [[
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
);
COMMIT;]]

function prisma.ensure(conn)
  conn:exec(TABLE)
end

-- The row written before the script runs (SQL text, for a batch).
function prisma.started_sql(conn, m)
  return 'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) '
    .. "VALUES (gen_random_uuid()::text, " .. conn:escape_literal(m.checksum) .. ", "
    .. conn:escape_literal(m.name) .. ", clock_timestamp(), 0)"
end

-- Its completion after the script (SQL text, for a batch).
function prisma.finished_sql(conn, m)
  return 'UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 '
    .. "WHERE migration_name = " .. conn:escape_literal(m.name)
    .. " AND finished_at IS NULL AND rolled_back_at IS NULL"
end

-- A failed attempt, as Prisma leaves it: no finished_at, the error in logs.
-- (A failed transactional migration rolled its own row back with it.)
function prisma.failed(conn, m, logs)
  local open = conn:query([[SELECT count(*) AS n FROM "_prisma_migrations" WHERE migration_name = $1
                            AND finished_at IS NULL AND rolled_back_at IS NULL]], m.name)[1].n
  if open == 0 then conn:exec(prisma.started_sql(conn, m)) end
  conn:query([[UPDATE "_prisma_migrations" SET logs = $2 WHERE migration_name = $1
               AND finished_at IS NULL AND rolled_back_at IS NULL]], m.name, logs)
end

-- resolve: --rolled-back marks the failed attempt; --applied also records a
-- finished row, as `prisma migrate resolve --applied` does.
function prisma.resolved(conn, m, outcome)
  conn:query([[UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1
               AND finished_at IS NULL AND rolled_back_at IS NULL]], m.name)
  if outcome == "applied" then
    conn:query([[INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at,
                 applied_steps_count) VALUES (gen_random_uuid()::text, $1, $2, now(), now(), 0)]],
      m.checksum, m.name)
  end
end

-- rollback with down.sql: Prisma then sees the migration as not applied.
function prisma.rolled_back_sql(conn, m)
  return 'UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '
    .. conn:escape_literal(m.name) .. " AND finished_at IS NOT NULL AND rolled_back_at IS NULL"
end

return prisma
