-- 09_customer_attributes.sql: what LGS's CRM says about its customers, generalised before it is
-- stored (`lgs load-customers FILE`; analytics/demographics.py has the rules). Never a birth date, a
-- full postcode, a name, an e-mail, an address or a phone number: the columns below are all there is.
-- Not a mart: loads write it, and each build joins it to the campaign list (campaign_customers).

-- One row per attributes file loaded (its checksum: the same file twice is a no-op).
CREATE TABLE IF NOT EXISTS customer_attribute_loads (
    load_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_file       text        NOT NULL,
    sha256            char(64)    NOT NULL UNIQUE,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    banded_on         date        NOT NULL,            -- the day the ages were banded on
    rows_read         integer     NOT NULL,
    rows_loaded       integer     NOT NULL,
    rows_quarantined  integer     NOT NULL,
    dropped_columns   text[]      NOT NULL DEFAULT '{}', -- names (never values) of the columns left out
    synthetic         boolean     NOT NULL DEFAULT false, -- written by `lgs generate`
    CONSTRAINT rows_add_up CHECK (rows_read = rows_loaded + rows_quarantined)
);

-- Each customer's generalised attributes, from the latest file that had the customer.
CREATE TABLE IF NOT EXISTS customer_attributes (
    customer_id  integer  PRIMARY KEY,
    age_band     text CHECK (age_band IN ('under 18', '18-24', '25-34', '35-44', '45-54', '55-64',
                                          '65-74', '75+')),
    gender       text CHECK (gender IN ('female', 'male', 'other')),
    area         text CHECK (length(area) <= 40),  -- UK postcode area (letters only) or a town
    load_id      bigint   NOT NULL REFERENCES customer_attribute_loads ON DELETE CASCADE
);

-- Rows that could not be generalised: the row number and the reason, never the row's values (they
-- are the personal data this table exists to keep out); the customer number when it is one.
CREATE TABLE IF NOT EXISTS customer_attribute_quarantine (
    load_id      bigint   NOT NULL REFERENCES customer_attribute_loads ON DELETE CASCADE,
    source_row   integer  NOT NULL,                     -- 1 = the first row under the header
    customer_id  integer,
    reason       text     NOT NULL,
    PRIMARY KEY (load_id, source_row)
);
