-- 07_runs.sql: the run log of `lgs refresh`, the automated weekly refresh.
-- The web app can read when its tables were last refreshed and from which loads;
-- `lgs refresh` reads it to recompute after a run that was cut short. Never holds
-- customer data: file names, counts and one-line reasons only.
CREATE TABLE IF NOT EXISTS refresh_runs (
    run_id          text        PRIMARY KEY,           -- e.g. 20261123T113805Z-4242
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text        NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    files_loaded    integer     NOT NULL DEFAULT 0,    -- moved to processed/
    files_rejected  integer     NOT NULL DEFAULT 0,    -- moved to rejected/, each with its reason
    rows_new        bigint      NOT NULL DEFAULT 0,    -- lines new to transactions
    recomputed      boolean     NOT NULL DEFAULT false, -- a build was published and the report rebuilt
    last_batch_id   bigint,                            -- the newest load the scores were computed from
    detail          text        NOT NULL DEFAULT '',   -- why it failed, in one line
    build_id        bigint                             -- the build the run published (builds.build_id), if any
);

-- The live connector's cursor (`lgs live`, docs/live.md): how far it has read the shop's
-- database. Updated in the same transaction as the lines it read land (jobs/live.py), so a connector
-- killed at any moment resumes exactly: neither a line skipped nor one read twice.
CREATE TABLE IF NOT EXISTS live_cursor (
    source        text        PRIMARY KEY,  -- the shop's database and table, never a password:
                                            -- live:postgresql://user@host:port/db#retail
    snapshot      text        NOT NULL,     -- a pg_snapshot (xmin:xmax:xip,...) of the shop's database:
                                            -- every row whose inserting transaction it sees was read
    batches       bigint      NOT NULL DEFAULT 0,  -- live load batches so far
    rows_read     bigint      NOT NULL DEFAULT 0,  -- shop rows read so far (loaded + quarantined)
    last_batch_id bigint,                   -- the newest live load batch (load_batches)
    updated_at    timestamptz NOT NULL DEFAULT now()
);
