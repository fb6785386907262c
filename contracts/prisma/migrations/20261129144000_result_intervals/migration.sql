-- Bootstrap intervals of each result's scores, and the per-row outcomes they are computed from
-- (docs/ranking.md, "How sure is a rank"). Results stored before this have no interval (NULL).

-- AlterTable
ALTER TABLE "results" ADD COLUMN     "private_interval_high" DOUBLE PRECISION,
ADD COLUMN     "private_interval_low" DOUBLE PRECISION,
ADD COLUMN     "public_interval_high" DOUBLE PRECISION,
ADD COLUMN     "public_interval_low" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "result_row_outcomes" (
    "result_id" INTEGER NOT NULL,
    "split" "LeaderboardBoard" NOT NULL,
    "rows" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "result_row_outcomes_pkey" PRIMARY KEY ("result_id","split")
);

-- AddForeignKey
ALTER TABLE "result_row_outcomes" ADD CONSTRAINT "result_row_outcomes_result_id_fkey" FOREIGN KEY ("result_id") REFERENCES "results"("id") ON DELETE CASCADE ON UPDATE CASCADE;
