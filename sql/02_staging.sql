-- 02_staging.sql: the landing table for COPY, and dbt-style staging views.

-- Rows as exported, as text (trimmed and spelled canonically by `lgs load`: ISO dates,
-- whole numbers without ".0"), with the export part, repeat number and line identity the
-- loader assigned (lgs_analytics.identity).
-- `lgs load` COPYs a file's loadable rows here inside its transaction, moves them into
-- the typed tables with load_staged_batch() (03_load.sql), then empties it.
-- It never holds data between loads, so it is simply recreated whenever sql/ changes.
DROP TABLE IF EXISTS staging_export_rows;
CREATE UNLOGGED TABLE staging_export_rows (
    batch_id      bigint  NOT NULL,
    sheet         text    NOT NULL,
    source_row    integer NOT NULL,
    export_part   integer NOT NULL,
    occurrence    integer NOT NULL,
    line_id       uuid    NOT NULL,  -- md5 of the canonical values and the occurrence
    invoice       text    NOT NULL,
    stock_code    text    NOT NULL,
    description   text,
    quantity      text    NOT NULL,
    invoice_date  text    NOT NULL,
    price         text    NOT NULL,
    customer_id   text,
    country       text
);

-- Staging views: rename, cast and categorise; no joins, no aggregates.
CREATE OR REPLACE VIEW stg_transactions AS
SELECT
    line_id,
    invoice_no,
    stock_code,
    description,
    quantity,
    invoice_date,
    unit_price,
    customer_id,
    country,
    occurrence > 1                                   AS is_repeat,
    invoice_no LIKE 'C%'                             AS is_cancellation,
    invoice_no LIKE 'A%'                             AS is_adjustment,
    stock_code ~ '^([0-9]{5}[A-Za-z]*|DCGS[A-Za-z0-9]+)$' AS is_product,  -- as clean.py
    quantity * unit_price                            AS line_total,
    to_char(invoice_date, 'YYYYMM')::integer         AS invoice_month
FROM transactions;

-- Every row as exported, in load order (the classic method's input).
CREATE OR REPLACE VIEW stg_export_rows AS
SELECT
    e.batch_id,
    e.sheet,
    e.source_row,
    t.invoice_no,
    t.stock_code,
    t.description,
    t.quantity,
    t.invoice_date,
    t.unit_price,
    t.customer_id,
    t.country,
    t.quantity * t.unit_price                        AS line_total
FROM export_rows e
JOIN transactions t USING (line_id);
