"""The marketing dashboard (``lgs dashboard``): the published build as an interactive web page.

Reads the current build's marts only and never writes. ``data`` reads a build once; ``kpi`` and
``selection`` are the pure pieces (year-over-year tiles, filters, the R x F grid); ``charts``,
``tables`` and ``tiles`` draw; ``pages`` and ``customers`` lay out the pages; ``app`` assembles
one browser session and ``serve`` holds the access rules. Panel is imported by the
modules that draw, never here: ``lgs --help`` stays fast.
"""
