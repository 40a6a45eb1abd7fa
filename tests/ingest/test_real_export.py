"""The real 2010-2011 export loads as it is (the older UCI layout, gzip-compressed), every row typed,
and its published facts (../shared/data/README.md) hold in the raw layer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lgs_analytics.ingest.load import file_sha256, load_path
from lgs_analytics.store import db
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.integration, pytest.mark.real_data]

REAL_GZ = SHARED_DATA / "online_retail_2010_2011.csv.gz"


@pytest.fixture
def real_gz():
    if not REAL_GZ.exists():
        pytest.skip(f"{REAL_GZ} is absent: the real 2010-2011 export lives in ../shared beside the checkout")
    return REAL_GZ


def test_the_real_2010_2011_export_loads_as_it_is_with_its_published_facts(database_url, real_gz):
    result = load_path(real_gz, progress=False)
    assert result.rows_read == 541_909
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    assert result.rows_quarantined == 0  # every real row can be typed
    with db.connect() as conn:
        facts = db.query(conn, """
            SELECT count(*), count(*) FILTER (WHERE customer_id IS NULL),
                   count(*) FILTER (WHERE description IS NULL), count(DISTINCT invoice_no),
                   count(DISTINCT invoice_no) FILTER (WHERE invoice_no LIKE 'C%%'),
                   count(DISTINCT customer_id), count(DISTINCT stock_code), count(DISTINCT country),
                   round(sum(quantity * unit_price), 2), min(invoice_date)::text, max(invoice_date)::text
            FROM stg_export_rows""")[0]
        batch = db.query(conn, "SELECT sha256, rows_read, rows_loaded FROM load_batches")
    assert facts == (541_909, 135_080, 1_454, 25_900, 3_836, 4_372, 4_070, 38, Decimal("9747747.93"),
                     "2010-12-01 08:26:00", "2011-12-09 12:50:00")
    assert batch == [(file_sha256(real_gz), 541_909, 541_909)]  # the checksum of the .gz as given
