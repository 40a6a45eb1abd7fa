-- 03_load.sql: moving a staged file into the typed tables. `lgs load` reads and
-- validates the file (lgs_analytics.validate: rows that cannot be typed go straight to
-- quarantine with their reasons), stages the rest as text in staging_export_rows, then
-- calls load_staged_batch() in the same transaction: the file lands whole or not at all.

-- p_rows_read is what the reader counted in the file; the batch must account for each:
-- read = loaded (export_rows) + quarantined.
CREATE OR REPLACE FUNCTION load_staged_batch(p_batch_id bigint, p_source_file text, p_rows_read integer)
RETURNS TABLE (rows_read integer, rows_loaded integer, rows_new integer,
               rows_duplicate integer, rows_quarantined integer)
LANGUAGE plpgsql
SET work_mem = '256MB'  -- a million rows sort in memory, not on disk
AS $$
DECLARE
    n_loaded integer;
    n_new integer;
    n_quarantined integer;
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
    SELECT (SELECT count(*) FROM loaded), (SELECT count(*) FROM added),
           (SELECT count(*) FROM quarantine q WHERE q.batch_id = p_batch_id)
    INTO n_loaded, n_new, n_quarantined;

    IF p_rows_read <> n_loaded + n_quarantined THEN
        RAISE EXCEPTION 'batch % does not reconcile: % rows read, % loaded + % quarantined',
            p_batch_id, p_rows_read, n_loaded, n_quarantined;
    END IF;

    UPDATE load_batches b
    SET rows_read = p_rows_read, rows_loaded = n_loaded, rows_new = n_new,
        rows_duplicate = n_loaded - n_new, rows_quarantined = n_quarantined
    WHERE b.batch_id = p_batch_id;

    DELETE FROM staging_export_rows s WHERE s.batch_id = p_batch_id;

    RETURN QUERY SELECT p_rows_read, n_loaded, n_new, n_loaded - n_new, n_quarantined;
END $$;
