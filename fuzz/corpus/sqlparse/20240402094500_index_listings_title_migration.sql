-- stallmig:no-transaction
-- Built without blocking writes on a table that is already in use; CREATE
-- INDEX CONCURRENTLY cannot run in a transaction block, so this file holds
-- this one statement only.
CREATE INDEX CONCURRENTLY "listings_title_idx" ON "listings" (lower("title"));
