-- 05_predictions.sql: churn and lifetime-value predictions for the web app.
-- Published by `lgs build` with the other marts (04_marts.sql), in the same transaction; a build
-- whose models could not be fitted publishes none and says why in builds.forecast.

-- Predictions written before builds existed carry no build id: derived data, dropped.
DO $$
BEGIN
    IF to_regclass('customer_predictions') IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'customer_predictions'
          AND column_name = 'build_id'
    ) THEN
        DROP TABLE customer_predictions;
    END IF;
END $$;

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
    churn_risk               boolean       NOT NULL   -- high past value, low p_alive
);
CREATE INDEX IF NOT EXISTS customer_predictions_churn_idx ON customer_predictions (churn_risk)
    WHERE churn_risk;
