-- 08_campaigns.sql: campaigns recorded with a control group (`lgs campaign ... --name NAME`), and
-- who was in each group. Not marts: a build never rewrites them, and `lgs campaign results` measures
-- each campaign from the transactions loaded after its as-of date (docs/campaigns.md).

-- One row per recorded campaign: what its list was, from which data, and how it was split.
CREATE TABLE IF NOT EXISTS campaigns (
    campaign_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text         NOT NULL UNIQUE,           -- as given to --name; a name is recorded once
    created_at     timestamptz  NOT NULL DEFAULT now(),
    definition     jsonb        NOT NULL,                  -- the list: {"segment", "churn_risk", "due"}
    build_id       bigint,                                 -- the published build the list came from
                                                           --   (NULL: scored as of a past date in memory)
    last_batch_id  bigint,                                 -- the newest load when it was recorded
    as_of          date         NOT NULL,                  -- the list's scores' as-of date: the window's first day
    window_days    integer      NOT NULL CHECK (window_days > 0),  -- the window: as_of + window_days - 1
    control_share  numeric(6,4) NOT NULL CHECK (control_share > 0 AND control_share < 1),  -- asked for
    split_key      text         NOT NULL,                  -- HMAC-SHA256 key of the split (the name)
    customers      integer      NOT NULL,                  -- on the list
    treated        integer      NOT NULL,                  -- exported to the campaign file
    control        integer      NOT NULL,                  -- kept back, never exported
    CONSTRAINT groups_add_up CHECK (customers = treated + control)
);

-- One row per customer of a recorded campaign: the group the split put them in.
CREATE TABLE IF NOT EXISTS campaign_members (
    campaign_id  bigint   NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    customer_id  integer  NOT NULL,
    grp          text     NOT NULL CHECK (grp IN ('treated', 'control')),
    PRIMARY KEY (campaign_id, customer_id)
);
