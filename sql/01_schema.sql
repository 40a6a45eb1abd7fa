-- 01_schema.sql: the tables that hold what was loaded.
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
    CONSTRAINT batch_reconciles CHECK (rows_read = rows_loaded + rows_quarantined),
    CONSTRAINT loaded_splits CHECK (rows_loaded = rows_new + rows_duplicate)
);

-- The raw layer, typed: every row read that could be typed, as exported, in every
-- file and sheet (overlaps included). The `classic` RFM method reads this.
CREATE TABLE IF NOT EXISTS export_rows (
    batch_id      bigint      NOT NULL REFERENCES load_batches ON DELETE CASCADE,
    sheet         text        NOT NULL,  -- workbook sheet, or '' for a CSV
    source_row    integer     NOT NULL,  -- line (CSV) or row (sheet) number, header = 1
    export_part   integer     NOT NULL,  -- 1, 2, ...: one per export stacked in the file
    occurrence    integer     NOT NULL,  -- 1 for a line's first copy in its export, 2 for a repeat...
    line_id       uuid        NOT NULL,  -- identity of the line across exports
    invoice_no    text        NOT NULL,
    stock_code    text        NOT NULL,
    description   text,
    quantity      integer     NOT NULL,
    invoice_date  timestamp   NOT NULL,
    unit_price    numeric     NOT NULL,  -- GBP per unit
    customer_id   integer,
    country       text,
    PRIMARY KEY (batch_id, sheet, source_row)
);

-- The transactions: each line once, however many overlapping exports carried it.
-- Identical lines repeated within one export are kept (occurrence 2, 3, ...):
-- they are the data set's "exact duplicates", removed later by an audited rule.
CREATE TABLE IF NOT EXISTS transactions (
    line_id       uuid        PRIMARY KEY,
    invoice_no    text        NOT NULL,
    stock_code    text        NOT NULL,
    description   text,
    quantity      integer     NOT NULL,
    invoice_date  timestamp   NOT NULL,
    unit_price    numeric     NOT NULL,
    customer_id   integer,
    country       text,
    occurrence    integer     NOT NULL,
    first_batch_id bigint     NOT NULL REFERENCES load_batches ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS transactions_customer_idx ON transactions (customer_id);
CREATE INDEX IF NOT EXISTS transactions_date_idx ON transactions (invoice_date);

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
