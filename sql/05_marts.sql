-- 05_marts.sql: the tables the LGS web app and the dashboard read (a stable, documented contract:
-- docs/data-contract.md). Only `lgs build` writes them: it computes every mart from the raw
-- layer and publishes them all in ONE transaction, stamped with its build id, so readers see the
-- previous build or the new one, never a mix. The marts hold the current build only; `builds`
-- keeps the record of every build.

-- One row per build, published or refused: what it computed, from what, and how it ended.
CREATE TABLE IF NOT EXISTS builds (
    build_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT now(),
    status          text        NOT NULL CHECK (status IN ('published', 'refused', 'failed')),
    methods         text[]      NOT NULL,            -- RFM methods published, e.g. {standard,classic}
    as_of           date,                            -- the standard scores' and predictions' as-of date
    window_start    date,                            -- first invoice date included (NULL: from the start)
    window_end      date,                            -- last invoice date included (NULL: to the end)
    parameters      jsonb       NOT NULL DEFAULT '{}',  -- as given to `lgs build`
    batches         jsonb       NOT NULL DEFAULT '[]',  -- provenance: [{batch_id, file, rows_read,
                                                        --   rows_loaded, synthetic, loaded_at}]
    last_batch_id   bigint,                          -- the newest load the build read
    rows_read       bigint      NOT NULL DEFAULT 0,  -- over all the batches above
    customers       integer     NOT NULL DEFAULT 0,  -- customers scored (standard)
    synthetic       boolean     NOT NULL DEFAULT false, -- any batch came from `lgs generate`
    forecast        jsonb       NOT NULL DEFAULT '{}',  -- holdout check, fit time, or why no predictions
    package_version text        NOT NULL,
    detail          text        NOT NULL DEFAULT '',  -- why a build was refused or failed, in one line
    recommendations jsonb       NOT NULL DEFAULT '{}'  -- the scorer published and its holdout check
);

-- The build the web app, the dashboard and the report read: the newest published one.
CREATE OR REPLACE VIEW current_build AS
SELECT * FROM builds WHERE status = 'published' ORDER BY build_id DESC LIMIT 1;

-- Money and shares are unbounded numeric (the package rounds them): any value the loader accepts
-- can be published, so a build never fails on "numeric field overflow".

-- One row per customer and RFM method.
CREATE TABLE IF NOT EXISTS customer_rfm (
    build_id      bigint       NOT NULL,
    customer_id   integer      NOT NULL,
    method        text         NOT NULL CHECK (method IN ('classic', 'standard')),
    as_of         date         NOT NULL,  -- recency is counted in days up to this date
    recency       integer      NOT NULL,  -- days since the last purchase
    frequency     integer      NOT NULL,  -- distinct purchase invoices
    monetary      numeric      NOT NULL, -- GBP, 2 dp (standard: net of cancellations)
    r_score       smallint     NOT NULL CHECK (r_score BETWEEN 1 AND 5),
    f_score       smallint     NOT NULL CHECK (f_score BETWEEN 1 AND 5),
    m_score       smallint     NOT NULL CHECK (m_score BETWEEN 1 AND 5),
    rfm_score     char(3)      NOT NULL,
    segment       text         NOT NULL,
    PRIMARY KEY (method, customer_id)
);
CREATE INDEX IF NOT EXISTS customer_rfm_segment_idx ON customer_rfm (method, segment);

-- One row per segment and method: what it means, what to do, how big it is.
CREATE TABLE IF NOT EXISTS segments (
    build_id        bigint        NOT NULL,
    method          text          NOT NULL CHECK (method IN ('classic', 'standard')),
    segment         text          NOT NULL,
    description     text          NOT NULL,
    action          text          NOT NULL,  -- the recommended campaign
    priority        smallint      NOT NULL,  -- 1 = act first
    customers       integer       NOT NULL,
    customer_share  numeric       NOT NULL,  -- % of scored customers
    revenue         numeric       NOT NULL,  -- GBP, sum of the members' monetary value
    revenue_share   numeric       NOT NULL,  -- % of all scored revenue (2 dp; can pass 100 when some is negative)
    mean_recency    numeric(10,2),           -- days; NULL for an empty segment
    mean_frequency  numeric(10,2),           -- invoices
    mean_monetary   numeric,                 -- GBP
    as_of           date          NOT NULL,
    PRIMARY KEY (method, segment)
);

