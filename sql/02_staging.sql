-- 02_staging.sql: the landing table for COPY, and dbt-style staging views.

-- Rows exactly as exported, all text. `lgs load` COPYs a file here inside its
-- transaction, types it with load_staged_batch() (03_load.sql), then empties it.
CREATE UNLOGGED TABLE IF NOT EXISTS staging_export_rows (
    batch_id      bigint  NOT NULL,
    sheet         text    NOT NULL,
    source_row    integer NOT NULL,
    invoice       text,
    stock_code    text,
    description   text,
    quantity      text,
    invoice_date  text,
    price         text,
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

CREATE OR REPLACE VIEW stg_export_rows AS
SELECT
    batch_id,
    sheet,
    source_row,
    invoice_no,
    stock_code,
    description,
    quantity,
    invoice_date,
    unit_price,
    customer_id,
    country,
    quantity * unit_price                            AS line_total
FROM export_rows;
