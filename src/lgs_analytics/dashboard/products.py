"""The Products page: what sells with a product, and the customers who would likely buy it next
(the build's product pairs and recommendations), with how well the recommendations did on the
build's holdout check."""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from lgs_analytics.dashboard import grids, text
from lgs_analytics.dashboard.data import Board
from lgs_analytics.numbers import count
from lgs_analytics.report.recommendations import quality_sentence


def option_label(code: str, description: object) -> str:
    """What the product picker lists: ``85123A — WHITE HANGING HEART T-LIGHT HOLDER``."""
    name = "" if description is None or description != description else str(description).strip()
    return f"{code} — {name}" if name else code


class ProductPage:
    """A product picker, its partners and its likely next buyers; a buyer's row opens the customer."""

    def __init__(self, board: Board, open_customer: Callable[[str], None]) -> None:
        self.board = board
        products = board.products
        self.codes = {option_label(str(code), name): str(code) for code, name in products.items()}
        self.picker = pn.widgets.AutocompleteInput(
            name="Product (stock code or description)",
            options=list(self.codes),
            case_sensitive=False,
            search_strategy="includes",
            restrict=False,  # a stock code typed whole is enough
            css_classes=["lgs-product-picker"],
            min_characters=2,
            width=420,
            placeholder="e.g. " + (next(iter(self.codes)) if self.codes else "85123A"),
        )
        self.note = pn.pane.Markdown(
            "Pick a product to see what sells with it and who would buy it next.",
            css_classes=["lgs-product-note"],
            sizing_mode="stretch_width",
        )
        none = board.partners_of("")
        self.partners = pn.widgets.Tabulator(
            grids.shown(none, grids.PARTNER_COLUMNS),
            css_classes=["lgs-partners"],
            **grids.options(grids.PARTNER_COLUMNS),
        )
        self.buyers = pn.widgets.Tabulator(
            grids.shown(board.buyers_of(""), grids.BUYER_COLUMNS),
            pagination="local",
            page_size=15,
            css_classes=["lgs-buyers"],
            **grids.options(grids.BUYER_COLUMNS, widths={"reason": "45%"}),
        )
        self.buyers.on_click(lambda event: open_customer(str(self.buyers.value["customer"].iloc[event.row])))
        self.picker.param.watch(lambda event: self.show(event.new), "value")

    def show(self, label: str) -> None:
        code = self.codes.get(label, (label or "").strip().upper())
        if not code:
            return
        partners, buyers = self.board.partners_of(code), self.board.buyers_of(code)
        name = option_label(code, self.board.products.get(code))
        with pn.io.hold():
            self.note.object = (
                f"**{text.markdown(name)}** sells with {count(len(partners))} products (below, "
                f"strongest first); it is on the list of {count(len(buyers))} customers who "
                "have not bought it yet. Click a customer to open them."
            )
            self.partners.value = grids.shown(partners, grids.PARTNER_COLUMNS)
            self.buyers.value = grids.shown(buyers, grids.BUYER_COLUMNS)

    def view(self) -> pn.viewable.Viewable:
        quality = self.board.recommendations.quality if self.board.recommendations is not None else {}
        return pn.Column(
            pn.pane.Markdown(
                "## Products\n" + text.markdown(quality_sentence(quality)),
                css_classes=["lgs-products-quality"],
                sizing_mode="stretch_width",
            ),
            self.picker,
            self.note,
            pn.pane.Markdown("### Sells with"),
            self.partners,
            pn.pane.Markdown("### Likely next buyers"),
            self.buyers,
            sizing_mode="stretch_width",
        )
