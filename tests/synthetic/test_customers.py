"""The generator's CRM attributes file: one row per customer of its export, plausible and partly
missing, generalised by the loader's own rules."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lgs_analytics.analytics import demographics
from lgs_analytics.synthetic import customer_attributes, generate_export, write_attributes


def test_every_generated_customer_gets_plausible_partly_missing_attributes(tmp_path):
    sheets = generate_export(rows=30_000, seed=5)
    attributes = customer_attributes(sheets, seed=5)
    ids = pd.concat([s["Customer ID"] for s in sheets.values()]).dropna().astype("int64").unique()
    assert sorted(attributes["CustomerID"]) == sorted(ids)
    assert customer_attributes(sheets, seed=5).equals(attributes)  # same seed, same file
    bands, refused = [], 0
    for row in attributes.itertuples():
        try:
            bands.append(demographics.generalise(row.BirthDate, row.Gender, row.Postcode, row.City,
                                                 dt.date(2026, 12, 7))[0])
        except demographics.AttributeRefused:
            refused += 1
    known = pd.Series([b for b in bands if b is not None])
    assert 0.05 < 1 - len(known) / len(attributes) < 0.3  # some missing, as in any CRM
    assert refused < 0.02 * len(attributes)
    assert known.isin(["25-34", "35-44", "45-54", "55-64"]).mean() > 0.6  # mostly working-age adults
    uk = attributes["Postcode"] != ""
    assert attributes.loc[uk, "Postcode"].str.fullmatch(r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}").all()
    path = tmp_path / "crm_synthetic.csv"
    write_attributes(attributes, path)
    assert pd.read_csv(path, dtype=str).shape == attributes.shape
    with pytest.raises(ValueError, match="synthetic"):
        write_attributes(attributes, tmp_path / "crm.csv")  # never taken for a real CRM's file
