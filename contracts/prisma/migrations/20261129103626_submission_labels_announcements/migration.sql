-- AlterTable
ALTER TABLE "submissions" ADD COLUMN     "description" VARCHAR(1000),
ADD COLUMN     "name" VARCHAR(100);

-- CreateTable
CREATE TABLE "announcements" (
    "id" SERIAL NOT NULL,
    "task_id" INTEGER,
    "author_id" INTEGER,
    "body" VARCHAR(500) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "announcements_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "announcements_task_id_created_at_idx" ON "announcements"("task_id", "created_at");

-- CreateIndex
CREATE INDEX "announcements_author_id_idx" ON "announcements"("author_id");

-- AddForeignKey
ALTER TABLE "announcements" ADD CONSTRAINT "announcements_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "announcements" ADD CONSTRAINT "announcements_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
