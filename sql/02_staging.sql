-- 02_staging.sql: the landing table for COPY, and dbt-style staging views.

-- A chunk's lines as exported, as text (trimmed and spelled canonically by `lgs load`: ISO
-- dates, whole numbers without ".0"), with the repeat number and line identity the loader
-- assigned (lgs_analytics.ingest.identity). Inside its transaction `lgs load` COPYs each chunk's
-- loadable rows straight into export_rows and their lines here (binary COPY: the server neither
-- splits CSV nor parses uuid text), lands the new lines in transactions with load_staged_rows()
-- (04_load.sql), then empties it. It never holds data between loads, so it is recreated whenever
-- these scripts run, in the shape defined here.
DROP TABLE IF EXISTS staging_lines;
CREATE UNLOGGED TABLE staging_lines (  -- one batch at a time: load_staged_rows() is given its id
    occurrence    integer NOT NULL,
    line_id       uuid    NOT NULL,  -- md5 of the canonical values and the occurrence
    invoice       text    NOT NULL,
    stock_code    text    NOT NULL,
    description   text,
    quantity      text    NOT NULL,
    invoice_date  text COLLATE "C" NOT NULL,  -- YYYY-MM-DD HH:MM:SS: in C order, in time order
    price         text    NOT NULL,
    customer_id   text,
    country       text
);

-- Staging view: the raw layer joined back into rows as exported; no rules. What a cancellation or
-- a product line is lives in one place, the cleaning rules of 03_lines.sql, so no view here
-- defines them a second time.
-- Every row as exported, in load order (the classic method's input).
DROP VIEW IF EXISTS stg_export_rows;
CREATE VIEW stg_export_rows AS
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
    t.country
FROM export_rows e
JOIN transactions t USING (line_id);