-- The report's aggregates of the current build (monthly sales, orders, customers, cohorts,
-- countries, products, baskets, the cleaning audit, churn alerts...): one Apache Parquet frame
-- each, read by the package (`lgs_analytics.pipeline.published`), never by the web app.
CREATE TABLE IF NOT EXISTS report_frames (
    build_id  bigint NOT NULL,
    name      text   NOT NULL,
    frame     bytea  NOT NULL,
    PRIMARY KEY (build_id, name)
);

-- The web app's everyday view: each customer's segment under the default method.
DROP VIEW IF EXISTS customer_segments;
CREATE VIEW customer_segments AS
SELECT r.customer_id, r.segment, s.action, r.r_score, r.f_score, r.m_score, r.rfm_score,
       r.recency, r.frequency, r.monetary, r.as_of, r.build_id
FROM customer_rfm r
JOIN segments s ON s.method = r.method AND s.segment = r.segment
WHERE r.method = 'standard';

-- The campaign list: one row per customer scored by the standard method, with what RFM and the
-- models say and where the customer is. The report's campaign files, `lgs campaign` and the
-- dashboard read it (analytics/campaign.py defines it; `lgs build` publishes it).
CREATE TABLE IF NOT EXISTS campaign_customers (
    build_id       bigint   NOT NULL,
    customer_id    integer  PRIMARY KEY,
    segment        text     NOT NULL,
    action         text     NOT NULL,
    priority       smallint NOT NULL,
    r_score        smallint NOT NULL,
    f_score        smallint NOT NULL,
    m_score        smallint NOT NULL,
    rfm_score      char(3)  NOT NULL,
    country        text,
    first_order    date,
    last_order     date,
    days_since     integer  NOT NULL,             -- days from the last order to the as-of date
    orders         integer  NOT NULL,             -- distinct purchase invoices
    spend          numeric  NOT NULL,             -- GBP, net of cancellations
    p_alive        numeric(6,4),                  -- NULL when the build published no predictions
    clv_12m        numeric,                       -- GBP, next 12 months, discounted
    value_at_risk  numeric,                       -- GBP: spend x (1 - p_alive), churn alerts only
    churn_risk     boolean  NOT NULL,
    churn_group    text CHECK (churn_group IN ('recoverable', 'long lost')),
    usual_gap_days integer,                       -- median days between purchase days (2+ gaps)
    due_from       date,                          -- last order + the shorter usual gap
    due_to         date,                          -- last order + the longer usual gap
    due_status     text CHECK (due_status IN ('not yet', 'due', 'overdue')),
    p_no_order_90d numeric(6,4)                   -- chance of no order in the next 90 days (model); NULL
                                                  -- when the build published no predictions
        CHECK (p_no_order_90d BETWEEN 0 AND 1),
    offer_1_code   text,                          -- the customer's first three recommended products
    offer_1        text,                          -- (customer_recommendations, ranks 1-3): code and
    offer_2_code   text,                          -- description
    offer_2        text,
    offer_3_code   text,
    offer_3        text,
    country_code   char(2),                       -- ISO 3166 alpha-2; NULL: Unspecified, European Community,
                                                  -- Channel Islands (analytics/geography.py)
    region         text CHECK (region IN ('United Kingdom', 'EU', 'rest of Europe', 'rest of the world',
                                          'unknown')),
    customer_type  text CHECK (customer_type IN ('wholesale', 'trade', 'retail')),  -- by the median order
    order_units_median numeric,                   -- units in the customer's median purchase order
    order_value_median numeric,                   -- GBP of the customer's median purchase order
    age_band       text,                          -- from the CRM (lgs load-customers), generalised; NULL:
    gender         text,                          -- not known (the export itself carries none)
    area           text                           -- UK postcode area (SW, M, B...) or town
);
CREATE INDEX IF NOT EXISTS campaign_customers_segment_idx ON campaign_customers (segment);

