#!/usr/bin/env bash
# gen.sh N DIR — N small migrations in Prisma's layout under DIR/migrations,
# and DIR/stallmig.ini with [env.bench] url = ${BENCH_DATABASE_URL}.
# Each creates a table; every 4th adds a column, an index or a foreign key
# to an earlier table.
set -euo pipefail
n=${1:?usage: gen.sh N DIR}
dir=${2:?usage: gen.sh N DIR}
mkdir -p "$dir/migrations"
for ((i = 0; i < n; i++)); do
  name=$(printf '%014d_table_%05d' $((20240101000000 + i)) "$i")
  mkdir -p "$dir/migrations/$name"
  {
    printf -- '-- CreateTable\nCREATE TABLE "t%d" (\n    "id" BIGSERIAL NOT NULL,\n    "name" TEXT NOT NULL,\n    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n\n    CONSTRAINT "t%d_pkey" PRIMARY KEY ("id")\n);\n' "$i" "$i"
    case $((i % 4)) in
      1) printf '\n-- AlterTable\nALTER TABLE "t%d" ADD COLUMN "extra" INTEGER;\n' $((i - 1)) ;;
      2) printf '\n-- CreateIndex\nCREATE INDEX "t%d_name_idx" ON "t%d"("name");\n' $((i - 1)) $((i - 1)) ;;
      3) printf '\n-- AddForeignKey\nALTER TABLE "t%d" ADD COLUMN "ref" BIGINT REFERENCES "t%d"("id");\n' "$i" $((i - 3)) ;;
    esac
  } >"$dir/migrations/$name/migration.sql"
done
cat >"$dir/stallmig.ini" <<'INI'
[project]
migrations = migrations

[env.bench]
url = ${BENCH_DATABASE_URL}
protected = false
INI
