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

-- Replaces the maintained board's refresh of 20261129140000_final_submissions (whose rules, and
-- those of 20261129103653_leaderboard_entries, still hold). New here: a submission counts only with
-- a result of the task's current scoring version, or when its re-score under the current version
-- failed (it then keeps its previous result, shown marked with that result's older version, instead
-- of leaving the board). While a re-score runs, the boards therefore show only teams already
-- re-scored. Each entry records the scoring version of its result.
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

  INSERT INTO leaderboard_entries (task_id, board, team_id, submission_id, score, submitted_at, entries, final_kind, final_submission_ids, scoring_version)
  WITH counted AS (
    -- Every submission whose result counts, on either board.
    SELECT s.task_id, s.team_id, s.id AS submission_id, s.created_at, t.direction,
      t.closes_at, t.public_freeze_minutes, t.private_revealed_at, t.final_submission_limit,
      r.public_score, r.private_score, r.scoring_version,
      EXISTS (SELECT 1 FROM final_selections f WHERE f.submission_id = s.id) AS selected
    FROM (SELECT DISTINCT * FROM unnest(task_ids, team_ids) AS p(task_id, team_id)) p
    JOIN submissions s ON s.task_id = p.task_id AND s.team_id = p.team_id
    JOIN results r ON r.submission_id = s.id
    JOIN tasks t ON t.id = s.task_id
    -- A re-scored submission keeps its old result until the worker replaces it; a cancelled or
    -- failed one leaves the board; organisers' reference models never rank.
    WHERE s.status IN ('SCORED', 'QUEUED', 'RUNNING')
      AND NOT s.is_reference
      -- Scoring versions (docs/ranking.md "When the organisers change the scoring"): only results
      -- computed under the task's current scoring, plus the previous result of a submission whose
      -- re-score under it failed. Finals, default finals and the freeze apply to these alone.
      AND (r.scoring_version = t.scoring_version OR s.rescore_failed_version = t.scoring_version)
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
      o.public_score AS score, NULL::"FinalKind" AS final_kind, o.scoring_version
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
      o.private_score, CASE WHEN o.team_selected THEN 'SELECTED'::"FinalKind" ELSE 'DEFAULT'::"FinalKind" END, o.scoring_version
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
      ELSE ARRAY[]::INTEGER[] END,
    c.scoring_version
  FROM candidates c
  -- Ties (docs/ranking.md "Ties"): a team's entry is its best score in the task's direction,
  -- compared by the tie key; equal keys go to the earliest submission (then the lowest id).
  ORDER BY c.task_id, c.board, c.team_id,
    CASE WHEN c.direction = 'MAXIMIZE' THEN leaderboard_score_key(c.score) END DESC,
    CASE WHEN c.direction = 'MINIMIZE' THEN leaderboard_score_key(c.score) END ASC,
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
-- (The number of finals and the reveal rebuild them too, as in 20261129140000_final_submissions.)
DROP TRIGGER leaderboard_after_task_ranking_change ON tasks;
CREATE TRIGGER leaderboard_after_task_ranking_change
  AFTER UPDATE OF closes_at, public_freeze_minutes, direction, final_submission_limit, private_revealed_at, scoring_version ON tasks
  FOR EACH ROW
  WHEN (OLD.closes_at IS DISTINCT FROM NEW.closes_at OR OLD.public_freeze_minutes IS DISTINCT FROM NEW.public_freeze_minutes
        OR OLD.direction IS DISTINCT FROM NEW.direction OR OLD.final_submission_limit IS DISTINCT FROM NEW.final_submission_limit
        OR OLD.private_revealed_at IS DISTINCT FROM NEW.private_revealed_at OR OLD.scoring_version IS DISTINCT FROM NEW.scoring_version)
  EXECUTE FUNCTION leaderboard_after_task_change();

-- Backfill: every task's boards under the new rules.
SELECT leaderboard_rebuild_task(id) FROM tasks;
