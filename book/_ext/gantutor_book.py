"""Sphinx extension of the book: offline MathJax, the measured chapter times, the API reference.

Loaded by ``_config.yml`` (``sphinx: local_extensions``). It does three things:

1. **Math without internet.** MathJax 3 is copied from an installed Python package
   (``sphinx-mathjax-offline``, in requirements.txt) into ``_build/html/_static/mathjax``
   and the pages load it from there (``mathjax_path`` in ``_config.yml``). A classroom with
   no network, and the browser test, see typeset formulas.
2. ``{chapter-times}``: a table of every page in ``_toc.yml`` with the execution time measured
   on a CPU (and a GPU, once measured) read from ``benchmarks/results/book.json``, written by
   ``python benchmarks/book.py``. No time in the book is typed by hand.
3. ``{gantutor-api}``: autodoc for every module of the ``gantutor`` package, found by walking
   the package, so a module added later appears in the API reference without editing the page.
4. **The install cell, defined once.** :func:`install_cell` is the first cell of every notebook,
   built from ``_config.yml``'s ``repository.url`` (``tests/test_colab.py`` checks every notebook
   against it). It matters on Colab only, so the rendered pages leave it out: a page opens with
   its title, not with a folded cell of set-up code.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pkgutil
import shutil
import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

MATHJAX_PACKAGE = "sphinx-mathjax-offline"  # its wheel ships MathJax 3.2.2 under static/mathjax
MATHJAX_ENTRY = "mathjax/tex-chtml.js"
# What tex-chtml.js needs at run time: its fonts, the TeX extensions it autoloads, the menu.
MATHJAX_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml", "ui", "a11y", "sre", "adaptors")


def mathjax_source() -> Path:
    """The folder of MathJax files shipped by ``sphinx-mathjax-offline``."""
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    folder = Path(spec.origin).parent / "static" / "mathjax" if spec and spec.origin else None
    if folder is None or not (folder / "tex-chtml.js").exists():
        raise ExtensionError(
            f"MathJax files not found: install them with `pip install {MATHJAX_PACKAGE}` "
            "(it is in requirements.txt) so the book renders math without internet")
    return folder


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        elif (source / part).exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)


def check_mathjax_config(app: Sphinx, config) -> None:
    mathjax_source()  # fail early, with the fix, when the package is missing
    if "://" in str(config.mathjax_path):
        raise ExtensionError(f"mathjax_path {config.mathjax_path!r} needs the internet: use {MATHJAX_ENTRY!r}")


def inline_figures_in_kernels(app: Sphinx, config) -> None:
    """Kernels started by the build inherit MPLBACKEND: with Agg, ``plt.show()`` would show nothing."""
    backend = os.environ.get("MPLBACKEND")
    if backend is not None and "inline" not in backend:
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"


def make_gantutor_importable(app: Sphinx) -> None:
    """Autodoc imports gantutor; when the book is built from a copy, find the repository above it."""
    if importlib.util.find_spec("gantutor") is not None:
        return
    for folder in Path(app.confdir).resolve().parents:
        if (folder / "gantutor" / "__init__.py").exists():
            sys.path.insert(0, str(folder))
            return


def find_upwards(start: Path, relative: str) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / relative).exists():
            return folder / relative
    return None


def toc_entries(confdir: Path) -> list[str]:
    import yaml

    toc = yaml.safe_load((confdir / "_toc.yml").read_text())
    entries = [toc["root"]]
    for part in toc.get("parts", []):
        entries += [chapter["file"] for chapter in part.get("chapters", [])]
    entries += [chapter["file"] for chapter in toc.get("chapters", [])]
    return entries


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


class ChapterTimes(SphinxDirective):
    """A table of the execution time of every notebook in _toc.yml, read from benchmarks/results/book.json."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        confdir = Path(self.env.app.confdir)
        results = find_upwards(confdir, "benchmarks/results/book.json")
        if results is not None:
            self.env.note_dependency(str(results))
        data = json.loads(results.read_text()) if results else {}
        measured = {"cpu": data.get("chapters", {}), "gpu": data.get("gpu", {}).get("chapters", {})}
        lines = ["| page | kind | CPU | GPU |", "|---|---|---|---|"]
        for entry in toc_entries(confdir):
            kind = "notebook" if (confdir / f"{entry}.ipynb").exists() else "page"
            cpu = measured["cpu"].get(f"{entry}.ipynb")
            gpu = measured["gpu"].get(f"{entry}.ipynb")
            if kind == "page":
                cpu_text = gpu_text = "reading only"
            else:
                cpu_text = format_seconds(cpu) if cpu is not None else "not measured yet"
                gpu_text = format_seconds(gpu) if gpu is not None else "not measured yet"
            lines.append(f"| {{doc}}`/{entry}` | {kind} | {cpu_text} | {gpu_text} |")
        if data:
            machine = data.get("machine", {})
            lines += ["", f"CPU: {machine.get('cpu', 'unknown')} ({machine.get('cores', '?')} cores), "
                      f"measured {data.get('date', '?')} with `{data.get('command', 'python benchmarks/book.py')}`; "
                      f"building the whole book took {format_seconds(data.get('build_seconds'))}."]
            if data.get("gpu"):
                lines.append(f"GPU: {data['gpu'].get('device', 'unknown')}, measured {data['gpu'].get('date', '?')}.")
        else:
            lines += ["", "No measurements yet: run `python benchmarks/book.py` to measure them."]
        container = nodes.container(classes=["chapter-times"])
        self.state.nested_parse(StringList(lines, source="benchmarks/results/book.json"), self.content_offset, container)
        return [container]


