-- Rank changes since the start of the UTC day, and reference rows on the boards
-- (docs/ranking.md, "Rank changes and the shake-up").

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "show_reference_on_boards" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "leaderboard_day_starts" (
    "task_id" INTEGER NOT NULL,
    "day" DATE NOT NULL,
    "ranks" JSONB NOT NULL,
    "taken_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "leaderboard_day_starts_pkey" PRIMARY KEY ("task_id","day")
);

-- AddForeignKey
ALTER TABLE "leaderboard_day_starts" ADD CONSTRAINT "leaderboard_day_starts_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
