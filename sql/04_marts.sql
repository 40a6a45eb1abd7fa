-- 04_marts.sql: the tables the LGS web app reads (a stable, documented contract: README).
-- Each scoring run replaces its method's rows in one transaction, so readers see
-- the previous run or the new one, never a mix.

-- One row per customer and RFM method.
CREATE TABLE IF NOT EXISTS customer_rfm (
    customer_id   integer      NOT NULL,
    method        text         NOT NULL CHECK (method IN ('classic', 'standard')),
    as_of         date         NOT NULL,  -- recency is counted in days up to this date
    recency       integer      NOT NULL,  -- days since the last purchase
    frequency     integer      NOT NULL,  -- distinct purchase invoices
    monetary      numeric(14,2) NOT NULL, -- GBP (standard: net of cancellations)
    r_score       smallint     NOT NULL CHECK (r_score BETWEEN 1 AND 5),
    f_score       smallint     NOT NULL CHECK (f_score BETWEEN 1 AND 5),
    m_score       smallint     NOT NULL CHECK (m_score BETWEEN 1 AND 5),
    rfm_score     char(3)      NOT NULL,
    segment       text         NOT NULL,
    computed_at   timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (method, customer_id)
);
CREATE INDEX IF NOT EXISTS customer_rfm_segment_idx ON customer_rfm (method, segment);

-- One row per segment and method: what it means, what to do, how big it is.
CREATE TABLE IF NOT EXISTS segments (
    method          text          NOT NULL CHECK (method IN ('classic', 'standard')),
    segment         text          NOT NULL,
    description     text          NOT NULL,
    action          text          NOT NULL,  -- the recommended campaign
    customers       integer       NOT NULL,
    customer_share  numeric(5,2)  NOT NULL,  -- % of scored customers
    revenue         numeric(14,2) NOT NULL,  -- GBP, sum of the members' monetary value
    revenue_share   numeric(6,2)  NOT NULL,  -- % of all scored revenue
    as_of           date          NOT NULL,
    computed_at     timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (method, segment)
);

-- The web app's everyday view: each customer's segment under the default method.
CREATE OR REPLACE VIEW customer_segments AS
SELECT r.customer_id, r.segment, s.action, r.r_score, r.f_score, r.m_score, r.rfm_score,
       r.recency, r.frequency, r.monetary, r.as_of
FROM customer_rfm r
JOIN segments s ON s.method = r.method AND s.segment = r.segment
WHERE r.method = 'standard';