def gantutor_modules() -> list[str]:
    package = importlib.import_module("gantutor")
    names = ["gantutor"]
    for info in pkgutil.walk_packages(package.__path__, prefix="gantutor."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            names.append(info.name)
    return sorted(names)


class GantutorAPI(SphinxDirective):
    """autodoc of every module of gantutor (members, with Google-style docstrings via napoleon)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        lines = []
        for name in gantutor_modules():
            lines += ["```{eval-rst}", name, "-" * len(name), "", f".. automodule:: {name}",
                      "   :members:", "   :show-inheritance:", "", "```", ""]
        container = nodes.container(classes=["gantutor-api"])
        self.state.nested_parse(StringList(lines, source="gantutor"), self.content_offset, container)
        return [container]


def repository_url(confdir: str | Path) -> str:
    """The repository URL of the book's ``_config.yml`` (the one place it is written)."""
    import yaml

    return yaml.safe_load((Path(confdir) / "_config.yml").read_text())["repository"]["url"]


INSTALL_CELL_TAGS = ["hide-input"]


def install_cell(url: str) -> str:
    """The first cell of every notebook: on Colab, install gantutor from ``url`` when it is missing."""
    return (
        "# On Colab: install the book's library if it is missing (Colab already has torch, numpy and ipywidgets).\n"
        "import sys\n"
        "from importlib.util import find_spec\n"
        "\n"
        'if find_spec("gantutor") is None:\n'
        '    if "google.colab" in sys.modules:\n'
        f'        %pip install -q "gantutor @ git+{url}"\n'
        "    else:\n"
        '        print("gantutor is not installed: run `pip install -e .` in the repository (or `make install`).")'
    )


def drop_install_cell(app: Sphinx, doctree: nodes.document) -> None:
    """Leave the install cell out of the page (it is the notebook's first cell, for Colab)."""
    expected = install_cell(repository_url(app.confdir)).strip()
    for cell in list(doctree.findall(nodes.container)):
        if cell.get("nb_element") == "cell_code" and cell.get("cell_index") == 0:
            code = next(iter(cell.findall(nodes.literal_block)), None)
            if code is not None and code.astext().strip() == expected:
                cell.parent.remove(cell)


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Keep each inline script once: jupyter-book loads sphinx-thebe's configuration script twice,
    and the second copy throws "Identifier 'THEBE_JS_URL' has already been declared" in every page."""
    scripts, seen = context.get("script_files"), set()
    if not scripts:
        return
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", drop_duplicate_scripts, priority=100)
    app.connect("builder-inited", make_gantutor_importable)
    app.connect("config-inited", check_mathjax_config)
    app.connect("config-inited", inline_figures_in_kernels)
    app.connect("build-finished", copy_mathjax)
    app.connect("doctree-read", drop_install_cell)
    app.add_directive("chapter-times", ChapterTimes)
    app.add_directive("gantutor-api", GantutorAPI)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
