"""The notebook stays thin and is committed clean."""

from __future__ import annotations

import json

import pytest

from lgs_analytics import config

EXPLORE = config.notebook_path().with_name("explore.ipynb")  # the analyst's, beside the report's
BOTH = pytest.mark.parametrize("notebook", [config.notebook_path(), EXPLORE], ids=["report", "explore"])


def cells(notebook=None):
    return json.loads((notebook or config.notebook_path()).read_text(encoding="utf-8"))["cells"]


@BOTH
def test_committed_with_outputs_stripped(notebook):
    for cell in cells(notebook):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_first_code_cell_is_the_papermill_parameters_cell():
    code = [c for c in cells() if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", [])
    source = "".join(code[0]["source"])
    for name in ("method", "as_of", "start", "end", "pseudonymise"):
        assert f"\n{name} = " in "\n" + source
    assert "data_file" not in source  # the notebook reads the published build; it never loads


@BOTH
def test_the_notebook_only_reads(notebook):
    """No cell writes the database: no load, no build, no save (the marts are lgs build's)."""
    for cell in cells(notebook):
        source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
        for writer in ("load_export", "load_path", "jobs.build", "jobs import build", "store.publish",
                       "save_", "to_sql", "execute(", "INSERT", "UPDATE", "DELETE"):
            assert writer not in source, writer
    sources = "".join("".join(c["source"]) for c in cells() if c["cell_type"] == "code")
    assert "read_page(method, as_of, start, end)" in sources


@BOTH
def test_no_function_definitions_installs_or_hard_coded_hosts(notebook):
    for cell in cells(notebook):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        for banned in ("def ", "class ", "lambda", "!pip", "%pip", "sys.path", "postgres://", "localhost",
                       "read_sql_table", "apply("):
            assert banned not in source, banned


def test_narrative_between_the_steps():
    kinds = [c["cell_type"] for c in cells()]
    assert kinds.count("markdown") >= 15


def test_each_kernel_gets_a_private_socket_folder_not_the_notebooks():
    """Two reports at once never share sockets, and a read-only notebook folder (the image) is fine."""
    import os
    import stat

    from lgs_analytics.report.kernel import IPCKernelManager

    first, second = IPCKernelManager(), IPCKernelManager()
    assert first.transport == "ipc"
    folders = {os.path.dirname(first.ip), os.path.dirname(second.ip)}
    assert len(folders) == 2
    for folder in folders:
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert not folder.startswith(str(config.notebook_path().parent))
        os.rmdir(folder)


def test_a_finished_run_shuts_its_kernel_down_without_interrupting_it(monkeypatch):
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    from lgs_analytics.report.kernel import IPCKernelManager

    sent = []

    async def interrupt(self):
        sent.append("shutting down" if self.shutting_down else "running")

    async def run_and_shut_down():
        manager = IPCKernelManager(kernel_name="python3")
        await manager.start_kernel()
        try:
            await manager._async_interrupt_kernel()  # asked for while it runs: still sent
        finally:
            await manager.shutdown_kernel()

    monkeypatch.setattr(AsyncKernelManager, "_async_interrupt_kernel", interrupt)
    asyncio.run(run_and_shut_down())
    assert sent == ["running"]  # none with the shutdown (ipykernel logged it as an ERROR)


def test_two_reports_at_once_never_share_a_working_file(tmp_path, monkeypatch):
    from lgs_analytics.report import render

    used = []
    monkeypatch.setattr(render, "execute_notebook", lambda executed, parameters, progress=True: used.append(
        executed) or executed.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'))
    for _ in range(2):
        render.render(tmp_path / "report.html", {}, progress=False)
    assert len(set(used)) == 2 and all(p.name.endswith(".executing.ipynb") for p in used)
    target = tmp_path / "r.html"
    assert render.working_name(target, "partial") != render.working_name(target, "partial")
