"""Synthetic LGS exports that look like the real UCI "Online Retail II" workbook.

A test-data generator, kept out of the loader: only the CLI (``lgs generate``), the tests and
the benchmarks import it (an import-linter contract says so). The loader recognises a generated file
by the marker in :mod:`lgs_analytics.ingest.formats`, which :mod:`.writers` puts on every file.

Calibrated against the real 2010-2011 file: every constant is in :mod:`.calibration`, with the
real figure it comes from, and ``bench/fidelity.py`` compares a generated export with that file
figure by figure. The modules: :mod:`.timeline` (calendar, warped time), :mod:`.model` (customers
and invoices), :mod:`.budget` (lines per invoice), :mod:`.baskets` (what is on the lines),
:mod:`.generate` (the two sheets), :mod:`.writers` (CSV and workbook, the marker, weekly cuts),
:mod:`.customers` (a matching CRM attributes file).
Their underscored functions are the package's internals, shared between its modules; callers use
the names exported here.

* **Calendar.** Trading days from 2009-12-01 to 2011-12-09, closed on Saturdays and from 24
  December to 3 January. A day weighs as the real customer invoices in its month (strong Q4, peak
  in November), a weekday profile and the early-December rush. "Warped time" ``u`` in [0, 1) is
  the cumulative weight: anything uniform in ``u`` is seasonal on the calendar. Each kind of
  invoice takes its minute from its own real hour-of-day profile (customers order around noon;
  the dotcom's bulk orders come in the afternoon).
* **Customers** buy till they die (in warped time): Poisson purchases at a log-normal rate and an
  exponential lifetime with a gamma distributed drop-out rate. Some were customers before
  the export starts; the rest are acquired through the two years, fewer in December.
* **Invoices**: customers' purchases; guest (dotcom) orders without a Customer ID, a quarter of
  them one or two items and 30% bulk orders of 93+ lines; cancellations ("C") copying lines of
  an earlier invoice (mostly the dearer lines) with quantities negated, the same day or days to
  weeks later, so a sheet has some customers who only cancel; zero-price stock write-offs (mostly
  without description); the real file's three bad-debt "A" rows; its two huge single-line orders
  cancelled minutes later.
* **Lines.** An exact row budget per period (before / in / after the sheets' overlap) is shared
  out over purchase invoices by weight, so the total and the sheets' sizes are exact; a month's
  orders are as big as the real ones (bigger in Q4), so rows per month follow the real export.
  Products come from a fixed catalogue by Zipf popularity (distinct within an invoice) at the
  real file's price points in their real shares of the lines; quantities in packs (bigger abroad).
  Non-product codes (POST, DOT, M, ...) replace a few lines; ~1.3% of customers' lines are entered
  twice. The invoices of 1-9 December 2010 are in both sheets, so the stacked export's exact
  duplicates (~3.2%) are those repeats plus the overlap, as in the real one.
"""

from lgs_analytics.ingest.formats import SYNTHETIC_MARK, WORKBOOK_PROPERTY, is_synthetic_export
from lgs_analytics.synthetic.calibration import MIN_ROWS, SPECIALS
from lgs_analytics.synthetic.customers import customer_attributes, write_attributes
from lgs_analytics.synthetic.generate import generate_export
from lgs_analytics.synthetic.writers import EXPORT_OVERLAP, cut_exports, write_export

__all__ = ["EXPORT_OVERLAP", "MIN_ROWS", "SPECIALS", "SYNTHETIC_MARK", "WORKBOOK_PROPERTY", "cut_exports",
           "customer_attributes", "generate_export", "is_synthetic_export", "write_attributes",
           "write_export"]
