-- Versioned scoring (docs/ranking.md, "When the organisers change the scoring"; issue 10 item 4).
-- A task's scoring_version is bumped by every edit that changes what a score means (dataset, split
-- seed and public fraction, metrics, rank metric, direction, top-k, score formula); each result
-- records the version it was computed under and a snapshot of those settings. Existing tasks and
-- results start at version 1, so every result stored so far stays current.

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN "scoring_version" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "score_formula" TEXT,
ADD COLUMN "dataset_rows" INTEGER;

-- The row count of datasets imported before it was recorded, from a result's receipt of that dataset
-- (a task without one stays NULL until its next import; saves then check only fractions 0 and 1).
UPDATE "tasks" t SET "dataset_rows" = (
  SELECT (r."receipt"->>'rows')::INTEGER FROM "results" r JOIN "submissions" s ON s."id" = r."submission_id"
  WHERE s."task_id" = t."id" AND r."receipt"->>'datasetVersion' = t."dataset_version" LIMIT 1
) WHERE t."dataset_version" IS NOT NULL;

-- AlterTable
ALTER TABLE "results" ADD COLUMN "scoring_version" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "scoring" JSONB;

-- AlterTable
ALTER TABLE "submissions" ADD COLUMN "rescore_failed_version" INTEGER;

-- AlterTable
ALTER TABLE "leaderboard_entries" ADD COLUMN "scoring_version" INTEGER NOT NULL DEFAULT 1;

-- Replaces the maintained board's refresh (first written in 20261129103653_leaderboard_entries;
-- the rules there still hold). New here: a submission counts only with a result of the task's
-- current scoring version, or when its re-score under the current version failed (it then keeps
-- its previous result, shown marked with that result's older version, instead of leaving the
-- board). While a re-score runs, the board therefore shows only teams already re-scored.
-- A per-team rule such as "selected final submissions" belongs in the same WHERE clause.
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

  INSERT INTO leaderboard_entries (task_id, board, team_id, submission_id, score, submitted_at, entries, scoring_version)
  SELECT DISTINCT ON (c.task_id, c.board, c.team_id)
    c.task_id, c.board, c.team_id, c.submission_id, c.score, c.created_at,
    COUNT(*) OVER (PARTITION BY c.task_id, c.board, c.team_id), c.scoring_version
  FROM (
    SELECT s.task_id, b.board, s.team_id, s.id AS submission_id, s.created_at, t.direction, r.scoring_version,
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
      -- Scoring versions: only results computed under the task's current scoring, plus the
      -- previous result of a submission whose re-score under it failed.
      AND (r.scoring_version = t.scoring_version OR s.rescore_failed_version = t.scoring_version)
  ) c
  ORDER BY c.task_id, c.board, c.team_id,
    CASE WHEN c.direction = 'MAXIMIZE' THEN c.score END DESC,
    CASE WHEN c.direction = 'MINIMIZE' THEN c.score END ASC,
    c.created_at ASC, c.submission_id ASC;
END;
$$;

-- Also refreshes when a submission's failed re-score is recorded or cleared.
CREATE OR REPLACE FUNCTION leaderboard_after_submission_change() RETURNS TRIGGER
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
             OR o.task_id <> n.task_id OR o.team_id <> n.team_id OR o.created_at <> n.created_at
             OR o.rescore_failed_version IS DISTINCT FROM n.rescore_failed_version)
        AND EXISTS (SELECT 1 FROM results r WHERE r.submission_id = n.id)
    ) changed
    CROSS JOIN LATERAL (VALUES (changed.task_id, changed.team_id), (changed.new_task_id, changed.new_team_id)) AS x(task_id, team_id);
  END IF;
  PERFORM leaderboard_refresh(task_ids, team_ids);
  RETURN NULL;
END;
$$;

-- A new scoring version rebuilds the task's boards at once: results of the older version leave.
DROP TRIGGER leaderboard_after_task_ranking_change ON tasks;
CREATE TRIGGER leaderboard_after_task_ranking_change AFTER UPDATE OF closes_at, public_freeze_minutes, direction, scoring_version ON tasks
  FOR EACH ROW
  WHEN (OLD.closes_at IS DISTINCT FROM NEW.closes_at OR OLD.public_freeze_minutes IS DISTINCT FROM NEW.public_freeze_minutes
        OR OLD.direction IS DISTINCT FROM NEW.direction OR OLD.scoring_version IS DISTINCT FROM NEW.scoring_version)
  EXECUTE FUNCTION leaderboard_after_task_change();
