-- 03_lines.sql: the cleaning rules, and the transactions grouped by invoice and rule.
--
-- The cleaning rules are defined here and nowhere else: every line of transactions gets the
-- number of the first rule that takes it (clean_step), and the lines are kept grouped by
-- (invoice, date, customer, country, step) in line_groups. The build reads those groups, some
-- 16 times fewer rows than lines at full size, so its memory follows invoices and customers
-- rather than lines; the money and counts it reports are sums over them.
--
-- line_groups grows with each load (finish_batch, 04_load.sql, adds the lines new in the batch),
-- and is rebuilt from transactions when this script runs (the rules may have changed) and by
-- `lgs build --full`. Both go through add_line_groups, so the two paths agree by construction;
-- a test checks that they do, and a regroup counts any group that differed.

-- The rules in order, for the audit: a line is taken by the FIRST rule that matches it; step 0
-- (no rule) is a purchase kept for analysis. set_aside: the rule's lines are kept apart
-- (cancellations are netted against purchases), not dropped.
CREATE TABLE IF NOT EXISTS cleaning_rules (
    step       smallint PRIMARY KEY CHECK (step > 0),
    name       text     NOT NULL UNIQUE,
    rule       text     NOT NULL,   -- one sentence for stakeholders (the report's audit table)
    set_aside  boolean  NOT NULL DEFAULT false
);
DELETE FROM cleaning_rules;
INSERT INTO cleaning_rules (step, name, rule, set_aside) VALUES
    (1, 'exact duplicates',
        'Lines that repeat an identical earlier line of the same invoice in the same export.', false),
    (2, 'missing customer id',
        'Lines without a customer id cannot be attributed to a customer.', false),
    (3, 'adjustments',
        'Bad-debt adjustments (''A'' invoices) are bookkeeping entries, not sales.', false),
    (4, 'non-product codes',
        'Postage, bank charges, fees, manual entries, samples, vouchers and tests are not products.', false),
    (5, 'zero or negative price',
        'Lines with a unit price of zero or less are free items or bookkeeping.', false),
    (6, 'cancellations',
        'Cancelled and returned lines (''C'' invoices) are set aside and netted against purchases.', true),
    (7, 'stock write-offs',
        'Lines with zero or negative quantity that are not cancellations are stock write-offs.', false);

-- A product code is five digits and optional letters (85123A, 15056BL, 79323P), spaces around it
-- aside, in any letter case; codes starting with DCGS (DCGS0058, DCGSSBOY) are products too: in the
-- real export they are named merchandise of the dotcom gift shop at normal prices. Everything else
-- is a non-product line: the service codes of the real export (POST, DOT, M, C2, D, S, B, PADS,
-- BANK CHARGES, AMAZONFEE, ADJUST, TEST001, CRUK: none fits the pattern, a test checks they go) and
-- any other code that fits neither pattern (gift_0001_20, SP1002, ADJUST2). The digits are ASCII:
-- a full-width ８５１２３A is not a product code. One regular expression, no other string work: it
-- runs on every line loaded.
CREATE OR REPLACE FUNCTION is_product_code(stock_code text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT stock_code ~ '^[[:space:]]*([0-9]{5}[A-Za-z]*|DCGS[A-Za-z0-9]+)[[:space:]]*$'
$$;

-- Invoices by their letter: 'C' cancellations and returns, 'A' bad-debt adjustments (any case).
CREATE OR REPLACE FUNCTION is_cancellation_invoice(invoice_no text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT invoice_no ~ '^[[:space:]]*[Cc]' $$;
CREATE OR REPLACE FUNCTION is_adjustment_invoice(invoice_no text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT invoice_no ~ '^[[:space:]]*[Aa]' $$;

-- The step of cleaning_rules that takes a line (0: none, a purchase). Each rule is a test of the
-- line alone, so the first match is the same as applying the rules one after another. A value
-- the loader never stores (NULL) fails its test safely: a NULL price or quantity is removed, a
-- NULL code is not a product; lines cleaned in memory (pipeline.clean_frame) can carry them.
CREATE OR REPLACE FUNCTION clean_step(invoice_no text, stock_code text, quantity integer,
                                      unit_price numeric, customer_id integer, occurrence integer)
RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE
        WHEN occurrence > 1 THEN 1                        -- an identical earlier line of the invoice
        WHEN customer_id IS NULL THEN 2
        WHEN coalesce(is_adjustment_invoice(invoice_no), false) THEN 3
        WHEN NOT coalesce(is_product_code(stock_code), false) THEN 4
        WHEN NOT coalesce(unit_price > 0, false) THEN 5
        WHEN coalesce(is_cancellation_invoice(invoice_no), false) THEN 6
        WHEN NOT coalesce(quantity > 0, false) THEN 7     -- not a cancellation (step 6 came first)
        ELSE 0
    END)::smallint
$$;

-- Each line's step is kept in transactions (load_staged_rows sets it as a line lands): the
-- product figures then read it without testing every stock code again. When this script runs
-- (sql/ changed, the rules perhaps with it) the lines whose step the rules now give differently
-- are corrected, and line_groups is rebuilt below.
UPDATE transactions t
SET step = clean_step(t.invoice_no, t.stock_code, t.quantity, t.unit_price, t.customer_id, t.occurrence)
WHERE t.step IS DISTINCT FROM
      clean_step(t.invoice_no, t.stock_code, t.quantity, t.unit_price, t.customer_id, t.occurrence);

-- The lines grouped: one row per invoice, date, customer, country and step. Sums are exact
-- (numeric), so adding a batch's groups to the earlier ones gives what grouping them all at once does.
CREATE TABLE IF NOT EXISTS line_groups (
    invoice_no    text      NOT NULL,
    invoice_date  timestamp NOT NULL,
    customer_id   integer,
    country       text,
    step          smallint  NOT NULL,
    lines         bigint    NOT NULL,   -- lines in the group
    quantity      bigint    NOT NULL,   -- their units
    amount        numeric   NOT NULL,   -- their line totals, GBP
    returned      numeric   NOT NULL    -- their line totals' absolute values, GBP (what a return is worth)
);
CREATE UNIQUE INDEX IF NOT EXISTS line_groups_key
    ON line_groups (invoice_no, invoice_date, customer_id, country, step) NULLS NOT DISTINCT;

-- Add the lines first carried by batches first_batch..last_batch to line_groups.
CREATE OR REPLACE FUNCTION add_line_groups(first_batch bigint, last_batch bigint)
RETURNS bigint LANGUAGE plpgsql
SET work_mem = '256MB'  -- a million lines' groups hash in memory (at the default 4MB they spill: 40% slower)
-- Hash the groups, never sort the lines: inside a load the planner has no statistics for the lines
-- just written, guesses a few thousand, and sorting a million of them took 1.3 s against 0.2 s.
SET enable_sort = off
AS $$
DECLARE
    n_groups bigint;
BEGIN
    INSERT INTO line_groups AS g (invoice_no, invoice_date, customer_id, country, step,
                                  lines, quantity, amount, returned)
    SELECT invoice_no, invoice_date, customer_id, country, step,
           count(*), sum(quantity), sum(quantity * unit_price), sum(abs(quantity * unit_price))
    FROM transactions
    WHERE first_batch_id BETWEEN first_batch AND last_batch
    GROUP BY invoice_no, invoice_date, customer_id, country, step
    ON CONFLICT (invoice_no, invoice_date, customer_id, country, step) DO UPDATE
    SET lines = g.lines + excluded.lines, quantity = g.quantity + excluded.quantity,
        amount = g.amount + excluded.amount, returned = g.returned + excluded.returned;
    GET DIAGNOSTICS n_groups = ROW_COUNT;
    RETURN n_groups;
END $$;

-- line_groups from scratch (rules changed, or `lgs build --full`): every batch's lines again.
-- Returns how many groups there are and how many differ from the groups there were (0 when the
-- loads' additions were right). DELETE, not TRUNCATE: a build reading in a snapshot taken before
-- this commits still sees the old groups, where TRUNCATE would show it an empty table.
CREATE OR REPLACE FUNCTION rebuild_line_groups(OUT groups bigint, OUT changed bigint)
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE previous_groups ON COMMIT DROP AS SELECT * FROM line_groups;
    DELETE FROM line_groups;
    groups := add_line_groups(0, 9223372036854775807);  -- every batch there is
    SELECT count(*) INTO changed FROM (
        (SELECT * FROM previous_groups EXCEPT ALL SELECT * FROM line_groups)
        UNION ALL
        (SELECT * FROM line_groups EXCEPT ALL SELECT * FROM previous_groups)) AS difference;
    DROP TABLE previous_groups;
END $$;

-- This script runs when sql/ changes, the rules perhaps with it.
SELECT * FROM rebuild_line_groups();
