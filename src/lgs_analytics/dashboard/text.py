"""Text from the data on the page as text, never as markup or code.

A country, a file name or anything else that came from an export (or was typed by a user) can hold
``<img src=x onerror=...>``; every widget that would read it as HTML gets it escaped here:

- HTML panes: :func:`html.escape` (tiles.tile does it for every tile);
- Markdown panes (Panel's renderer passes raw HTML through): :func:`markdown` for each value;
- MultiChoice options (Bokeh's Choices.js draws option labels as HTML): :func:`choices`;
- Tabulator cells: Tabulator's ``plaintext`` formatter (tables.TEXT), which escapes;
- Bokeh hover tooltips escape ``@field`` values themselves (never ``{safe}`` here); titles,
  axis labels and glyph text are drawn on a canvas.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

# Markdown's punctuation: a backslash before each makes it a literal character (no emphasis, link,
# heading, list, table cell or code span made from data).
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$])")


def markdown(value: object) -> str:
    """``value`` as literal text inside a Markdown pane: HTML escaped, Markdown punctuation backslashed."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(str(value)))


def choices(values: Iterable[str]) -> dict[str, str]:
    """MultiChoice/Select ``options`` showing each value as literal text: escaped label -> the value
    (the widget's ``value`` stays the real text)."""
    return {html.escape(str(v)): v for v in values}
