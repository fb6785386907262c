-- AlterTable
ALTER TABLE "submissions" ADD COLUMN     "queue_priority" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "queued_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "rescoring" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "max_running_per_team" INTEGER NOT NULL DEFAULT 2;

-- Submissions queued before this migration keep their order: priority 0 (BullMQ serves those
-- first, as it does their jobs, which were added without a priority), by the time they were made.
UPDATE "submissions" SET "queued_at" = "created_at";
