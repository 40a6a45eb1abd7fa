"""Campaigns with a control group: who is held back, and what the campaign changed.

A campaign's customers are split by a stable keyed hash (:func:`split`): HMAC-SHA256 of the
customer ID, keyed by the campaign's key (its name), read as a number in [0, 1); a customer below
the control share is *control* (kept back, never contacted), the others *treated*. The same
customer lands in the same group on every rerun, whatever order the list comes in, and a larger
control share only moves treated customers to control.

After the campaign's window the two groups are compared (:func:`measure`): the share of each who
ordered and their spend per customer (net of cancellations), the difference treated − control and
its 95% interval: Newcombe's hybrid score interval (Wilson intervals of each share combined,
Newcombe 1998, method 10) for the share, Welch's t interval (unequal variances,
Welch–Satterthwaite degrees of freedom) for the spend. :func:`sentence` says it in plain words.

Pure: values and frames in, values out.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lgs_analytics.numbers import gbp

TREATED, CONTROL = "treated", "control"
MIN_GROUP = 2  # customers each group needs for a variance, hence an interval
Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval
_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")


def parse_share(text: str) -> float:
    """The control share of ``--control``, a percentage (``10%`` or ``10``), as a fraction strictly
    between 0 and 1; anything else is refused in one line."""
    match = _SHARE.match(str(text))
    if match is None:
        raise ValueError(f"--control {text!r}: give the share kept back as a percentage between 0% and "
                         "100%, e.g. --control 10%")
    value = float(match.group(1))
    share = value / 100
    if not 0 < share < 1:
        raise ValueError(f"--control {text}: the control group must be more than 0% and less than 100% of "
                         "the customers (e.g. --control 10%); with none or all kept back nothing can be "
                         "compared")
    return share


def unit_hash(customer_id: int, key: bytes) -> float:
    """The customer's place in [0, 1): the first 8 bytes of HMAC-SHA256(key, ID in decimal) over 2**64."""
    digest = hmac.new(key, str(int(customer_id)).encode("ascii"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split(customer_ids: pd.Series, key: bytes, control_share: float) -> pd.Series:
    """:data:`CONTROL` or :data:`TREATED` for each customer (same index as ``customer_ids``)."""
    places = np.array([unit_hash(int(c), key) for c in customer_ids], dtype="float64")
    return pd.Series(np.where(places < control_share, CONTROL, TREATED), index=customer_ids.index,
                     dtype="object")


@dataclass(frozen=True)
class Interval:
    """A difference treated − control and its 95% interval."""

    estimate: float
    low: float
    high: float

    @property
    def covers_zero(self) -> bool:
        return self.low <= 0 <= self.high


@dataclass(frozen=True)
class Group:
    """One group's outcome: customers, how many ordered in the window, their spend (GBP, net)."""

    customers: int
    ordered: int
    spend_mean: float
    spend_var: float  # sample variance (n - 1) of the spend per customer

    @property
    def share_ordered(self) -> float:
        return self.ordered / self.customers if self.customers else float("nan")


@dataclass(frozen=True)
class Uplift:
    """Treated and control compared: ``share`` (points as a fraction) and ``spend`` (GBP per customer)."""

    treated: Group
    control: Group
    share: Interval
    spend: Interval


def group(ordered: pd.Series, spend: pd.Series) -> Group:
    """A :class:`Group` from one row per customer: ``ordered`` (bool), ``spend`` (GBP, net)."""
    n = len(spend)
    values = spend.astype("float64")
    return Group(n, int(ordered.astype(bool).sum()), float(values.mean()) if n else float("nan"),
                 float(values.var(ddof=1)) if n > 1 else float("nan"))


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval of a share."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def share_difference(treated: Group, control: Group, z: float = Z95) -> Interval:
    """p_treated − p_control with Newcombe's hybrid score interval (method 10)."""
    p1, p2 = treated.share_ordered, control.share_ordered
    l1, u1 = wilson(treated.ordered, treated.customers, z)
    l2, u2 = wilson(control.ordered, control.customers, z)
    difference = p1 - p2
    return Interval(difference, difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
                    difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def mean_difference(treated: Group, control: Group, level: float = 0.95) -> Interval:
    """spend_treated − spend_control with Welch's t interval (Welch–Satterthwaite degrees of freedom)."""
    from scipy.stats import t as student_t  # type: ignore[import-untyped]  # (0.3 s: only when measuring)

    a, b = treated.spend_var / treated.customers, control.spend_var / control.customers
    difference = treated.spend_mean - control.spend_mean
    if a + b == 0:  # nobody in either group spent anything different from the rest: no spread at all
        return Interval(difference, difference, difference)
    df = (a + b) ** 2 / (a * a / (treated.customers - 1) + b * b / (control.customers - 1))
    half = float(student_t.ppf(0.5 + level / 2, df)) * math.sqrt(a + b)
    return Interval(difference, difference - half, difference + half)


def measure(outcomes: pd.DataFrame) -> Uplift:
    """Compare the groups of ``outcomes``: one row per campaign customer with ``grp`` (treated or
    control), ``ordered`` (bool: any purchase in the window) and ``spend`` (GBP net in the window, 0
    for none). Each group needs at least two customers."""
    groups = {}
    for name in (TREATED, CONTROL):
        rows = outcomes[outcomes["grp"] == name]
        if len(rows) < MIN_GROUP:
            raise ValueError(f"the {name} group has {len(rows)} customer(s): at least {MIN_GROUP} in each "
                             "group are needed to compare them")
        groups[name] = group(rows["ordered"], rows["spend"])
    treated, control = groups[TREATED], groups[CONTROL]
    return Uplift(treated, control, share_difference(treated, control), mean_difference(treated, control))


def _signed_gbp(value: float) -> str:
    return ("+" if value >= 0 else "−") + gbp(abs(round(value)))


def _gbp0(value: float) -> str:
    return gbp(float(round(value)))  # -0.4 -> £0, not −£0


def _points(value: float) -> str:
    points = round(value * 100, 1)
    return "0.0" if points == 0 else f"{points:+.1f}".replace("-", "−")  # never "−0.0"


def sentence(uplift: Uplift, window_over: bool = True) -> str:
    """The result in plain words: the spend per customer first (what a campaign is for), then the
    share who ordered; "no measurable effect" when the spend's interval covers 0, "yet" while the
    window runs."""
    s, p = uplift.spend, uplift.share
    spend = (f"{_signed_gbp(s.estimate)} per customer, 95% CI {_gbp0(s.low)} to {_gbp0(s.high)}")
    share = (f"customers who ordered {_points(p.estimate)} points ({uplift.treated.share_ordered:.0%} "
             f"treated vs {uplift.control.share_ordered:.0%} control), 95% CI {_points(p.low)} to "
             f"{_points(p.high)}")
    if s.covers_zero:
        lead = "no measurable effect" + ("" if window_over else " yet")
        return f"{lead}: {spend}; {share}."
    return f"{spend[0].upper()}{spend[1:]}; {share}."


__all__ = ["CONTROL", "MIN_GROUP", "TREATED", "Group", "Interval", "Uplift", "group", "mean_difference",
           "measure", "parse_share", "sentence", "share_difference", "split", "unit_hash", "wilson"]
