-- CreateTable
CREATE TABLE "stables" (
    "id" TEXT NOT NULL,
    "owner_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "town" TEXT NOT NULL,
    "county" TEXT NOT NULL,
    "latitude" DOUBLE PRECISION,
    "longitude" DOUBLE PRECISION,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "stables_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "stables_owner_id_idx" ON "stables"("owner_id");

-- AddForeignKey
ALTER TABLE "stables" ADD CONSTRAINT "stables_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