-- Each identified customer's invoices in the build: the dashboard's customer history.
CREATE TABLE IF NOT EXISTS customer_orders (
    build_id      bigint      NOT NULL,
    customer_id   integer     NOT NULL,
    invoice_no    text        NOT NULL,
    invoice_date  timestamp   NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('purchase', 'cancellation')),
    lines         integer     NOT NULL,
    units         bigint      NOT NULL,
    amount        numeric     NOT NULL,           -- GBP; negative for a cancellation
    country       text,
    PRIMARY KEY (customer_id, invoice_no)
);

-- The build's charts, drawn once by `lgs build` (SVG with its one-sentence finding), so that a report
-- of the published build only assembles the page.
CREATE TABLE IF NOT EXISTS report_charts (
    build_id  bigint NOT NULL,
    name      text   NOT NULL,
    caption   text   NOT NULL,
    svg       text   NOT NULL,
    PRIMARY KEY (build_id, name)
);

-- Churn and lifetime-value predictions for the web app, published with the other marts; a build
-- whose models could not be fitted publishes none and says why in builds.forecast.
CREATE TABLE IF NOT EXISTS customer_predictions (
    build_id                 bigint        NOT NULL,
    customer_id              integer       PRIMARY KEY,
    as_of                    date          NOT NULL,  -- predictions from the purchases before this date
    p_alive                  numeric(6,4)  NOT NULL CHECK (p_alive BETWEEN 0 AND 1),
    expected_purchases       numeric(10,4) NOT NULL,  -- in the next horizon_days
    horizon_days             integer       NOT NULL,
    expected_avg_order_value numeric       NOT NULL,  -- GBP per order (Gamma-Gamma)
    expected_spend           numeric       NOT NULL,  -- GBP in the next horizon_days
    clv_12m                  numeric       NOT NULL,  -- GBP, discounted, next 12 months
    past_value               numeric       NOT NULL,  -- GBP spent before as_of, net of returns
    churn_risk               boolean       NOT NULL,  -- high past value, likely no order in the horizon
    p_no_order_90d           numeric(6,4)  NOT NULL   -- chance of no order in the next 90 days
        CHECK (p_no_order_90d BETWEEN 0 AND 1)
);
CREATE INDEX IF NOT EXISTS customer_predictions_churn_idx ON customer_predictions (churn_risk)
    WHERE churn_risk;

-- Products bought together, for the web app's product pages: each product's strongest partners
-- (analytics/recommend.py: baskets of 2 to 50 products, a pair in at least 3 baskets; the score is
-- the basket-size weighted cosine). Both directions are listed: (A, B) and (B, A) rank separately.
CREATE TABLE IF NOT EXISTS product_pairs (
    build_id             bigint   NOT NULL,
    stock_code           text     NOT NULL,
    description          text,
    rank                 smallint NOT NULL CHECK (rank >= 1),  -- 1 = the strongest partner
    related_code         text     NOT NULL,
    related_description  text,
    score                numeric  NOT NULL CHECK (score > 0),  -- 0-1: how strongly they sell together
    lift                 numeric  NOT NULL,                    -- times more often together than chance
    baskets_together     integer  NOT NULL,                    -- baskets holding both
    share                numeric  NOT NULL,                    -- of the product's baskets, the share that
                                                               -- also hold the related product (0-1)
    PRIMARY KEY (stock_code, rank)
);

