-- CreateEnum
CREATE TYPE "LeaderboardBoard" AS ENUM ('PUBLIC', 'PRIVATE');

-- CreateTable
CREATE TABLE "leaderboard_entries" (
    "task_id" INTEGER NOT NULL,
    "board" "LeaderboardBoard" NOT NULL,
    "team_id" INTEGER NOT NULL,
    "submission_id" INTEGER NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "submitted_at" TIMESTAMP(3) NOT NULL,
    "entries" INTEGER NOT NULL,

    CONSTRAINT "leaderboard_entries_pkey" PRIMARY KEY ("task_id","board","team_id")
);

-- CreateIndex
CREATE INDEX "leaderboard_entries_task_id_board_score_idx" ON "leaderboard_entries"("task_id", "board", "score");

-- CreateIndex
CREATE INDEX "leaderboard_entries_team_id_idx" ON "leaderboard_entries"("team_id");

-- CreateIndex
CREATE INDEX "leaderboard_entries_submission_id_idx" ON "leaderboard_entries"("submission_id");

-- AddForeignKey
ALTER TABLE "leaderboard_entries" ADD CONSTRAINT "leaderboard_entries_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leaderboard_entries" ADD CONSTRAINT "leaderboard_entries_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leaderboard_entries" ADD CONSTRAINT "leaderboard_entries_submission_id_fkey" FOREIGN KEY ("submission_id") REFERENCES "submissions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The maintained leaderboard (docs/leaderboard.md). Postgres keeps each team's best counted
-- submission per task and board in leaderboard_entries, in the same transaction as the change that
-- moves it, whoever makes that change (the worker storing a result, an organiser's cancel, retry or
-- re-score, a task's freeze or direction being edited, a deletion). The rules are those of the
-- from-scratch ranking this table replaces:
--   * a submission counts when it has a result, its status is SCORED, QUEUED or RUNNING (a
--     re-scored submission keeps its old result until the worker replaces it; a cancelled or
--     failed one leaves the board) and it is not an organisers' reference model;
--   * the PUBLIC board counts only submissions created before closes_at minus
--     public_freeze_minutes (when both are set); the PRIVATE board is never frozen;
--   * a team's entry is its best score in the task's direction, ties going to the earliest
--     submission (then the lowest id); `entries` counts the team's submissions on that board.
-- A per-team rule such as "selected final submissions" belongs in the WHERE clause below.

-- Recomputes the entries of the given (task, team) pairs from their submissions, both boards.
CREATE FUNCTION leaderboard_refresh(task_ids INTEGER[], team_ids INTEGER[]) RETURNS VOID
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

  INSERT INTO leaderboard_entries (task_id, board, team_id, submission_id, score, submitted_at, entries)
  SELECT DISTINCT ON (c.task_id, c.board, c.team_id)
    c.task_id, c.board, c.team_id, c.submission_id, c.score, c.created_at,
    COUNT(*) OVER (PARTITION BY c.task_id, c.board, c.team_id)
  FROM (
    SELECT s.task_id, b.board, s.team_id, s.id AS submission_id, s.created_at, t.direction,
      CASE WHEN b.board = 'PUBLIC' THEN r.public_score ELSE r.private_score END AS score
    FROM (SELECT DISTINCT * FROM unnest(task_ids, team_ids) AS p(task_id, team_id)) p
    JOIN submissions s ON s.task_id = p.task_id AND s.team_id = p.team_id
    JOIN results r ON r.submission_id = s.id
    JOIN tasks t ON t.id = s.task_id
    CROSS JOIN (VALUES ('PUBLIC'::"LeaderboardBoard"), ('PRIVATE'::"LeaderboardBoard")) AS b(board)
    WHERE s.status IN ('SCORED', 'QUEUED', 'RUNNING')
      AND NOT s.is_reference
      AND (b.board = 'PRIVATE' OR t.closes_at IS NULL OR t.public_freeze_minutes <= 0
           OR s.created_at < t.closes_at - make_interval(mins => t.public_freeze_minutes))
  ) c
  ORDER BY c.task_id, c.board, c.team_id,
    CASE WHEN c.direction = 'MAXIMIZE' THEN c.score END DESC,
    CASE WHEN c.direction = 'MINIMIZE' THEN c.score END ASC,
    c.created_at ASC, c.submission_id ASC;
END;
$$;

-- Every team that has a submission on the task, or an entry: a task's ranking settings changed.
CREATE FUNCTION leaderboard_rebuild_task(target_task INTEGER) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
  task_ids INTEGER[];
  team_ids INTEGER[];
BEGIN
  SELECT array_agg(target_task), array_agg(team_id) INTO task_ids, team_ids FROM (
    SELECT team_id FROM submissions WHERE task_id = target_task
    UNION SELECT team_id FROM leaderboard_entries WHERE task_id = target_task
  ) teams;
  PERFORM leaderboard_refresh(task_ids, team_ids);
END;
$$;

-- Statement-level triggers with transition tables: a bulk change (a re-score of a whole task, a
-- batch of results) refreshes each affected team once, not once per row.
CREATE FUNCTION leaderboard_after_result_change() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
  task_ids INTEGER[];
  team_ids INTEGER[];
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT array_agg(s.task_id), array_agg(s.team_id) INTO task_ids, team_ids
    FROM (SELECT DISTINCT submission_id FROM changed_old) c JOIN submissions s ON s.id = c.submission_id;
  ELSIF TG_OP = 'INSERT' THEN
    SELECT array_agg(s.task_id), array_agg(s.team_id) INTO task_ids, team_ids
    FROM (SELECT DISTINCT submission_id FROM changed_new) c JOIN submissions s ON s.id = c.submission_id;
  ELSE
    SELECT array_agg(s.task_id), array_agg(s.team_id) INTO task_ids, team_ids
    FROM (
      SELECT n.submission_id FROM changed_new n JOIN changed_old o ON o.id = n.id
      WHERE n.public_score IS DISTINCT FROM o.public_score OR n.private_score IS DISTINCT FROM o.private_score
        OR n.submission_id <> o.submission_id
      UNION SELECT o.submission_id FROM changed_new n JOIN changed_old o ON o.id = n.id WHERE n.submission_id <> o.submission_id
    ) c JOIN submissions s ON s.id = c.submission_id;
  END IF;
  PERFORM leaderboard_refresh(task_ids, team_ids);
  RETURN NULL;
END;
$$;

CREATE TRIGGER leaderboard_after_result_insert AFTER INSERT ON results
  REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_after_result_change();
CREATE TRIGGER leaderboard_after_result_update AFTER UPDATE ON results
  REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_after_result_change();
CREATE TRIGGER leaderboard_after_result_delete AFTER DELETE ON results
  REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_after_result_change();

CREATE FUNCTION leaderboard_after_submission_change() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
  task_ids INTEGER[];
  team_ids INTEGER[];
BEGIN
  IF TG_OP = 'DELETE' THEN
    -- The team's remaining submissions may take the deleted one's place.
    SELECT array_agg(task_id), array_agg(team_id) INTO task_ids, team_ids FROM changed_old;
  ELSE
    -- Only changes that decide whether (or where) a submission with a result counts; status
    -- moves among SCORED, QUEUED and RUNNING (claims, re-scores) leave the board as it is.
    SELECT array_agg(x.task_id), array_agg(x.team_id) INTO task_ids, team_ids FROM (
      SELECT o.task_id, o.team_id, n.task_id AS new_task_id, n.team_id AS new_team_id
      FROM changed_old o JOIN changed_new n ON n.id = o.id
      WHERE ((o.status IN ('SCORED', 'QUEUED', 'RUNNING') AND NOT o.is_reference)
               IS DISTINCT FROM (n.status IN ('SCORED', 'QUEUED', 'RUNNING') AND NOT n.is_reference)
             OR o.task_id <> n.task_id OR o.team_id <> n.team_id OR o.created_at <> n.created_at)
        AND EXISTS (SELECT 1 FROM results r WHERE r.submission_id = n.id)
    ) changed
    CROSS JOIN LATERAL (VALUES (changed.task_id, changed.team_id), (changed.new_task_id, changed.new_team_id)) AS x(task_id, team_id);
  END IF;
  PERFORM leaderboard_refresh(task_ids, team_ids);
  RETURN NULL;
END;
$$;

CREATE TRIGGER leaderboard_after_submission_update AFTER UPDATE ON submissions
  REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_after_submission_change();
CREATE TRIGGER leaderboard_after_submission_delete AFTER DELETE ON submissions
  REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_after_submission_change();

CREATE FUNCTION leaderboard_after_task_change() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM leaderboard_rebuild_task(NEW.id);
  RETURN NULL;
END;
$$;

CREATE TRIGGER leaderboard_after_task_ranking_change AFTER UPDATE OF closes_at, public_freeze_minutes, direction ON tasks
  FOR EACH ROW
  WHEN (OLD.closes_at IS DISTINCT FROM NEW.closes_at OR OLD.public_freeze_minutes IS DISTINCT FROM NEW.public_freeze_minutes
        OR OLD.direction IS DISTINCT FROM NEW.direction)
  EXECUTE FUNCTION leaderboard_after_task_change();

-- Backfill: every task's board from the results stored so far.
SELECT leaderboard_rebuild_task(id) FROM tasks;
