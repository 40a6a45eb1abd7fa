-- 00_upgrade.sql: brings a database made by an earlier revision of these scripts to the shape
-- the others define. It runs FIRST, because they need that shape: views and SQL functions name
-- the current columns, and 03_lines.sql applies the cleaning rules to transactions.step.
--
-- Each statement is guarded (IF EXISTS, IF NOT EXISTS, or a test of the catalog) and does nothing
-- on an empty database or on one these scripts have already brought up to date; it changes only
-- a database that still has an older shape:
--   load_batches   without dropped_columns, lines_from, lines_to or synthetic; bounds not filled
--   transactions   keyed by line_id alone; without step, or with step nullable
--   staging        the landing table staging_export_rows and the view stg_transactions
--   functions      load_staged_batch, load_staged_lines, staged_lines(timestamp, ...),
--                  invoice_prefix, and rebuild_line_groups() returning bigint
--   marts          customer_rfm, segments and customer_predictions without build_id;
--                  campaign_customers without the due-back columns; customer_predictions and
--                  campaign_customers without p_no_order_90d; campaign_customers without
--                  country_code ... area (who the customers are)
--   refresh_runs   without build_id

-- load_batches: the columns of 01_raw.sql missing from an older table, in the table's order.
ALTER TABLE IF EXISTS load_batches ADD COLUMN IF NOT EXISTS dropped_columns text[] NOT NULL DEFAULT '{}';
ALTER TABLE IF EXISTS load_batches ADD COLUMN IF NOT EXISTS lines_from timestamp;
ALTER TABLE IF EXISTS load_batches ADD COLUMN IF NOT EXISTS lines_to timestamp;
ALTER TABLE IF EXISTS load_batches ADD COLUMN IF NOT EXISTS synthetic boolean NOT NULL DEFAULT false;

-- A batch that added lines and has no bounds gets those of the lines it first carried.
DO $$
BEGIN
    IF to_regclass('load_batches') IS NOT NULL AND to_regclass('transactions') IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM load_batches WHERE lines_from IS NULL AND rows_new > 0) THEN
            UPDATE load_batches b SET lines_from = r.first_date, lines_to = r.last_date
            FROM (SELECT t.first_batch_id, min(t.invoice_date) AS first_date, max(t.invoice_date) AS last_date
                  FROM transactions t GROUP BY t.first_batch_id) AS r
            WHERE b.batch_id = r.first_batch_id AND b.lines_from IS NULL;
        END IF;
    END IF;
END $$;

-- transactions keyed by line_id alone (whatever its key's name) are keyed by (invoice_date, line_id).
DO $$
DECLARE
    old_key name;
BEGIN
    SELECT c.conname INTO old_key FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid
    WHERE c.conrelid = to_regclass('transactions') AND c.contype = 'p' AND i.indnkeyatts = 1;
    IF old_key IS NOT NULL THEN
        EXECUTE format('ALTER TABLE transactions DROP CONSTRAINT %I, '
                       'ADD CONSTRAINT transactions_pkey PRIMARY KEY (invoice_date, line_id)', old_key);
    END IF;
END $$;

-- transactions.step, NOT NULL: a line without a step gets 0, a placeholder that 03_lines.sql, in
-- the same run, replaces with the step the cleaning rules give the line.
ALTER TABLE IF EXISTS transactions ADD COLUMN IF NOT EXISTS step smallint NOT NULL DEFAULT 0;
ALTER TABLE IF EXISTS transactions ALTER COLUMN step DROP DEFAULT;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = to_regclass('transactions') AND attname = 'step' AND NOT attnotnull) THEN
        UPDATE transactions SET step = 0 WHERE step IS NULL;
        ALTER TABLE transactions ALTER COLUMN step SET NOT NULL;
    END IF;
END $$;

-- Staging objects of earlier revisions, which 02_staging.sql does not define.
DROP TABLE IF EXISTS staging_export_rows;
DROP VIEW IF EXISTS stg_transactions;

-- Functions of earlier revisions, with signatures the other scripts do not define.
DROP FUNCTION IF EXISTS load_staged_batch(bigint, text, integer);
DROP FUNCTION IF EXISTS load_staged_lines(bigint);
DROP FUNCTION IF EXISTS staged_lines(timestamp, timestamp, boolean);
DROP FUNCTION IF EXISTS invoice_prefix(text);
-- rebuild_line_groups() returning bigint: 03_lines.sql defines it with two OUT columns, which
-- CREATE OR REPLACE cannot make of it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_proc WHERE oid = to_regprocedure('rebuild_line_groups()')
                                       AND prorettype = 'bigint'::regtype) THEN
        DROP FUNCTION rebuild_line_groups();
    END IF;
END $$;

-- Marts and predictions without a build id: derived data, dropped; 05_marts.sql creates them
-- empty and the next `lgs build` publishes them.
DO $$
BEGIN
    IF to_regclass('customer_rfm') IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'customer_rfm' AND column_name = 'build_id'
    ) THEN
        DROP TABLE IF EXISTS customer_rfm, segments CASCADE;
    END IF;
    IF to_regclass('customer_predictions') IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'customer_predictions'
          AND column_name = 'build_id'
    ) THEN
        DROP TABLE customer_predictions;
    END IF;
END $$;

-- campaign_customers: the due-back columns of 05_marts.sql missing from an older table (empty until
-- the next `lgs build`, like the rest of the campaign list).
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS usual_gap_days integer;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS due_from date;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS due_to date;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS due_status text
    CHECK (due_status IN ('not yet', 'due', 'overdue'));
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS p_no_order_90d numeric(6,4)
    CHECK (p_no_order_90d BETWEEN 0 AND 1);

-- customer_predictions.p_no_order_90d, NOT NULL as 05_marts.sql defines it. An older build's rows have
-- no such figure: they keep NULL (read as unknown) until the next `lgs build` replaces them, and the
-- column becomes NOT NULL on the first run of these scripts that finds none.
ALTER TABLE IF EXISTS customer_predictions ADD COLUMN IF NOT EXISTS p_no_order_90d numeric(6,4)
    CHECK (p_no_order_90d BETWEEN 0 AND 1);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('customer_predictions')
                                            AND attname = 'p_no_order_90d' AND NOT attnotnull) THEN
        IF NOT EXISTS (SELECT 1 FROM customer_predictions WHERE p_no_order_90d IS NULL) THEN
            ALTER TABLE customer_predictions ALTER COLUMN p_no_order_90d SET NOT NULL;
        END IF;
    END IF;
END $$;

-- builds.recommendations and the campaign list's offers (issue 30): empty until the next `lgs build`.
ALTER TABLE IF EXISTS builds ADD COLUMN IF NOT EXISTS recommendations jsonb NOT NULL DEFAULT '{}';
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS offer_1_code text;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS offer_1 text;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS offer_2_code text;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS offer_2 text;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS offer_3_code text;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS offer_3 text;

-- campaign_customers: where the customer is, their type and their CRM bands (empty until the next build).
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS country_code char(2);
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS region text
    CHECK (region IN ('United Kingdom', 'EU', 'rest of Europe', 'rest of the world', 'unknown'));
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS customer_type text
    CHECK (customer_type IN ('wholesale', 'trade', 'retail'));
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS order_units_median numeric;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS order_value_median numeric;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS age_band text;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS gender text;
ALTER TABLE IF EXISTS campaign_customers ADD COLUMN IF NOT EXISTS area text;

-- refresh_runs: the column of 07_runs.sql missing from an older table.
ALTER TABLE IF EXISTS refresh_runs ADD COLUMN IF NOT EXISTS build_id bigint;
