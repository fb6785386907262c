-- The maintained board's refresh writes only what changed (docs/leaderboard.md): the rows of the
-- refreshed (task, team) pairs are upserted from the same from-scratch computation (the rules of
-- 20261129150000_leaderboard_entry_intervals, unchanged), and only the pairs' rows that left the
-- boards are deleted. The refresh deleted and re-inserted both rows of every pair: each result's
-- write paid two deletions and two insertions with their four indexes' entries and three
-- foreign-key checks per row, where a new result usually moves a count and keeps the best. The
-- result's write (`store_result`, timed inside Postgres on a board of 200 teams x 50-115
-- submissions, the two versions alternating, four runs of 600-1,800 writes): 0.2-0.7 ms less per
-- write, medians 3.03-4.86 -> 2.85-4.63 ms (docs/performance.md).

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

  WITH pairs AS (
    SELECT DISTINCT * FROM unnest(task_ids, team_ids) AS p(task_id, team_id)
  ), counted AS (
    -- Every submission whose result counts, on either board.
    SELECT s.task_id, s.team_id, s.id AS submission_id, s.created_at, t.direction,
      t.closes_at, t.public_freeze_minutes, t.private_revealed_at, t.final_submission_limit,
      r.public_score, r.private_score, r.scoring_version,
      r.public_interval_low, r.public_interval_high, r.private_interval_low, r.private_interval_high,
      EXISTS (SELECT 1 FROM final_selections f WHERE f.submission_id = s.id) AS selected
    FROM pairs p
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
  ), fresh AS (
    SELECT DISTINCT ON (c.task_id, c.board, c.team_id)
      c.task_id, c.board, c.team_id, c.submission_id, c.score, c.created_at AS submitted_at,
      COUNT(*) OVER (PARTITION BY c.task_id, c.board, c.team_id) AS submission_count,
      c.final_kind,
      CASE WHEN c.board = 'PRIVATE'
        THEN array_agg(c.submission_id) OVER (PARTITION BY c.task_id, c.board, c.team_id ORDER BY c.submission_id
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ELSE ARRAY[]::INTEGER[] END AS final_submission_ids,
      c.scoring_version, c.interval_low, c.interval_high
    FROM candidates c
    -- Ties (docs/ranking.md "Ties"): a team's entry is its best score in the task's direction,
    -- compared by the tie key; equal keys go to the earliest submission (then the lowest id).
    ORDER BY c.task_id, c.board, c.team_id,
      CASE WHEN c.direction = 'MAXIMIZE' THEN leaderboard_score_key(c.score) END DESC,
      CASE WHEN c.direction = 'MINIMIZE' THEN leaderboard_score_key(c.score) END ASC,
      c.created_at ASC, c.submission_id ASC
  ), upserted AS (
    -- A row that is already right is not written; one that changed is updated in place (an entry
    -- whose best submission and score stay is a HOT update: no index entry, no foreign-key check).
    INSERT INTO leaderboard_entries AS e (task_id, board, team_id, submission_id, score, submitted_at, submission_count, final_kind,
      final_submission_ids, scoring_version, interval_low, interval_high)
    SELECT f.task_id, f.board, f.team_id, f.submission_id, f.score, f.submitted_at, f.submission_count, f.final_kind,
      f.final_submission_ids, f.scoring_version, f.interval_low, f.interval_high
    FROM fresh f
    ON CONFLICT (task_id, board, team_id) DO UPDATE SET
      submission_id = EXCLUDED.submission_id, score = EXCLUDED.score, submitted_at = EXCLUDED.submitted_at,
      submission_count = EXCLUDED.submission_count, final_kind = EXCLUDED.final_kind,
      final_submission_ids = EXCLUDED.final_submission_ids, scoring_version = EXCLUDED.scoring_version,
      interval_low = EXCLUDED.interval_low, interval_high = EXCLUDED.interval_high
    WHERE (e.submission_id, e.score, e.submitted_at, e.submission_count, e.final_kind, e.final_submission_ids, e.scoring_version,
           e.interval_low, e.interval_high)
      IS DISTINCT FROM (EXCLUDED.submission_id, EXCLUDED.score, EXCLUDED.submitted_at, EXCLUDED.submission_count, EXCLUDED.final_kind,
           EXCLUDED.final_submission_ids, EXCLUDED.scoring_version, EXCLUDED.interval_low, EXCLUDED.interval_high)
  )
  -- The pairs' entries that are no longer on a board (every submission left it). The statement's
  -- snapshot is taken before the upsert: it deletes only rows the upsert does not touch.
  DELETE FROM leaderboard_entries e
  USING pairs p
  WHERE e.task_id = p.task_id AND e.team_id = p.team_id
    AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.task_id = e.task_id AND f.board = e.board AND f.team_id = e.team_id);
END;
$$;

