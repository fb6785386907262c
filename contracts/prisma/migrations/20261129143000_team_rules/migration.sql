-- Team rules (docs/ranking.md, "Teams and daily quota"): a per-task team merge deadline and an
-- event-wide maximum team size.

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "team_merge_deadline" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "event_settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "max_team_size" INTEGER,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "event_settings_pkey" PRIMARY KEY ("id")
);

-- No CHECK constraints (id = 1, max_team_size >= 1): the offline WebAssembly schema engine crashes
-- ("unreachable") introspecting them in `migrate dev`; lib/teams/event-settings.ts enforces both.
