"""Colab is a first-class place to run the book.

- every notebook in _toc.yml starts with the same install cell (``install_cell`` in book/_ext/gantutor_book.py),
  whose URL is the repository of _config.yml;
- that cell installs gantutor only on Colab and only when it is missing, and does nothing elsewhere;
- installing gantutor on Colab upgrades or downgrades none of Colab's preinstalled packages.
"""
from __future__ import annotations

import json
import re
import sys
import tomllib
import types
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

# What Colab preinstalls (a recent Colab runtime, Python 3.12; `pip list` there). Update these
# when Colab moves on: the test then tells whether gantutor's ranges still fit.
COLAB = {
    "torch": "2.8.0",
    "torchvision": "0.23.0",
    "numpy": "2.0.2",
    "matplotlib": "3.10.0",
    "scikit-learn": "1.6.1",
    "mlxtend": "0.23.4",
    "tqdm": "4.67.1",
    "ipywidgets": "7.7.1",
}
COLAB_PYTHON = "3.12"


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def toc_notebooks() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [ROOT / f"{e}.ipynb" for e in entries if (ROOT / f"{e}.ipynb").exists()]


def book_extension():
    """book/_ext/gantutor_book.py, where the install cell is defined (from _config.yml's repository URL)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gantutor_book", ROOT / "book" / "_ext" / "gantutor_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install_cell(repository_url: str) -> str:
    """The first cell of every chapter, with the one repository URL of _config.yml."""
    return book_extension().install_cell(repository_url)


def source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_there_are_notebooks_in_the_toc():
    assert toc_notebooks(), "no notebook in _toc.yml"


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_every_notebook_starts_with_the_colab_install_cell(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    first = cells[0]
    expected = install_cell(config()["repository"]["url"])
    assert first["cell_type"] == "code", f"{notebook.name}: the first cell must be the Colab install cell (code)"
    assert source(first).strip() == expected, (
        f"{notebook.name}: the first cell differs from the install cell (book/_ext/gantutor_book.py, "
        f"install_cell):\n{source(first)}")
    tags = first.get("metadata", {}).get("tags", [])
    missing = [t for t in book_extension().INSTALL_CELL_TAGS if t not in tags]
    assert not missing, f"{notebook.name}: tag the install cell {missing}"


def test_the_install_cell_is_built_from_the_config():
    url = config()["repository"]["url"]
    assert book_extension().repository_url(ROOT) == url
    assert f'git+{url}"' in install_cell(url)


def run_install_cell(monkeypatch, *, installed: bool, on_colab: bool) -> tuple[list, str]:
    """Run the install cell as IPython would, with %pip recorded instead of run."""
    from IPython.core.inputtransformer2 import TransformerManager
    import importlib.util

    code = TransformerManager().transform_cell(install_cell(config()["repository"]["url"]))
    magics: list = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: magics.append((name, line)))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (object() if installed else None) if name == "gantutor" else real_find_spec(name, *a))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    printed: list[str] = []
    exec(code, {"get_ipython": lambda: shell, "print": lambda *a, **k: printed.append(" ".join(map(str, a)))})
    return magics, "\n".join(printed)


def test_install_cell_installs_from_the_repository_on_colab_when_missing(monkeypatch):
    magics, printed = run_install_cell(monkeypatch, installed=False, on_colab=True)
    url = config()["repository"]["url"]
    assert magics == [("pip", f'install -q "gantutor @ git+{url}"')], magics
    assert printed == ""


def test_install_cell_does_nothing_when_gantutor_is_there(monkeypatch):
    for on_colab in (True, False):
        magics, printed = run_install_cell(monkeypatch, installed=True, on_colab=on_colab)
        assert magics == [] and printed == "", (magics, printed)


def test_install_cell_only_advises_outside_colab(monkeypatch):
    magics, printed = run_install_cell(monkeypatch, installed=False, on_colab=False)
    assert magics == [], "outside Colab the cell must not install anything"
    assert "pip install -e ." in printed


def test_launch_buttons_and_install_cell_use_one_repository():
    cfg = config()
    url = cfg["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), f"Colab opens GitHub repositories only: {url}"
    assert cfg["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert cfg["launch_buttons"].get("binderhub_url"), "a Binder button is expected too"
    assert cfg["html"]["use_repository_button"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Homepage"] == url, "pyproject's Homepage should be the book's repository"


def colab_url_of(notebook: str) -> str:
    """The Colab URL of a notebook of the book, as the launch button builds it."""
    cfg = config()
    org_repo = cfg["repository"]["url"].removeprefix("https://github.com/")
    prefix = cfg["repository"].get("path_to_book", "").strip("/")
    path = f"{prefix}/{notebook}" if prefix else notebook
    return f"{cfg['launch_buttons']['colab_url']}/github/{org_repo}/blob/{cfg['repository']['branch']}/{path}"


# ---------------------------------------------------------------- dependencies against Colab

def pyproject_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(r) for r in pyproject["project"]["dependencies"]]


def requirements_txt() -> list[Requirement]:
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def applies_on_colab(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate({"python_version": COLAB_PYTHON})


def test_every_dependency_of_gantutor_is_preinstalled_on_colab():
    missing = [str(r) for r in pyproject_requirements() if canonicalize_name(r.name) not in COLAB and applies_on_colab(r)]
    assert not missing, f"gantutor depends on packages Colab does not preinstall: {missing} (add them to COLAB if it does)"


@pytest.mark.parametrize("requirement", [r for r in pyproject_requirements() + requirements_txt()
                                         if canonicalize_name(r.name) in COLAB], ids=str)
def test_colab_version_satisfies_the_requirement(requirement):
    """pip keeps an installed version that satisfies a requirement: nothing is upgraded or downgraded.

    (requirements.txt's build and test tools, which the Colab cell does not install, are not checked.)
    """
    name = canonicalize_name(requirement.name)
    version = Version(COLAB[name])
    assert requirement.specifier.contains(version, prereleases=True), (
        f"Colab has {name} {version}, which does not satisfy {requirement}: installing gantutor "
        f"there would replace it")


def test_requirements_txt_and_pyproject_agree():
    runtime = {canonicalize_name(r.name): r.specifier for r in pyproject_requirements()}
    listed = {canonicalize_name(r.name): r.specifier for r in requirements_txt()}
    for name, specifier in runtime.items():
        assert name in listed, f"{name} is a dependency in pyproject.toml but not in requirements.txt"
        assert listed[name] == specifier, f"{name}: pyproject says {specifier}, requirements.txt says {listed[name]}"


def test_pages_leave_the_install_cell_out():
    """The install cell is for Colab: the book extension drops it from the page (only that cell)."""
    import types

    from docutils import nodes
    from docutils.utils import new_document

    extension = book_extension()
    url = config()["repository"]["url"]
    document = new_document("notebook")
    for index, code in enumerate([install_cell(url), "print('the chapter starts')"]):
        cell = nodes.container(nb_element="cell_code", cell_index=index)
        cell += nodes.literal_block(text=code)
        document += cell
    extension.drop_install_cell(types.SimpleNamespace(confdir=str(ROOT)), document)
    kept = [cell.astext() for cell in document.findall(nodes.container)]
    assert kept == ["print('the chapter starts')"]
