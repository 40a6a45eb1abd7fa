"""LGS retail analytics: load web-shop exports into Postgres, score customers by RFM, report."""

__version__ = "0.1.0"
