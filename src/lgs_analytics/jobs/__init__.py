"""The use cases, each written once: every entry point (the `lgs` command, the notebook, the
dashboard, the compose services) calls these and decides nothing of its own.

- :mod:`~lgs_analytics.jobs.load`: load a folder or a file (a generated export only into an empty
  folder, never beside real ones);
- :mod:`~lgs_analytics.jobs.build`: read the raw layer, compute, publish: the one routine that
  writes the marts;
- :mod:`~lgs_analytics.jobs.page`: what a reader shows, the published build or a what-if computed
  in memory, decided once;
- :mod:`~lgs_analytics.jobs.refresh`: the weekly job (inbox, lock, run log, build, report);
- :mod:`~lgs_analytics.jobs.schedule`: the refresh on a schedule, with back-off.

Rules live in ``analytics`` (pure), SQL in ``store``, pages in ``report`` and ``dashboard``.
"""
