-- 03_load.sql: moving staged rows into the typed tables. `lgs load` reads and validates
-- a file in chunks (lgs_analytics.validate: rows that cannot be typed go straight to
-- quarantine with their reasons), stages each chunk's loadable rows as text in
-- staging_export_rows and calls load_staged_rows(); at the end finish_batch() checks
-- and records the accounting. All in one transaction: a file lands whole or not at all.

DROP FUNCTION IF EXISTS load_staged_batch(bigint, text, integer);

-- Move the staged rows of a batch into export_rows and transactions; return how many
-- rows were loaded and how many of them were lines new to transactions.
CREATE OR REPLACE FUNCTION load_staged_rows(p_batch_id bigint)
RETURNS TABLE (rows_loaded integer, rows_new integer)
LANGUAGE plpgsql
SET work_mem = '256MB'  -- a chunk's rows sort in memory, not on disk
AS $$
DECLARE
    n_loaded integer;
    n_new integer;
BEGIN
    WITH identified AS MATERIALIZED (
        -- A line's identity: its typed values and its repeat number within its export.
        -- The same line in an overlapping export gets the same line_id (loaded once);
        -- repeats within one export differ by the number (all kept).
        SELECT t.*,
               md5(concat_ws(chr(31), t.invoice_no, t.stock_code, coalesce(t.description, chr(30)),
                             t.quantity, t.invoice_date, t.unit_price,
                             coalesce(t.customer_id::text, ''), coalesce(t.country, ''),
                             t.occurrence))::uuid AS line_id
        FROM (
            SELECT s.sheet, s.source_row, s.export_part, s.occurrence,
                   s.invoice AS invoice_no, s.stock_code, s.description,
                   s.quantity::integer AS quantity, s.invoice_date::timestamp AS invoice_date,
                   trim_scale(s.price::numeric) AS unit_price, s.customer_id::integer AS customer_id,
                   s.country
            FROM staging_export_rows s
            WHERE s.batch_id = p_batch_id
        ) t
    ), loaded AS (
        INSERT INTO export_rows (batch_id, sheet, source_row, export_part, occurrence, line_id)
        SELECT p_batch_id, i.sheet, i.source_row, i.export_part, i.occurrence, i.line_id
        FROM identified i
        RETURNING 1
    ), added AS (
        -- New lines become transactions (inserted in key order: cheap on the index);
        -- lines already there count as duplicates.
        INSERT INTO transactions (line_id, invoice_no, stock_code, description, quantity,
                                  invoice_date, unit_price, customer_id, country, occurrence,
                                  first_batch_id)
        SELECT DISTINCT ON (i.line_id)
               i.line_id, i.invoice_no, i.stock_code, i.description, i.quantity, i.invoice_date,
               i.unit_price, i.customer_id, i.country, i.occurrence, p_batch_id
        FROM identified i
        ORDER BY i.line_id, i.sheet, i.source_row
        ON CONFLICT (line_id) DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM loaded), (SELECT count(*) FROM added) INTO n_loaded, n_new;

    DELETE FROM staging_export_rows s WHERE s.batch_id = p_batch_id;
    RETURN QUERY SELECT n_loaded, n_new;
END $$;

-- Check that every row read is accounted for, and record the batch's counts.
CREATE OR REPLACE FUNCTION finish_batch(p_batch_id bigint, p_rows_read integer,
                                        p_rows_loaded integer, p_rows_new integer)
RETURNS TABLE (rows_read integer, rows_loaded integer, rows_new integer,
               rows_duplicate integer, rows_quarantined integer)
LANGUAGE plpgsql AS $$
DECLARE
    n_quarantined integer;
BEGIN
    SELECT count(*) INTO n_quarantined FROM quarantine q WHERE q.batch_id = p_batch_id;
    IF p_rows_read <> p_rows_loaded + n_quarantined THEN
        RAISE EXCEPTION 'batch % does not reconcile: % rows read, % loaded + % quarantined',
            p_batch_id, p_rows_read, p_rows_loaded, n_quarantined;
    END IF;
    UPDATE load_batches b
    SET rows_read = p_rows_read, rows_loaded = p_rows_loaded, rows_new = p_rows_new,
        rows_duplicate = p_rows_loaded - p_rows_new, rows_quarantined = n_quarantined
    WHERE b.batch_id = p_batch_id;
    RETURN QUERY SELECT p_rows_read, p_rows_loaded, p_rows_new, p_rows_loaded - p_rows_new, n_quarantined;
END $$;
