-- CreateEnum
CREATE TYPE "FinalKind" AS ENUM ('SELECTED', 'DEFAULT');

-- AlterTable
ALTER TABLE "leaderboard_entries" ADD COLUMN     "final_kind" "FinalKind",
ADD COLUMN     "final_submission_ids" INTEGER[] DEFAULT ARRAY[]::INTEGER[];

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "final_submission_limit" INTEGER NOT NULL DEFAULT 2;

-- CreateTable
CREATE TABLE "final_selections" (
    "submission_id" INTEGER NOT NULL,
    "task_id" INTEGER NOT NULL,
    "team_id" INTEGER NOT NULL,
    "selected_by_id" INTEGER,
    "selected_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "final_selections_pkey" PRIMARY KEY ("submission_id")
);

-- CreateIndex
CREATE INDEX "final_selections_task_id_team_id_idx" ON "final_selections"("task_id", "team_id");

-- CreateIndex
CREATE INDEX "final_selections_team_id_idx" ON "final_selections"("team_id");

-- CreateIndex
CREATE INDEX "final_selections_selected_by_id_idx" ON "final_selections"("selected_by_id");

-- AddForeignKey
ALTER TABLE "final_selections" ADD CONSTRAINT "final_selections_submission_id_fkey" FOREIGN KEY ("submission_id") REFERENCES "submissions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "final_selections" ADD CONSTRAINT "final_selections_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "final_selections" ADD CONSTRAINT "final_selections_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "final_selections" ADD CONSTRAINT "final_selections_selected_by_id_fkey" FOREIGN KEY ("selected_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- ─── Ranking rules (docs/ranking.md; docs/leaderboard.md for how the board is kept) ───────────────

-- Ties: two scores are equal when they agree once rounded to 9 decimal places. The key is computed
-- with the same double-precision operations as `scoreKey` in lib/leaderboard/ranking.ts
-- (floor(score * 1e9 + 0.5)), so Postgres and the browser call the same scores equal.
CREATE FUNCTION leaderboard_score_key(score DOUBLE PRECISION) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT floor(score * 1e9::DOUBLE PRECISION + 0.5::DOUBLE PRECISION)
$$;

-- Recomputes the entries of the given (task, team) pairs from their submissions, both boards.
-- Replaces the version of 20261129103653_leaderboard_entries; what changed: final submissions
-- decide the PRIVATE board, the reveal lifts the freeze, and scores compare by their tie key.
CREATE OR REPLACE FUNCTION leaderboard_refresh(task_ids INTEGER[], team_ids INTEGER[]) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
  pair RECORD;
