"""The stakeholder report: execute the notebook headless (papermill) and export it as one
self-contained HTML file (nbconvert: code hidden, charts embedded, so it can be e-mailed).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from lgs_analytics import config
from lgs_analytics.outputs import check_output, working_name, write_text


def skip_iri_grammar() -> None:
    """Keep jsonschema from importing rfc3987_syntax, which compiles an IRI grammar for 2.8 s at import
    (measured here) and is only ever used to check "iri" string formats, which no notebook has.
    jsonschema treats the missing module as an absent optional checker."""
    sys.modules.setdefault("rfc3987_syntax", None)


skip_iri_grammar()  # before nbformat, papermill or nbconvert import jsonschema
import nbformat  # noqa: E402

HIDDEN_CELL_TAGS = {"parameters", "injected-parameters", "remove-cell"}
# The kernel talks to papermill over Unix sockets beside its connection file in Jupyter's
# private runtime folder, not over TCP ports any local user could reach.
KERNEL_MANAGER = "lgs_analytics.report.kernel.IPCKernelManager"


class ReportError(RuntimeError):
    """The notebook failed; the message names the cell and the error, in one line."""


def execute_notebook(executed: Path, parameters: dict, *, progress: bool = True) -> Path:
    """Run the notebook top to bottom with ``parameters`` injected; write the executed copy."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = config.notebook_path()
    if not source.exists():
        raise ReportError(f"the notebook {source} is missing; restore it from git")
    executed.parent.mkdir(parents=True, exist_ok=True)
    # The kernel inherits this environment: DATABASE_URL / LGS_HOME select the same server.
    try:
        papermill.execute_notebook(
            str(source), str(executed), parameters=parameters, kernel_name="python3",
            progress_bar=progress, cwd=str(source.parent), request_save_on_cell_execute=False,
            kernel_manager_class=KERNEL_MANAGER,
        )
    except PapermillExecutionError as exc:
        raise ReportError(
            f"the notebook failed in cell {exc.exec_count}: {exc.ename}: {str(exc.evalue).splitlines()[0]} "
            f"(see {executed})"
        ) from None
    return executed


REPORT_TITLE = "London Gift Shop — customer and sales report"
TEMPLATES = Path(__file__).parent / "templates"  # lgs/: JupyterLab's page with no third-party script




def _exporter_class(html_exporter: type) -> type:
    """nbconvert's HTML exporter without its last pass, which re-parses the whole page with
    BeautifulSoup (1.4 s on the report, measured) only to give images without alt text a stock
    "No description" and outputs a tabindex: every chart here is inline SVG named by its finding."""
    from nbconvert.exporters.html import WidgetsDataTypeFilter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML

    class ReportExporter(html_exporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            self.register_filter("highlight_code", Highlight2HTML(pygments_lexer="ipython3", parent=self))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


def export_html(executed: Path, out: Path, title: str = REPORT_TITLE) -> Path:
    """Export the executed notebook to HTML: no code, no prompts, no parameters, images inline."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:  # warnings on stderr are for analysts, not for the report
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    exporter = _exporter_class(HTMLExporter)(template_name="lgs", extra_template_basedirs=[str(TEMPLATES)],
                                             exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=HIDDEN_CELL_TAGS), enabled=True)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return write_text(out, body)


def campaign_folder(out: Path) -> Path:
    """Where the report's campaign files go: a folder beside the HTML, named after it."""
    return out.with_name(f"{out.stem}_campaigns")


def _replace_folder(new: Path, final: Path) -> None:
    """Put the folder ``new`` in place of ``final`` (the old one goes only once the new is complete)."""
    if not new.exists():
        return
    old = working_name(final, "old")
    if final.exists():
        final.replace(old)
    new.replace(final)
    shutil.rmtree(old, ignore_errors=True)


def check_outputs(out: Path) -> None:
    """Refuse, before the long work, a report whose files would replace a link, a device or a pipe: the
    HTML, the executed notebook beside it, and its campaign folder (a folder, never a link)."""
    for path in (out, out.with_suffix(".ipynb")):
        check_output(path)
    folder = campaign_folder(out)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ValueError(f"{folder}: is a link or not a folder, where the report keeps its campaign files; "
                         "move it away or give another --out (nothing was written)")


def render(out: Path, parameters: dict, *, progress: bool = True) -> Path:
    """Execute and export; the executed notebook is kept beside the HTML for analysts, and the
    campaign files the action box links to go in :func:`campaign_folder`.

    Every file replaces the previous one only once complete (a killed run leaves the old report).
    """
    final_campaigns = campaign_folder(out)
    check_outputs(out)
    executed = working_name(out, "executing.ipynb")  # kept after a failure: the error names it
    campaigns = working_name(out, "campaigns")
    parameters = {**parameters, "campaign_dir": str(campaigns.resolve()),
                  "campaign_href": final_campaigns.name}
    try:
        execute_notebook(executed, parameters, progress=progress)
        export_html(executed, out)
    except BaseException as exc:
        shutil.rmtree(campaigns, ignore_errors=True)
        if not isinstance(exc, ReportError):  # kept only when the notebook failed: the error names it
            executed.unlink(missing_ok=True)
        raise
    _replace_folder(campaigns, final_campaigns)
    executed.replace(out.with_suffix(".ipynb"))
    return out
