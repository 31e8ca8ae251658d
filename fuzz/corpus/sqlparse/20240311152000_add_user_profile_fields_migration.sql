-- The runbook's example: npx prisma migrate dev --name add-user-profile-fields
-- AlterTable
ALTER TABLE "users" ADD COLUMN     "phone" TEXT,
ADD COLUMN     "bio" TEXT,
ADD COLUMN     "avatar_url" TEXT,
ADD COLUMN     "municipality" TEXT;
