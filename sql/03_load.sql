-- 03_load.sql: typing a staged file. `lgs load` stages a file's rows as text in
-- staging_export_rows, then calls load_staged_batch() in the same transaction:
-- the file lands whole or not at all. Every staged row ends in exactly one of
-- export_rows (typed) or quarantine (with a reason): read = loaded + quarantined.

-- ISO text for the two date styles of the export (YYYY-MM-DD HH:MM[:SS] and
-- M/D/YYYY H:MM[:SS]), or NULL when the value is not a valid date in either.
CREATE OR REPLACE FUNCTION lgs_parse_timestamp(value text) RETURNS timestamp
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    iso text;
BEGIN
    IF value ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$' THEN
        iso := replace(value, 'T', ' ');
    ELSIF value ~ '^\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?$' THEN
        iso := regexp_replace(value, '^(\d{1,2})/(\d{1,2})/(\d{4})', '\3-\1-\2');
    ELSE
        RETURN NULL;
    END IF;
    IF pg_input_is_valid(iso, 'timestamp') THEN
        RETURN iso::timestamp;
    END IF;
    RETURN NULL;
END $$;

-- A whole number written plainly or as a float with a zero fraction ("13085.0"),
-- within integer range; NULL otherwise.
CREATE OR REPLACE FUNCTION lgs_parse_integer(value text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value ~ '^[+-]?\d{1,9}(\.0*)?$'
                THEN split_part(value, '.', 1)::integer END
$$;

-- A decimal number (no NaN or Infinity, which numeric would accept); NULL otherwise.
CREATE OR REPLACE FUNCTION lgs_parse_numeric(value text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value ~ '^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$'
                THEN trim_scale(value::numeric) END
$$;

-- p_rows_read is what the reader counted in the file (staged rows plus lines it could
-- not split, already quarantined): the batch must account for every one of them.
DROP FUNCTION IF EXISTS load_staged_batch(bigint, text, integer);
CREATE FUNCTION load_staged_batch(p_batch_id bigint, p_source_file text, p_rows_read integer)
RETURNS TABLE (rows_read integer, rows_loaded integer, rows_new integer,
               rows_duplicate integer, rows_quarantined integer)
LANGUAGE plpgsql AS $$
DECLARE
    n_loaded integer;
    n_new integer;
    n_quarantined integer;
BEGIN
    -- 1. Trim and type every staged row once; collect every reason a row fails.
    CREATE TEMP TABLE typed_rows ON COMMIT DROP AS
    WITH trimmed AS (
        SELECT s.sheet, s.source_row,
               NULLIF(btrim(s.invoice), '')      AS invoice,
               NULLIF(btrim(s.stock_code), '')   AS stock_code,
               NULLIF(s.description, '')         AS description,
               NULLIF(btrim(s.quantity), '')     AS quantity,
               NULLIF(btrim(s.invoice_date), '') AS invoice_date,
               NULLIF(btrim(s.price), '')        AS price,
               NULLIF(btrim(s.customer_id), '')  AS customer_id,
               NULLIF(btrim(s.country), '')      AS country,
               s AS raw
        FROM staging_export_rows s
        WHERE s.batch_id = p_batch_id
    ), cast_rows AS (
        SELECT t.*,
               regexp_replace(t.invoice, '\.0*$', '')           AS invoice_no_t,
               regexp_replace(t.stock_code, '^(\d+)\.0*$', '\1') AS stock_code_t,
               lgs_parse_integer(t.quantity)                     AS quantity_t,
               lgs_parse_timestamp(t.invoice_date)               AS invoice_date_t,
               lgs_parse_numeric(t.price)                        AS unit_price_t,
               lgs_parse_integer(t.customer_id)                  AS customer_id_t
        FROM trimmed t
    )
    SELECT c.*,
           concat_ws('; ',
               CASE WHEN c.invoice IS NULL THEN 'Invoice is empty'
                    WHEN c.invoice_no_t !~ '^[A-Za-z]?\d+$' THEN 'Invoice is not an invoice number' END,
               CASE WHEN c.stock_code IS NULL THEN 'StockCode is empty' END,
               CASE WHEN c.quantity IS NULL THEN 'Quantity is empty'
                    WHEN c.quantity_t IS NULL THEN 'Quantity is not a whole number' END,
               CASE WHEN c.invoice_date IS NULL THEN 'InvoiceDate is empty'
                    WHEN c.invoice_date_t IS NULL
                    THEN 'InvoiceDate is not a date (expected YYYY-MM-DD HH:MM or M/D/YYYY H:MM)' END,
               CASE WHEN c.price IS NULL THEN 'Price is empty'
                    WHEN c.unit_price_t IS NULL THEN 'Price is not a number' END,
               CASE WHEN c.customer_id IS NOT NULL AND c.customer_id_t IS NULL
                    THEN 'Customer ID is not a whole number' END
           ) AS reason
    FROM cast_rows c;

    INSERT INTO quarantine (batch_id, source_file, sheet, source_row, raw_values, reason)
    SELECT p_batch_id, p_source_file, t.sheet, t.source_row,
           jsonb_build_object('Invoice', (t.raw).invoice, 'StockCode', (t.raw).stock_code,
                              'Description', (t.raw).description, 'Quantity', (t.raw).quantity,
                              'InvoiceDate', (t.raw).invoice_date, 'Price', (t.raw).price,
                              'Customer ID', (t.raw).customer_id, 'Country', (t.raw).country),
           t.reason
    FROM typed_rows t
    WHERE t.reason <> '';
    SELECT count(*) INTO n_quarantined FROM quarantine q WHERE q.batch_id = p_batch_id;

    -- 2. Split the file into the exports it stacks: a CSV of both sheets starts a
    --    new export where the dates jump back by more than a day. Number repeats of
    --    an identical line within one export, and derive the line's identity from
    --    its values and that number, so that the same line in an overlapping export
    --    gets the same line_id (and is loaded once) while true repeats are kept.
    INSERT INTO export_rows (batch_id, sheet, source_row, export_part, occurrence, line_id,
                             invoice_no, stock_code, description, quantity, invoice_date,
                             unit_price, customer_id, country)
    WITH good AS (
        SELECT t.*,
               CASE WHEN t.invoice_date_t < lag(t.invoice_date_t) OVER w - interval '1 day'
                    THEN 1 ELSE 0 END AS starts_part
        FROM typed_rows t
        WHERE t.reason = ''
        WINDOW w AS (PARTITION BY t.sheet ORDER BY t.source_row)
    ), parts AS (
        SELECT g.*, 1 + sum(g.starts_part) OVER (PARTITION BY g.sheet ORDER BY g.source_row) AS part
        FROM good g
    ), numbered AS (
        SELECT p.*,
               row_number() OVER (
                   PARTITION BY p.sheet, p.part, p.invoice_no_t, p.stock_code_t, p.description,
                                p.quantity_t, p.invoice_date_t, p.unit_price_t, p.customer_id_t, p.country
                   ORDER BY p.source_row) AS occ
        FROM parts p
    )
    SELECT p_batch_id, n.sheet, n.source_row, n.part, n.occ,
           md5(concat_ws(chr(31), n.invoice_no_t, n.stock_code_t, coalesce(n.description, chr(30)),
                         n.quantity_t, n.invoice_date_t, n.unit_price_t,
                         coalesce(n.customer_id_t::text, ''), coalesce(n.country, ''), n.occ))::uuid,
           n.invoice_no_t, n.stock_code_t, n.description, n.quantity_t, n.invoice_date_t,
           n.unit_price_t, n.customer_id_t, n.country
    FROM numbered n;
    GET DIAGNOSTICS n_loaded = ROW_COUNT;

    -- 3. New lines become transactions; lines already there are counted as duplicates.
    INSERT INTO transactions (line_id, invoice_no, stock_code, description, quantity,
                              invoice_date, unit_price, customer_id, country, occurrence,
                              first_batch_id)
    SELECT DISTINCT ON (e.line_id)
           e.line_id, e.invoice_no, e.stock_code, e.description, e.quantity, e.invoice_date,
           e.unit_price, e.customer_id, e.country, e.occurrence, e.batch_id
    FROM export_rows e
    WHERE e.batch_id = p_batch_id
    ORDER BY e.line_id, e.sheet, e.source_row
    ON CONFLICT (line_id) DO NOTHING;
    GET DIAGNOSTICS n_new = ROW_COUNT;

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
