"""One-line error messages."""

from __future__ import annotations

from lgs_analytics.errors import first_line


def test_first_line_of_the_message_or_the_class_name():
    assert first_line(ValueError("  bad value\n  Traceback detail  ")) == "bad value"
    assert first_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("   \n  ")) == "RuntimeError"


def test_first_line_is_cut_to_the_limit_when_asked():
    error = ValueError("x" * 300)
    assert first_line(error, 200) == "x" * 200
    assert first_line(error) == "x" * 300
