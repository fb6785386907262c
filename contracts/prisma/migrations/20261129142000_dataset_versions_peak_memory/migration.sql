-- Immutable dataset versions: the version a submission's evaluation claimed (the folder of that
-- version is kept while a RUNNING submission names it), and each result's peak memory.

-- AlterTable
ALTER TABLE "submissions" ADD COLUMN     "dataset_version" TEXT;

-- AlterTable
ALTER TABLE "results" ADD COLUMN     "peak_memory_bytes" BIGINT,
ADD COLUMN     "peak_gpu_memory_bytes" BIGINT;

-- CreateIndex
CREATE INDEX "submissions_dataset_version_idx" ON "submissions"("dataset_version");
