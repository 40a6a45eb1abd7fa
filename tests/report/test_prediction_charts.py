"""Prediction charts and the churn-alert table, on hand-made results."""

from __future__ import annotations

import io

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from lgs_analytics.report import sections  # noqa: E402
from lgs_analytics.report.charts import predictions as prediction_charts  # noqa: E402
from lgs_analytics.results import Forecast  # noqa: E402

PREDICTIONS = pd.DataFrame(
    {"p_alive": [0.9, 0.2, 1.0], "expected_purchases": [1.2, 0.1, 0.3], "clv": [900.0, 40.0, 150.0]},
    index=pd.Index([1, 2, 3], name="customer_id"))
SCORES = pd.DataFrame({"customer_id": [1, 2, 3], "segment": ["Champions", "At Risk", "New Customers"],
                       "frequency": [9, 3, 1]})
BUCKETS = pd.DataFrame({"customers": [10, 5], "mean_actual": [0.5, 2.0], "mean_predicted": [0.4, 1.5]},
                       index=pd.Index(["0", "1"], name="frequency_cal"))
METRICS = {"total_actual": 15.0, "total_predicted": 11.5, "error_pct": -23.3}


def texts(fig):
    ax = fig.axes[0]
    return [ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel(), *(t.get_text() for t in ax.texts)]


def saves_png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue().startswith(b"\x89PNG")


def test_holdout_check_compares_actual_and_predicted_with_the_total_error():
    fig = prediction_charts.plot_holdout_check(BUCKETS, METRICS)
    assert "Holdout" in texts(fig)[0] and "holdout period" in texts(fig)[2]
    assert any("15 actual vs 12 predicted purchases (-23.3%)" in t for t in texts(fig))
    assert len(fig.axes[0].patches) == 4 and saves_png(fig)


def test_clv_distribution_names_total_median_and_mean_in_pounds():
    fig = prediction_charts.plot_clv_distribution(PREDICTIONS)
    title, xlabel = texts(fig)[:2]
    assert "£1,090" in title and "£" in xlabel
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["median £150", "mean £363"]
    assert saves_png(fig)


def test_p_alive_by_segment_in_percent():
    fig = prediction_charts.plot_p_alive_by_segment(PREDICTIONS, SCORES)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # The one-time buyer (New Customers, P(alive) 100% by construction) is left out of the averages.
    assert labels == ["Champions (1)", "At Risk (1)"]
    assert "%" in texts(fig)[1] and saves_png(fig)


def outlook() -> Forecast:
    return Forecast(pd.Timestamp("2011-12-10"), 90, PREDICTIONS, pd.DataFrame(), {}, 0.1)


def test_churn_alert_table_ranks_by_value_at_risk_and_lists_the_long_lost_apart():
    from tests.analytics.test_campaign import listed

    page = sections.churn_alert_table(listed(), outlook(), limit=1).data
    assert page.index("Recoverable: 1 customers") < page.index("Long lost: 1 customers")
    assert "£1,860" in page and "£2,325" in page and "At Risk" in page and "62%" in page
    none = listed().assign(churn_risk=False, churn_group=pd.NA)
    assert "No customer" in sections.churn_alert_table(none, outlook()).data


def test_a_loyal_customer_flagged_is_explained():
    from tests.analytics.test_campaign import listed

    rows = listed()
    rows.loc[rows["customer_id"] == 2, "segment"] = "Loyal Customers"
    assert "1 flagged customers are in a loyal segment" in sections.churn_alert_table(rows, outlook()).data


@pytest.mark.integration
def test_too_little_data_gives_a_reason_and_honest_empty_charts(rules_db):
    from lgs_analytics.analytics import predict
    from lgs_analytics.jobs.build import clean_frame
    from tests.report.test_sections import transactions

    outlook = predict.forecast(clean_frame(transactions(), rules_db))
    assert "too few customers" in outlook.unavailable
    assert "No predictions for this data" in sections.forecast_status(outlook).data
    empty = pd.DataFrame()
    figures = (prediction_charts.plot_holdout_check(empty, {}),
               prediction_charts.plot_clv_distribution(empty),
               prediction_charts.plot_p_alive_by_segment(empty, SCORES))
    for fig in figures:
        assert any("No predictions" in t for t in texts(fig)) and saves_png(fig)


@pytest.mark.integration
def test_strict_forecast_raises_for_the_command(rules_db):
    from lgs_analytics.analytics import predict
    from lgs_analytics.jobs.build import clean_frame
    from tests.report.test_sections import transactions

    with pytest.raises(ValueError, match="too few customers"):
        predict.forecast(clean_frame(transactions(), rules_db), strict=True)
