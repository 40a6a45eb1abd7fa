-- 04_load.sql: moving staged rows into the typed tables. `lgs load` reads and validates
-- a file in chunks (lgs_analytics.ingest.validate: rows that cannot be typed go straight to
-- quarantine with their reasons), COPYs each chunk's loadable rows into export_rows and their
-- lines (values as text) into staging_lines, and calls load_staged_rows(); at the end
-- finish_batch() checks and records the accounting and groups the new lines for the build. All
-- in one transaction: a file lands whole or not at all.

-- The staged rows as typed lines, those dated within [loaded_from, loaded_to] or those outside
-- (all of them when the bounds are NULL: nothing is loaded yet). Inlined into its caller. The bounds
-- are text spelled as the staged dates are, YYYY-MM-DD HH:MM:SS, whose order in C collation is
-- time order: casting every row's date for the test instead costs 0.35 s a million rows in each
-- branch of the caller's union.
CREATE OR REPLACE FUNCTION staged_lines(loaded_from text, loaded_to text, within boolean)
RETURNS TABLE (line_id uuid, invoice_no text, stock_code text, description text, quantity integer,
               invoice_date timestamp, unit_price numeric, customer_id integer, country text,
               occurrence integer)
LANGUAGE sql STABLE AS $$
    SELECT s.line_id, s.invoice, s.stock_code, s.description, s.quantity::integer,
           s.invoice_date::timestamp, s.price::numeric, s.customer_id::integer, s.country, s.occurrence
    FROM staging_lines s
    WHERE coalesce(s.invoice_date BETWEEN (loaded_from COLLATE "C") AND (loaded_to COLLATE "C"), false) = within
$$;

-- Land a chunk's staged lines in transactions (their rows are in export_rows already, COPYed by
-- the loader); return how many rows were loaded and how many of them were lines new to transactions.
CREATE OR REPLACE FUNCTION load_staged_rows(p_batch_id bigint)
RETURNS TABLE (rows_loaded integer, rows_new integer)
LANGUAGE plpgsql
SET work_mem = '256MB'  -- a chunk's rows sort in memory, not on disk
-- A line that may be loaded already is found by a probe of the primary key, so a chunk costs the
-- same however long the history (left alone, the planner hashes the whole table for a big chunk).
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
    n_loaded integer;
    n_new integer;
    loaded_from text;  -- spelled as the staged dates are
    loaded_to text;
BEGIN
    SELECT count(*) INTO n_loaded FROM staging_lines;

    -- Every line loaded so far (earlier chunks of this file included) is dated within these bounds,
    -- so only the lines dated within them need the probe: a new week's export, or the part of a
    -- stacked export past the one before it, lands without one. (The staged dates are ISO text, in
    -- time order as text: their min and max need no cast of every row.)
    SELECT to_char(min(b.lines_from), 'YYYY-MM-DD HH24:MI:SS'),
           to_char(max(b.lines_to), 'YYYY-MM-DD HH24:MI:SS')
    INTO loaded_from, loaded_to FROM load_batches b;
    UPDATE load_batches b
    SET lines_from = least(b.lines_from, staged.first_date), lines_to = greatest(b.lines_to, staged.last_date)
    FROM (SELECT min(s.invoice_date)::timestamp AS first_date, max(s.invoice_date)::timestamp AS last_date
          FROM staging_lines s) AS staged
    WHERE b.batch_id = p_batch_id;

    -- New lines become transactions, in key order (each index page visited once): those dated
    -- outside the bounds, and those within them that are not there yet. A line already there,
    -- from an earlier file or chunk, counts as a duplicate, and so does a second copy in this
    -- chunk (overlapping exports in one file). Every copy of a line carries the same values (its
    -- id is made of them, its date too: all its copies take the same branch of the union), so
    -- which one lands does not matter. An anti-join, not ON CONFLICT DO NOTHING: its speculative
    -- insertion costs a third more. (The primary key still refuses a line loaded twice, should the
    -- bounds ever be wrong: the load then fails whole.)
    INSERT INTO transactions (line_id, invoice_no, stock_code, description, quantity,
                              invoice_date, unit_price, customer_id, country, occurrence,
                              first_batch_id, step)
    SELECT DISTINCT ON (s.invoice_date, s.line_id) s.*, p_batch_id,
           clean_step(s.invoice_no, s.stock_code, s.quantity, s.unit_price, s.customer_id, s.occurrence)
    FROM (SELECT * FROM staged_lines(loaded_from, loaded_to, false)
          UNION ALL
          SELECT * FROM staged_lines(loaded_from, loaded_to, true) w
          WHERE NOT EXISTS (SELECT 1 FROM transactions t
                            WHERE t.invoice_date = w.invoice_date AND t.line_id = w.line_id)) AS s
    ORDER BY s.invoice_date, s.line_id;
    GET DIAGNOSTICS n_new = ROW_COUNT;

    -- Truncate, not delete: dead rows would make every later chunk scan all earlier ones.
    -- (The loader holds the table's lock for the whole load: one load at a time.)
    TRUNCATE staging_lines;
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
    -- The batch's new lines join the grouped lines the build reads (03_lines.sql), in this
    -- transaction: the groups always cover exactly the loads committed.
    PERFORM add_line_groups(p_batch_id, p_batch_id);
    UPDATE load_batches b
    SET rows_read = p_rows_read, rows_loaded = p_rows_loaded, rows_new = p_rows_new,
        rows_duplicate = p_rows_loaded - p_rows_new, rows_quarantined = n_quarantined
    WHERE b.batch_id = p_batch_id;
    RETURN QUERY SELECT p_rows_read, p_rows_loaded, p_rows_new, p_rows_loaded - p_rows_new, n_quarantined;
END $$;
