-- 09_live.sql: the live connector's cursor (`lgs live`, docs/live.md): how far it has read the shop's
-- database. Updated in the same transaction as the lines it read land (ingest/live.py), so a connector
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
