-- Each board row carries the bootstrap interval of its own score (the board's part of the test
-- rows), so that reading a board is one indexed read of leaderboard_entries again: the read had
-- come to join every row's result for it (~110 ms for 1,000 teams, as long as the scan the table
-- replaced; bench:load). The rules of leaderboard_refresh are those of 20261129141000_scoring_versions.
--
-- One vocabulary (docs/architecture.md, "Vocabulary"): "entries" are the rows of a board; the count
-- of a team's submissions that count on a board is its submission count, so the column is renamed
-- here too (leaderboard_refresh, re-created below, is the one function that names it).

-- AlterTable
ALTER TABLE "leaderboard_entries" ADD COLUMN "interval_high" DOUBLE PRECISION,
ADD COLUMN "interval_low" DOUBLE PRECISION;

ALTER TABLE "leaderboard_entries" RENAME COLUMN "entries" TO "submission_count";

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

  INSERT INTO leaderboard_entries (task_id, board, team_id, submission_id, score, submitted_at, submission_count, final_kind, final_submission_ids, scoring_version, interval_low, interval_high)
  WITH counted AS (
    -- Every submission whose result counts, on either board.
    SELECT s.task_id, s.team_id, s.id AS submission_id, s.created_at, t.direction,
      t.closes_at, t.public_freeze_minutes, t.private_revealed_at, t.final_submission_limit,
      r.public_score, r.private_score, r.scoring_version,
      r.public_interval_low, r.public_interval_high, r.private_interval_low, r.private_interval_high,
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
      o.public_score AS score, NULL::"FinalKind" AS final_kind, o.scoring_version,
      o.public_interval_low AS interval_low, o.public_interval_high AS interval_high
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
      o.private_score, CASE WHEN o.team_selected THEN 'SELECTED'::"FinalKind" ELSE 'DEFAULT'::"FinalKind" END, o.scoring_version,
      o.private_interval_low, o.private_interval_high
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
    c.scoring_version, c.interval_low, c.interval_high
  FROM candidates c
  -- Ties (docs/ranking.md "Ties"): a team's entry is its best score in the task's direction,
  -- compared by the tie key; equal keys go to the earliest submission (then the lowest id).
  ORDER BY c.task_id, c.board, c.team_id,
    CASE WHEN c.direction = 'MAXIMIZE' THEN leaderboard_score_key(c.score) END DESC,
    CASE WHEN c.direction = 'MINIMIZE' THEN leaderboard_score_key(c.score) END ASC,
    c.created_at ASC, c.submission_id ASC;
END;
$$;

-- Backfill: every task's boards with their intervals.
SELECT leaderboard_rebuild_task(id) FROM tasks;
