-- drop-type: DROP TYPE / DROP DOMAIN. With CASCADE the columns of the type
-- go with it (an error); without, the DROP fails while a column uses the
-- type, so nothing is lost (a warning).

-- case: hazard: CASCADE drops the columns
-- expect: drop-type error
DROP DOMAIN email_address CASCADE;

-- case: breaking: without CASCADE a type from before the run
-- expect: drop-type warning
DROP TYPE "Role";

-- case: false alarm: Prisma's enum change (rename away, new type, convert, drop the old)
-- expect: no drop-type
ALTER TYPE "Role" RENAME TO "Role_old";
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
ALTER TABLE "users" ALTER COLUMN "role" TYPE "Role" USING ("role"::text::"Role");
DROP TYPE "Role_old";

-- case: false alarm: the same swap over two files of the run
-- expect: no drop-type
ALTER TYPE "Role" RENAME TO "Role_old";
CREATE TYPE "Role" AS ENUM ('USER');
-- next file
DROP TYPE "Role_old";

-- case: false alarm: a type created in this run, then renamed and dropped
-- expect: no drop-type
CREATE TYPE mood AS ENUM ('sad', 'ok');
ALTER TYPE mood RENAME TO feeling;
DROP TYPE feeling;

-- case: false alarm: a type created in the same file
-- expect: no drop-type
CREATE TYPE mood AS ENUM ('sad', 'ok'); DROP TYPE mood;

-- case: not a type
-- expect: no drop-type
DROP FUNCTION f();

-- case: hazard: the renamed old type dropped with CASCADE is still an error
-- expect: drop-type error
ALTER TYPE "Role" RENAME TO "Role_old";
DROP TYPE "Role_old" CASCADE;
