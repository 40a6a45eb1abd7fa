"""Report aggregates as Apache Parquet bytes: types (periods, timestamps, nullable ints) survive
the trip through Postgres exactly, and nothing in them can run code when read (unlike pickle)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=True)
    return buffer.getvalue()


def frame_from_parquet(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data))


def record_to_frame(record: dict[str, Any]) -> pd.DataFrame:
    """A dict of scalars (a headline, a summary) as a one-row frame."""
    return pd.DataFrame([record])


def frame_to_record(frame: pd.DataFrame) -> dict[str, Any]:
    return {column: frame[column].tolist()[0] for column in frame.columns}
