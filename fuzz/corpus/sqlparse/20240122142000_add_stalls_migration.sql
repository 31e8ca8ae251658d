-- CreateEnum
CREATE TYPE "StallSize" AS ENUM ('PONY', 'HORSE', 'LARGE_HORSE');

-- CreateTable
CREATE TABLE "stalls" (
    "id" TEXT NOT NULL,
    "stable_id" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "size" "StallSize" NOT NULL DEFAULT 'HORSE',
    "has_paddock" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stalls_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "stalls_stable_id_label_key" ON "stalls"("stable_id", "label");

-- AddForeignKey
ALTER TABLE "stalls" ADD CONSTRAINT "stalls_stable_id_fkey" FOREIGN KEY ("stable_id") REFERENCES "stables"("id") ON DELETE CASCADE ON UPDATE CASCADE;
