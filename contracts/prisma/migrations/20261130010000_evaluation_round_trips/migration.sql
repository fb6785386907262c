-- An evaluation's two writes, each in one round trip (worker/src/evaluate-submission.ts): the claim
-- was a transaction of four (BEGIN, the team's lock, the claim, COMMIT) and a read of the submission
-- after it, the result's write a transaction of four (BEGIN, two statements, COMMIT). Their rules
-- are unchanged; only the round trips go: ~4 ms and ~2 ms of a 30 ms evaluation of a small model
-- (`npm run bench`, (a)).

-- The claim (claimSubmission).
-- The rules are those the worker's transaction had: a transaction-scoped advisory lock per team
-- (class 1207001) makes check-and-claim atomic across workers; the claim's own statement, run after
-- the lock is granted, sees every claim committed before it (a VOLATILE PL/pgSQL function takes a
-- new snapshot for each statement in READ COMMITTED, as the two statements of the transaction did).
-- A RUNNING submission is claimable (a worker that died mid-evaluation left it so; BullMQ hands the
-- stalled job to another worker). The claim takes the task's dataset version: the evaluation reads
-- that version's files only, and the sweep keeps them while it runs.
--
-- Returns one row: 'claimed' (with the version taken), 'team-limit' (the team has the task's
-- max_running_per_team evaluations running; the submission stays as it was) or 'gone' (finished or
-- cancelled, with its status); no row when the submission does not exist.
CREATE FUNCTION claim_submission(p_submission_id INTEGER, p_worker_id TEXT)
RETURNS TABLE (claim_outcome TEXT, claim_status TEXT, claim_dataset_version TEXT)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_team_id INTEGER;
BEGIN
  SELECT s.team_id INTO v_team_id FROM submissions AS s WHERE s.id = p_submission_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(1207001, v_team_id);
  -- clock_timestamp(): the time of the claim, not of the transaction's start.
  RETURN QUERY
    UPDATE submissions AS s
    SET status = 'RUNNING', worker_id = p_worker_id, started_at = clock_timestamp(), attempts = s.attempts + 1,
        message = NULL, failure_kind = NULL, updated_at = clock_timestamp(),
        dataset_version = (SELECT t.dataset_version FROM tasks AS t WHERE t.id = s.task_id)
    WHERE s.id = p_submission_id AND s.status IN ('QUEUED', 'RUNNING')
      AND (SELECT count(*) FROM submissions AS r
           WHERE r.team_id = s.team_id AND r.task_id = s.task_id AND r.status = 'RUNNING' AND r.id <> s.id)
          < (SELECT t.max_running_per_team FROM tasks AS t WHERE t.id = s.task_id)
    RETURNING 'claimed'::TEXT, s.status::TEXT, s.dataset_version;
  IF FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY
    SELECT CASE WHEN s.status IN ('QUEUED', 'RUNNING') THEN 'team-limit' ELSE 'gone' END::TEXT, s.status::TEXT, s.dataset_version
    FROM submissions AS s WHERE s.id = p_submission_id;
END $$;

-- The result's write (storeResult): the two statements the worker's transaction ran, unchanged, so
-- the leaderboard's statement triggers fire as before (docs/leaderboard.md). The task row is read
-- FOR SHARE, so a scoring edit waits for this write (and then re-scores the submission) or commits
-- first (and the result is recomputed: 'stale'). Only a submission still RUNNING becomes SCORED (an
-- organiser may have cancelled it: 'gone'); its previous result (a re-score) is replaced.
-- p_result: the results row's values as JSON (numbers as JSON gives them: a float8 reads back the
-- same double; the two byte counts as strings, being BIGINT); the row outcomes as bytea.
CREATE FUNCTION store_result(p_submission_id INTEGER, p_task_id INTEGER, p_scoring_version INTEGER, p_finished_at TIMESTAMP(3),
  p_result JSONB, p_public_rows INTEGER, p_public_outcomes BYTEA, p_private_rows INTEGER, p_private_outcomes BYTEA)
RETURNS TEXT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_scoring_version INTEGER;
  v_scored INTEGER;
BEGIN
  WITH task AS (SELECT t.scoring_version FROM tasks AS t WHERE t.id = p_task_id FOR SHARE),
  scored AS (
    UPDATE submissions AS s
    SET status = 'SCORED', finished_at = p_finished_at, message = NULL, failure_kind = NULL, rescore_failed_version = NULL,
        updated_at = p_finished_at
    WHERE s.id = p_submission_id AND s.status = 'RUNNING' AND (SELECT task.scoring_version FROM task) = p_scoring_version
    RETURNING s.id),
  replaced AS (DELETE FROM results AS r WHERE r.submission_id IN (SELECT scored.id FROM scored))
  SELECT (SELECT task.scoring_version FROM task), (SELECT count(*) FROM scored)::INTEGER INTO v_scoring_version, v_scored;
  IF v_scoring_version IS NULL THEN
    RETURN 'gone';
  END IF;
  IF v_scoring_version <> p_scoring_version THEN
    RETURN 'stale';
  END IF;
  IF v_scored <> 1 THEN
    RETURN 'gone';
  END IF;
  WITH result AS (
    INSERT INTO results (submission_id, public_metrics, private_metrics, public_score, private_score, latency_p50_ms, latency_p95_ms,
      model_bytes, param_count, peak_memory_bytes, peak_gpu_memory_bytes, receipt, scoring_version, scoring,
      public_interval_low, public_interval_high, private_interval_low, private_interval_high)
    VALUES (p_submission_id, p_result->'public_metrics', p_result->'private_metrics',
      (p_result->>'public_score')::FLOAT8, (p_result->>'private_score')::FLOAT8,
      (p_result->>'latency_p50_ms')::FLOAT8, (p_result->>'latency_p95_ms')::FLOAT8,
      (p_result->>'model_bytes')::INTEGER, (p_result->>'param_count')::BIGINT,
      (p_result->>'peak_memory_bytes')::BIGINT, (p_result->>'peak_gpu_memory_bytes')::BIGINT,
      p_result->'receipt', p_scoring_version, p_result->'scoring',
      (p_result->>'public_interval_low')::FLOAT8, (p_result->>'public_interval_high')::FLOAT8,
      (p_result->>'private_interval_low')::FLOAT8, (p_result->>'private_interval_high')::FLOAT8)
    RETURNING id)
  INSERT INTO result_row_outcomes (result_id, split, rows, data)
  SELECT result.id, outcomes.split::"LeaderboardBoard", outcomes.rows, outcomes.data
  FROM result, (VALUES ('PUBLIC', p_public_rows, p_public_outcomes), ('PRIVATE', p_private_rows, p_private_outcomes)) AS outcomes (split, rows, data);
  RETURN 'stored';
END $$;
