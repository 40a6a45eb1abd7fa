-- 02_staging.sql: the landing table for COPY, and dbt-style staging views.

-- Rows as exported, as text (trimmed and spelled canonically by `lgs load`: ISO dates,
-- whole numbers without ".0"), with the export part, repeat number and line identity the
-- loader assigned (lgs_analytics.identity).
-- `lgs load` COPYs a file's loadable rows here inside its transaction, moves them into
-- the typed tables with load_staged_rows() (03_load.sql), then empties it.
-- It never holds data between loads, so it is simply recreated whenever sql/ changes.
DROP TABLE IF EXISTS staging_export_rows;
CREATE UNLOGGED TABLE staging_export_rows (  -- one batch at a time: load_staged_rows() is given its id
    sheet         text    NOT NULL,
    source_row    integer NOT NULL,
    export_part   integer NOT NULL,
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
-- a product line is lives in one place, the cleaning rules of 07_lines.sql, so no view here
-- defines them a second time.
DROP VIEW IF EXISTS stg_transactions;
DROP VIEW IF EXISTS stg_export_rows;
-- Every row as exported, in load order (the classic method's input).
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
