"""Prediction charts and the churn-alert table, on hand-made results."""

from __future__ import annotations

import io

import matplotlib
import pandas as pd

matplotlib.use("Agg")

from lgs_analytics.report import tables as present  # noqa: E402
from lgs_analytics.report.charts import predictions as prediction_charts  # noqa: E402

PREDICTIONS = pd.DataFrame(
    {"p_alive": [0.9, 0.2, 1.0], "expected_purchases": [1.2, 0.1, 0.3], "clv": [900.0, 40.0, 150.0]},
    index=pd.Index([1, 2, 3], name="customer_id"))
SCORES = pd.DataFrame({"customer_id": [1, 2, 3], "segment": ["Champions", "At Risk", "New Customers"]})
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
    assert labels == ["New Customers (1)", "Champions (1)", "At Risk (1)"]
    assert "%" in texts(fig)[1] and saves_png(fig)


def outlook_with(alerts, flagged):
    from lgs_analytics.pipeline import Forecast

    customers = pd.DataFrame({"churn_risk": [True] * flagged + [False]})
    return Forecast(pd.Timestamp("2011-12-10"), 90, customers, alerts, pd.DataFrame(), {}, 0.1)


def test_churn_alert_table_counts_every_flagged_customer_and_has_an_empty_case():
    alerts = pd.DataFrame({"customer_id": [2, 3], "past_value": [5000.0, 4000.0], "p_alive": [0.2, 0.3],
                           "expected_purchases": [0.1, 0.2], "clv": [40.0, 50.0],
                           "reason": ["spent <a lot>", "spent"]})
    page = present.churn_alert_table(outlook_with(alerts, 7), limit=1).data
    assert "£5,000" in page and "20%" in page and "spent &lt;a lot&gt;" in page and "£4,000" not in page
    assert "The 1 most valuable of 7 flagged customers" in page
    assert "No customer" in present.churn_alert_table(outlook_with(alerts.iloc[0:0], 0)).data


def test_too_little_data_gives_a_reason_and_honest_empty_charts():
    from lgs_analytics import pipeline
    from lgs_analytics.analytics.clean import clean_transactions
    from tests.report.test_tables import transactions

    outlook = pipeline.forecast(clean_transactions(transactions()))
    assert "too few customers" in outlook.unavailable
    assert "No predictions for this data" in present.forecast_status(outlook).data
    empty = pd.DataFrame()
    figures = (prediction_charts.plot_holdout_check(empty, {}),
               prediction_charts.plot_clv_distribution(empty),
               prediction_charts.plot_p_alive_by_segment(empty, SCORES))
    for fig in figures:
        assert any("No predictions" in t for t in texts(fig)) and saves_png(fig)


def test_strict_forecast_raises_for_the_command():
    import pytest

    from lgs_analytics import pipeline
    from lgs_analytics.analytics.clean import clean_transactions
    from tests.report.test_tables import transactions

    with pytest.raises(ValueError, match="too few customers"):
        pipeline.forecast(clean_transactions(transactions()), strict=True)