BEGIN
  IF COALESCE(array_length(task_ids, 1), 0) = 0 THEN
    RETURN;
  END IF;
  -- Two transactions refreshing the same team (two workers scoring two of its submissions) take
  -- turns, so the second one recomputes from the first one's committed result. Locks are taken in
  -- a fixed order so that bulk changes cannot deadlock with each other.
  FOR pair IN SELECT DISTINCT p.task_id, p.team_id FROM unnest(task_ids, team_ids) AS p(task_id, team_id) ORDER BY 1, 2 LOOP
    PERFORM pg_advisory_xact_lock(pair.task_id, pair.team_id);
  END LOOP;

  DELETE FROM leaderboard_entries e
  USING (SELECT DISTINCT * FROM unnest(task_ids, team_ids) AS p(task_id, team_id)) p
  WHERE e.task_id = p.task_id AND e.team_id = p.team_id;

  INSERT INTO leaderboard_entries (task_id, board, team_id, submission_id, score, submitted_at, entries, final_kind, final_submission_ids)
  WITH counted AS (
    -- Every submission whose result counts, on either board.
    SELECT s.task_id, s.team_id, s.id AS submission_id, s.created_at, t.direction,
      t.closes_at, t.public_freeze_minutes, t.private_revealed_at, t.final_submission_limit,
      r.public_score, r.private_score,
      EXISTS (SELECT 1 FROM final_selections f WHERE f.submission_id = s.id) AS selected
    FROM (SELECT DISTINCT * FROM unnest(task_ids, team_ids) AS p(task_id, team_id)) p
    JOIN submissions s ON s.task_id = p.task_id AND s.team_id = p.team_id
    JOIN results r ON r.submission_id = s.id
    JOIN tasks t ON t.id = s.task_id
    -- A re-scored submission keeps its old result until the worker replaces it; a cancelled or
    -- failed one leaves the board; organisers' reference models never rank.
    WHERE s.status IN ('SCORED', 'QUEUED', 'RUNNING')
      AND NOT s.is_reference
  ), ordered AS (
    SELECT c.*,
      -- Whether the team chose any final that still counts (else its default finals stand in).
      bool_or(c.selected) OVER (PARTITION BY c.task_id, c.team_id) AS team_selected,
      -- The team's submissions by public score, best first (ties: the earliest): the default finals.
      row_number() OVER (PARTITION BY c.task_id, c.team_id ORDER BY
        CASE WHEN c.direction = 'MAXIMIZE' THEN leaderboard_score_key(c.public_score) END DESC,
        CASE WHEN c.direction = 'MINIMIZE' THEN leaderboard_score_key(c.public_score) END ASC,
        c.created_at ASC, c.submission_id ASC) AS public_order
    FROM counted c
  ), candidates AS (
    SELECT o.task_id, 'PUBLIC'::"LeaderboardBoard" AS board, o.team_id, o.submission_id, o.created_at, o.direction,
      o.public_score AS score, NULL::"FinalKind" AS final_kind
    FROM ordered o
    -- The freeze (docs/ranking.md "The freeze"): until the private board is revealed, the public
    -- board counts only submissions created before closes_at - public_freeze_minutes; once it is
    -- revealed, every submission created before closes_at.
    WHERE CASE
      WHEN o.private_revealed_at IS NOT NULL THEN o.closes_at IS NULL OR o.created_at < o.closes_at
      ELSE o.closes_at IS NULL OR o.public_freeze_minutes <= 0
        OR o.created_at < o.closes_at - make_interval(mins => o.public_freeze_minutes)
    END
    UNION ALL
    SELECT o.task_id, 'PRIVATE'::"LeaderboardBoard", o.team_id, o.submission_id, o.created_at, o.direction,
      o.private_score, CASE WHEN o.team_selected THEN 'SELECTED'::"FinalKind" ELSE 'DEFAULT'::"FinalKind" END
    FROM ordered o
    -- Final submissions (docs/ranking.md "Final submissions"): the PRIVATE board counts only the
    -- team's finals: those it selected, or, when it selected none, its K best public submissions
    -- (K = the task's final_submission_limit).
    WHERE (o.team_selected AND o.selected)
       OR (NOT o.team_selected AND o.public_order <= o.final_submission_limit)
  )
  SELECT DISTINCT ON (c.task_id, c.board, c.team_id)
    c.task_id, c.board, c.team_id, c.submission_id, c.score, c.created_at,
    COUNT(*) OVER (PARTITION BY c.task_id, c.board, c.team_id),
    c.final_kind,
    CASE WHEN c.board = 'PRIVATE'
      THEN array_agg(c.submission_id) OVER (PARTITION BY c.task_id, c.board, c.team_id ORDER BY c.submission_id
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
      ELSE ARRAY[]::INTEGER[] END
  FROM candidates c
  -- Ties (docs/ranking.md "Ties"): a team's entry is its best score in the task's direction,
  -- compared by the tie key; equal keys go to the earliest submission (then the lowest id).
  ORDER BY c.task_id, c.board, c.team_id,
    CASE WHEN c.direction = 'MAXIMIZE' THEN leaderboard_score_key(c.score) END DESC,
    CASE WHEN c.direction = 'MINIMIZE' THEN leaderboard_score_key(c.score) END ASC,
    c.created_at ASC, c.submission_id ASC;
END;
$$;

-- A team's selection changed: its private board row follows in the same transaction.
CREATE FUNCTION leaderboard_after_final_selection_change() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
  task_ids INTEGER[];
  team_ids INTEGER[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(task_id), array_agg(team_id) INTO task_ids, team_ids FROM changed_new;
  ELSE
    SELECT array_agg(task_id), array_agg(team_id) INTO task_ids, team_ids FROM changed_old;
  END IF;
  PERFORM leaderboard_refresh(task_ids, team_ids);
  RETURN NULL;
END;
$$;

CREATE TRIGGER leaderboard_after_final_selection_insert AFTER INSERT ON final_selections
  REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_after_final_selection_change();
CREATE TRIGGER leaderboard_after_final_selection_delete AFTER DELETE ON final_selections
  REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_after_final_selection_change();

-- The task's number of finals and its reveal (which lifts the freeze) now decide the boards too.
DROP TRIGGER leaderboard_after_task_ranking_change ON tasks;
CREATE TRIGGER leaderboard_after_task_ranking_change
  AFTER UPDATE OF closes_at, public_freeze_minutes, direction, final_submission_limit, private_revealed_at ON tasks
  FOR EACH ROW
  WHEN (OLD.closes_at IS DISTINCT FROM NEW.closes_at OR OLD.public_freeze_minutes IS DISTINCT FROM NEW.public_freeze_minutes
        OR OLD.direction IS DISTINCT FROM NEW.direction OR OLD.final_submission_limit IS DISTINCT FROM NEW.final_submission_limit
        OR OLD.private_revealed_at IS DISTINCT FROM NEW.private_revealed_at)
  EXECUTE FUNCTION leaderboard_after_task_change();

-- Backfill: every task's boards under the new rules.
SELECT leaderboard_rebuild_task(id) FROM tasks;
