-- CreateEnum
CREATE TYPE "WorkerState" AS ENUM ('ONLINE', 'DRAINING', 'STOPPED');

-- AlterTable
ALTER TABLE "submissions" ADD COLUMN     "is_reference" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "quota_exempt" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "public_freeze_minutes" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "workers" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "execution_provider" TEXT NOT NULL,
    "state" "WorkerState" NOT NULL DEFAULT 'ONLINE',
    "heartbeat_interval_ms" INTEGER NOT NULL,
    "current_submission_id" INTEGER,
    "gpu_mem_limit_mb" INTEGER,
    "figures" JSONB NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_heartbeat_at" TIMESTAMP(3) NOT NULL,
    "drain_requested_at" TIMESTAMP(3),
    "lost_at" TIMESTAMP(3),

    CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "worker_samples" (
    "id" BIGSERIAL NOT NULL,
    "worker_id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "gpu_mem_used_mb" DOUBLE PRECISION,
    "gpu_mem_total_mb" DOUBLE PRECISION,
    "gpu_util_percent" DOUBLE PRECISION,
    "cpu_percent" DOUBLE PRECISION,
    "mem_used_mb" DOUBLE PRECISION,

    CONSTRAINT "worker_samples_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" SERIAL NOT NULL,
    "actor_id" INTEGER,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "quota_resets" (
    "id" SERIAL NOT NULL,
    "team_id" INTEGER NOT NULL,
    "task_id" INTEGER,
    "actor_id" INTEGER,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quota_resets_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "worker_samples_worker_id_at_idx" ON "worker_samples"("worker_id", "at");

-- CreateIndex
CREATE INDEX "worker_samples_at_idx" ON "worker_samples"("at");

-- CreateIndex
CREATE INDEX "audit_log_actor_id_idx" ON "audit_log"("actor_id");

-- CreateIndex
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");

-- CreateIndex
CREATE INDEX "quota_resets_team_id_at_idx" ON "quota_resets"("team_id", "at");

-- CreateIndex
CREATE INDEX "quota_resets_actor_id_idx" ON "quota_resets"("actor_id");

-- AddForeignKey
ALTER TABLE "worker_samples" ADD CONSTRAINT "worker_samples_worker_id_fkey" FOREIGN KEY ("worker_id") REFERENCES "workers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quota_resets" ADD CONSTRAINT "quota_resets_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quota_resets" ADD CONSTRAINT "quota_resets_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
