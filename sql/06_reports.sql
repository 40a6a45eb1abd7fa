-- 06_reports.sql: the report's figures that are computed in SQL from the loaded lines
-- (`lgs build` reads them into the analysis it publishes).

-- The best products of a window by revenue or quantity: purchases net of the identified
-- customers' cancellations (a line cancelled the same day counts for nothing), with the
-- product's most common description and the distinct purchase invoices that carry it.
-- Two passes over the window's lines, none held: the totals, then the best products' lines.
CREATE OR REPLACE FUNCTION top_products(window_start timestamp, window_end timestamp, n integer, by_what text)
RETURNS TABLE (stock_code text, description text, quantity bigint, revenue numeric, invoices bigint)
LANGUAGE sql STABLE AS $$
    WITH lines AS NOT MATERIALIZED (
        SELECT t.stock_code, t.description, t.invoice_no, t.quantity,
               t.quantity * t.unit_price AS line_total, t.step
        FROM transactions t
        WHERE (t.step = 0 OR (t.customer_id IS NOT NULL
                              AND t.step IN (SELECT r.step FROM cleaning_rules r WHERE r.set_aside)))
          AND (window_start IS NULL OR t.invoice_date >= window_start)
          AND (window_end IS NULL OR t.invoice_date < window_end)
    ), totals AS (
        SELECT l.stock_code, sum(l.quantity)::bigint AS quantity, sum(l.line_total) AS revenue,
               CASE WHEN by_what = 'quantity' THEN sum(l.quantity) ELSE sum(l.line_total) END AS rank_by
        FROM lines l GROUP BY l.stock_code
    ), best AS (
        SELECT * FROM totals ORDER BY totals.rank_by DESC, totals.stock_code COLLATE "C" LIMIT n
    ), picked AS (
        SELECT l.stock_code, l.description, l.invoice_no
        FROM lines l JOIN best b ON b.stock_code = l.stock_code WHERE l.step = 0
    ), descriptions AS (
        SELECT DISTINCT ON (d.stock_code) d.stock_code, d.description
        FROM (SELECT p.stock_code, p.description, count(*) AS lines FROM picked p
              WHERE p.description IS NOT NULL GROUP BY p.stock_code, p.description) d
        ORDER BY d.stock_code, d.lines DESC, d.description COLLATE "C"
    ), invoices AS (
        SELECT p.stock_code, count(DISTINCT p.invoice_no) AS invoices FROM picked p GROUP BY p.stock_code
    )
    SELECT b.stock_code, d.description, b.quantity, b.revenue, coalesce(i.invoices, 0)
    FROM best b
    LEFT JOIN descriptions d ON d.stock_code = b.stock_code
    LEFT JOIN invoices i ON i.stock_code = b.stock_code
    ORDER BY b.rank_by DESC, b.stock_code COLLATE "C"
$$;

-- The purchase baskets for recommendations: the purchase lines of identified customers, the
-- cleaning rules applied (step 0: postage, fees, manual entries and the other non-products never
-- appear), as (invoice, customer, product, date). A product on two lines of one invoice comes twice:
-- the analytics treats a basket as a set of products (analytics/recommend.py). No grouping here: at
-- full size grouping the lines took 1.0-1.7 s against 0.3-0.4 s for the plain scan.
CREATE OR REPLACE FUNCTION basket_items(window_start timestamp, window_end timestamp)
RETURNS TABLE (invoice_no text, customer_id integer, stock_code text, invoice_date timestamp)
LANGUAGE sql STABLE AS $$
    SELECT t.invoice_no, t.customer_id, t.stock_code, t.invoice_date
    FROM transactions t
    WHERE t.step = 0
      AND (window_start IS NULL OR t.invoice_date >= window_start)
      AND (window_end IS NULL OR t.invoice_date < window_end)
$$;

-- Each product's description: the most common on its purchase lines of the window (ties: the first
-- in byte order), as top_products names them.
CREATE OR REPLACE FUNCTION product_descriptions(window_start timestamp, window_end timestamp)
RETURNS TABLE (stock_code text, description text)
LANGUAGE sql STABLE
SET work_mem = '64MB'  -- the (product, description) groups hash in memory: 0.33 s, not 0.56 s, at full size
AS $$
    SELECT DISTINCT ON (d.stock_code) d.stock_code, d.description
    FROM (SELECT t.stock_code, t.description, count(*) AS lines FROM transactions t
          WHERE t.step = 0 AND t.description IS NOT NULL
            AND (window_start IS NULL OR t.invoice_date >= window_start)
            AND (window_end IS NULL OR t.invoice_date < window_end)
          GROUP BY t.stock_code, t.description) d
    ORDER BY d.stock_code, d.lines DESC, d.description COLLATE "C"
$$;
