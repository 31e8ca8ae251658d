-- CreateEnum
CREATE TYPE "ListingStatus" AS ENUM ('DRAFT', 'PUBLISHED', 'RENTED', 'ARCHIVED');

-- CreateTable
CREATE TABLE "listings" (
    "id" TEXT NOT NULL,
    "stall_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "monthly_price_nok" INTEGER NOT NULL,
    "available_from" DATE NOT NULL,
    "status" "ListingStatus" NOT NULL DEFAULT 'DRAFT',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "listings_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "listings_price_positive" CHECK ("monthly_price_nok" > 0)
);

-- CreateIndex
CREATE INDEX "listings_status_available_from_idx" ON "listings"("status", "available_from");

-- AddForeignKey
ALTER TABLE "listings" ADD CONSTRAINT "listings_stall_id_fkey" FOREIGN KEY ("stall_id") REFERENCES "stalls"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
