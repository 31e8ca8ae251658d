-- stallmig.prisma — keep _prisma_migrations as Prisma Migrate's engine does
-- (prisma_compat = true), so that `prisma migrate status` and stallrun agree
-- on the same database while a team moves over: a row per attempt,
-- started_at before the script, finished_at and applied_steps_count = 1 on
-- success, logs on failure, rolled_back_at when resolved as rolled back.
-- Prisma makes a failed migration wait for `prisma migrate resolve
-- --rolled-back`, which sets rolled_back_at on the failed attempt's row, and
-- only then writes the next attempt's row; stallrun retries a failure that
-- left nothing behind without a resolve, so a new attempt first marks the
-- open row of an earlier one rolled back, as that resolve would have, and
-- only the attempt's own row is finished or given logs.
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

-- A row of m that is neither finished nor rolled back: a failed attempt's,
-- or after started_sql, the running attempt's (there is one at most).
local function open_rows(conn, m)
  return "migration_name = " .. conn:escape_literal(m.name) .. " AND finished_at IS NULL AND rolled_back_at IS NULL"
end

-- The attempt's row, written before the script runs (SQL text, for a batch
-- of STARTED_STATEMENTS statements): an earlier attempt left open is
-- resolved as rolled back first.
prisma.STARTED_STATEMENTS = 2

function prisma.started_sql(conn, m)
  return 'UPDATE "_prisma_migrations" SET rolled_back_at = clock_timestamp() WHERE ' .. open_rows(conn, m)
    .. ';\nINSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) '
    .. "VALUES (gen_random_uuid()::text, " .. conn:escape_literal(m.checksum) .. ", "
    .. conn:escape_literal(m.name) .. ", clock_timestamp(), 0)"
end

-- Its completion after the script (SQL text, for a batch).
function prisma.finished_sql(conn, m)
  return 'UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 '
    .. "WHERE " .. open_rows(conn, m)
end

-- A failed attempt, as Prisma leaves it: no finished_at, the error in logs.
-- rolled_back: the attempt's row went with its transaction (a failed
-- transactional migration), so it is written now.
function prisma.failed(conn, m, logs, rolled_back)
  conn:exec((rolled_back and (prisma.started_sql(conn, m) .. ";\n") or "")
    .. 'UPDATE "_prisma_migrations" SET logs = ' .. conn:escape_literal(logs) .. " WHERE " .. open_rows(conn, m))
end

-- resolve: --rolled-back marks the failed attempt; --applied also records a
-- finished row, as `prisma migrate resolve --applied` does.
function prisma.resolved(conn, m, outcome)
  conn:query([[UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1
               AND finished_at IS NULL AND rolled_back_at IS NULL]], m.name)
  if outcome == "applied" then
    conn:query([[INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, finished_at,
                 applied_steps_count) VALUES (gen_random_uuid()::text, $1, $2, '', now(), now(), 0)]],
      m.checksum, m.name)
  end
end

-- rollback with down.sql: Prisma then sees the migration as not applied.
function prisma.rolled_back_sql(conn, m)
  return 'UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '
    .. conn:escape_literal(m.name) .. " AND finished_at IS NOT NULL AND rolled_back_at IS NULL"
end

return prisma
