-- 01_raw.sql: the tables that hold what was loaded.
-- Runs on an empty database and again on every `lgs` command (idempotent), and
-- unchanged by the official postgres image from /docker-entrypoint-initdb.d.

-- One row per file loaded: what it was, and how its rows were accounted for.
CREATE TABLE IF NOT EXISTS load_batches (
    batch_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_file       text        NOT NULL,
    sha256            char(64)    NOT NULL UNIQUE,   -- the same file twice is refused as a no-op
    rows_read         integer     NOT NULL DEFAULT 0,
    rows_loaded       integer     NOT NULL DEFAULT 0, -- typed rows kept in export_rows
    rows_new          integer     NOT NULL DEFAULT 0, -- of those, lines new to transactions
    rows_duplicate    integer     NOT NULL DEFAULT 0, -- lines already present (overlapping exports)
    rows_quarantined  integer     NOT NULL DEFAULT 0,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    -- Names (never values) of the personal columns the file carried and the load left out.
    dropped_columns   text[]      NOT NULL DEFAULT '{}',
    -- Bounds of the invoice dates of the lines the batch added to transactions (not always tight).
    -- A line's id is made of its values, its date among them, so a line dated outside every
    -- batch's bounds cannot be loaded yet: load_staged_rows() lands such lines without probing for them.
    lines_from        timestamp,
    lines_to          timestamp,
    -- True when the file came from `lgs generate` (its name says "synthetic"; a generated workbook
    -- also carries the marker in its document properties): every report built on it says SYNTHETIC DATA.
    synthetic         boolean     NOT NULL DEFAULT false,
    CONSTRAINT batch_reconciles CHECK (rows_read = rows_loaded + rows_quarantined),
    CONSTRAINT loaded_splits CHECK (rows_loaded = rows_new + rows_duplicate)
);

-- The raw layer: every row read that could be typed, in every file and sheet
-- (overlaps and repeats included), as a pointer to its line in transactions. A row's
-- values are its line's values (the line_id is derived from them), so joining the two
-- gives back the export row for row; the `classic` RFM method reads that (stg_export_rows).
CREATE TABLE IF NOT EXISTS export_rows (
    -- No foreign keys on the two big tables: a per-row check would cost seconds per million
    -- rows, and only `lgs load` writes them, with a batch it created (export_rows by binary COPY,
    -- transactions by load_staged_rows() in 04_load.sql).
    batch_id      bigint      NOT NULL,
    sheet         text COLLATE "C" NOT NULL,  -- workbook sheet, or '' for a CSV (C collation: fast keys)
    source_row    integer     NOT NULL,  -- line (CSV) or row (sheet) number, header = 1
    export_part   integer     NOT NULL,  -- 1, 2, ...: one per export stacked in the file
    occurrence    integer     NOT NULL,  -- 1 for a line's first copy in its export, 2 for a repeat...
    line_id       uuid        NOT NULL   -- the line in transactions
    -- (batch_id, sheet, source_row) is unique by construction (the reader numbers the rows);
    -- no index enforces it because maintaining one costs 4 s per million rows loaded.
);

-- The transactions: each line once, however many overlapping exports carried it.
-- Identical lines repeated within one export are kept (occurrence 2, 3, ...):
-- they are the data set's "exact duplicates", removed later by an audited rule.
-- Keyed by (invoice_date, line_id): a line's id is made of its values, its date among them, so
-- the pair is unique exactly when the id is. Dates lead because exports come in time order: a
-- load's lines append to the end of the index instead of landing on random pages of a uuid index,
-- which at 10x the full size outgrows the buffer cache (measured: 10x the rows load in 10.2x the
-- 1x time, against 11.8x with the uuid alone as the key).
CREATE TABLE IF NOT EXISTS transactions (
    line_id       uuid        NOT NULL,
    invoice_no    text        NOT NULL,
    stock_code    text        NOT NULL,
    description   text,
    quantity      integer     NOT NULL,
    invoice_date  timestamp   NOT NULL,
    unit_price    numeric     NOT NULL,
    customer_id   integer,
    country       text,
    occurrence    integer     NOT NULL,
    first_batch_id bigint     NOT NULL,
    -- The cleaning rule that takes the line (0: none, a purchase kept for analysis): clean_step()
    -- of 03_lines.sql, set by load_staged_rows() as the line lands.
    step          smallint    NOT NULL,
    PRIMARY KEY (invoice_date, line_id)
);
-- No B-tree index but the key: the build reads the lines grouped (line_groups, 03_lines.sql), the
-- web app reads the marts (05_marts.sql), and each index would slow every load.
-- A batch's new lines are found by the batch that first carried them (add_line_groups, 03_lines.sql);
-- batches are appended in order, so a block range index finds them in the pages written last,
-- whatever the history.
CREATE INDEX IF NOT EXISTS transactions_first_batch_brin ON transactions USING brin (first_batch_id);

-- Rows that could not be typed: kept with their raw text and the reason, never dropped.
CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id      bigint  NOT NULL REFERENCES load_batches ON DELETE CASCADE,
    source_file   text    NOT NULL,
    sheet         text    NOT NULL,
    source_row    integer NOT NULL,
    raw_values    jsonb   NOT NULL,  -- the eight exported columns as text, by export name
    reason        text    NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_batch_idx ON quarantine (batch_id);