-- Each customer's next products: the top 10 new to them and still sold, with why. The scorer is
-- co-occurrence only when it beat popularity on the build's holdout (builds.recommendations).
CREATE TABLE IF NOT EXISTS customer_recommendations (
    build_id     bigint   NOT NULL,
    customer_id  integer  NOT NULL,
    rank         smallint NOT NULL CHECK (rank >= 1),
    stock_code   text     NOT NULL,
    description  text,
    score        numeric  NOT NULL,   -- co-occurrence: summed pair scores; popularity: share of buyers
    reason       text     NOT NULL,   -- 'bought together with <product>' or 'popular in <country>'
    based_on     text,                -- the customer's product it sells with (co-occurrence only)
    scorer       text     NOT NULL CHECK (scorer IN ('co-occurrence', 'popularity')),
    PRIMARY KEY (customer_id, rank)
);
CREATE INDEX IF NOT EXISTS customer_recommendations_product_idx ON customer_recommendations (stock_code);

-- Each customer's segment over time, compactly: one row when the customer's segment (standard
-- method) first appears or changes. Unlike the marts above it is never replaced: every published
-- build appends the rows of its as-of date (a rebuild of the same or an earlier as-of date adds
-- none), and the first build back-fills it at monthly as-of dates (analytics/history.py).
CREATE TABLE IF NOT EXISTS segment_history (
    customer_id      integer  NOT NULL,
    as_of            date     NOT NULL,  -- scored on the purchases before this date
    segment          text     NOT NULL,
    previous_segment text,               -- NULL: the customer's first segment
    frequency        integer  NOT NULL,  -- distinct purchase invoices before as_of
    monetary         numeric  NOT NULL,  -- GBP before as_of, net of cancellations
    build_id         bigint   NOT NULL,  -- the build that appended the row
    rules_digest     text     NOT NULL,  -- SHA-256 of the segment rules that scored it
    PRIMARY KEY (customer_id, as_of)
);
CREATE INDEX IF NOT EXISTS segment_history_as_of_idx ON segment_history (as_of);

-- Each customer's segment on the current build's as-of date, the segment before it and since when.
CREATE OR REPLACE VIEW customer_segment_changes AS
SELECT DISTINCT ON (h.customer_id)
       h.customer_id, h.segment, h.previous_segment, h.as_of AS segment_since, h.rules_digest
FROM segment_history h
JOIN current_build b ON h.as_of <= b.as_of
ORDER BY h.customer_id, h.as_of DESC;

-- Live (docs/live.md): written by `lgs live` as each micro-batch of the shop's new order lines lands,
-- in the batch's transaction, not by the build. Segments and figures an event names are those of the
-- published build it names; a build folds the live lines into the marts above like any other lines.

-- Each customer's facts over every loaded line (files and live), updated for the customers a live
-- batch touched: no window, so they can differ from campaign_customers, which is the build's.
CREATE TABLE IF NOT EXISTS live_customers (
    customer_id  integer     PRIMARY KEY,
    first_order  timestamp,                 -- first purchase invoice (NULL: cancellations only)
    last_order   timestamp,                 -- latest purchase invoice
    orders       integer     NOT NULL,      -- distinct purchase invoices
    spend        numeric     NOT NULL,      -- GBP, purchases net of cancellations
    batch_id     bigint      NOT NULL,      -- the live load batch that last updated the row
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The moments marketing should act on, one row per order and kind (analytics/live.py has the rules).
CREATE TABLE IF NOT EXISTS live_events (
    event_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('welcome', 'won back', 'second order', 'big order')),
    customer_id  integer     NOT NULL,
    invoice_no   text        NOT NULL,
    invoice_date timestamp   NOT NULL,
    amount       numeric     NOT NULL,      -- GBP, the order's product lines
    segment      text,                      -- the customer's segment in build build_id (NULL: not scored)
    build_id     bigint,                    -- the published build whose segments the event uses (NULL: none)
    detail       text        NOT NULL,      -- the event in one sentence, naming the build
    batch_id     bigint      NOT NULL,      -- the live load batch that brought the order
    raised_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, invoice_no, kind)
);
CREATE INDEX IF NOT EXISTS live_events_raised_idx ON live_events (raised_at);
