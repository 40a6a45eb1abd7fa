-- 05_predictions.sql: churn and lifetime-value predictions for the web app.
-- Written by `lgs predict` and `lgs report`; each run replaces the table's rows in one
-- transaction, so readers see the previous run or the new one, never a mix.

CREATE TABLE IF NOT EXISTS customer_predictions (
    customer_id              integer       PRIMARY KEY,
    as_of                    date          NOT NULL,  -- predictions from the purchases before this date
    p_alive                  numeric(6,4)  NOT NULL CHECK (p_alive BETWEEN 0 AND 1),
    expected_purchases       numeric(10,4) NOT NULL,  -- in the next horizon_days
    horizon_days             integer       NOT NULL,
    expected_avg_order_value numeric(14,2) NOT NULL,  -- GBP per order (Gamma-Gamma)
    expected_spend           numeric(14,2) NOT NULL,  -- GBP in the next horizon_days
    clv_12m                  numeric(14,2) NOT NULL,  -- GBP, discounted, next 12 months
    churn_risk               boolean       NOT NULL,  -- high past value, low p_alive
    computed_at              timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS customer_predictions_churn_idx ON customer_predictions (churn_risk)
    WHERE churn_risk;
