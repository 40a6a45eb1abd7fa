"""The dashboard's recommendations: a customer's next products, and the Products page (what sells with a
product, and who would buy it next), on hand-made frames."""

from __future__ import annotations

import dataclasses

import pandas as pd

from lgs_analytics.dashboard import grids
from lgs_analytics.dashboard.customers import CustomerPage, next_products_note
from lgs_analytics.dashboard.products import ProductPage, option_label
from lgs_analytics.results import Recommendations
from tests.dashboard.test_labels import board
from tests.report.test_recommendations import PAIRS, QUALITY

LISTS = pd.DataFrame(
    {  # customers 1 and 3 (of the board's 1-4), sorted by customer as published
        "customer_id": [1, 1, 3],
        "rank": [1, 2, 1],
        "stock_code": ["23552", "22698", "23552"],
        "description": ["PUNCTURE KIT", "PINK TEACUP", "PUNCTURE KIT"],
        "score": [0.4, 0.1, 0.9],
        "reason": [
            "bought together with CLASSIC BICYCLE CLIPS",
            "bought together with TEACUP",
            "bought together with <b>CLIPS</b>",
        ],
        "based_on": ["23498", "22697", "23498"],
        "scorer": "co-occurrence",
    }
)


def recommending() -> object:
    return dataclasses.replace(board(True), recommendations=Recommendations(LISTS, PAIRS, QUALITY))


def test_the_board_finds_a_customer_s_products_a_product_s_partners_and_its_buyers():
    b = recommending()
    assert b.recommended_for(1)["stock_code"].tolist() == ["23552", "22698"]
    assert b.recommended_for(2).empty
    assert b.partners_of("23498")["related_code"].tolist() == ["23552"]
    buyers = b.buyers_of("23552")
    assert buyers["customer"].tolist() == ["3", "1"]  # the stronger score first
    assert set(b.products.index) == {"23498", "23552", "22697", "22698"}
    assert board(True).recommended_for(1).empty and board(True).buyers_of("23552").empty


def test_a_build_with_nothing_to_recommend_gives_an_empty_products_page():
    empty = dataclasses.replace(board(True), recommendations=Recommendations(
        pd.DataFrame(), pd.DataFrame(), {"why": "only 3 customers ...", "scorer": "popularity"}))
    assert empty.products.empty
    page = ProductPage(empty, lambda _: None)
    assert page.codes == {} and "Not checked: only 3 customers" in page.view().objects[0].object


def test_the_customer_page_shows_their_next_products_with_the_reasons():
    page = CustomerPage(recommending())
    page.show("1")
    assert page.next_products.value["stock_code"].tolist() == ["23552", "22698"]
    assert page.next_products.value.columns.tolist() == list(grids.NEXT_PRODUCT_COLUMNS)
    assert page.next_note.object.startswith("**Next products to offer** (2, new to them and still sold)")
    page.show("2")
    assert (
        page.next_products.value.empty and page.next_note.object == "**Next products:** none in this build."
    )
    popular = LISTS.assign(scorer="popularity")
    assert "did not beat popularity" in next_products_note(popular, True)


def test_the_products_page_lists_partners_and_buyers_and_opens_a_buyer():
    opened = []
    page = ProductPage(recommending(), opened.append)
    label = option_label("23552", "PUNCTURE KIT")
    assert label in page.codes and option_label("X", None) == "X"
    page.show(label)
    assert page.partners.value["related_code"].tolist() == ["23498"]
    assert page.partners.value["share"].tolist() == [30.0]  # percent on screen
    assert page.buyers.value["customer"].tolist() == ["3", "1"]
    assert "on the list of 2 customers" in page.note.object
    page.show("23498")  # typed, not picked: the code is enough
    assert page.buyers.value.empty and "sells with 1 products" in page.note.object
