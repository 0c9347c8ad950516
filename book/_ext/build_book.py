"""Build the book (``make book``) so that a failure is never reported, or published, as a success.

    python book/_ext/build_book.py [ROOT]

Runs ``jupyter-book build ROOT --all --warningiserror --keep-going``:

- ``--all`` makes Sphinx read every page again. Without it, a rerun after a failed execution
  reused the failed page (its source had not changed) and reported "built" in seconds. The
  execution cache (``execute_notebooks: cache``) keeps only successful executions, so a
  notebook that failed is executed again and a notebook that succeeded is not.
- When the build fails, the HTML is moved to ``_build/html-failed`` (no page with a traceback
  stays where the book is opened), and the last lines printed say, for each notebook that
  failed, which cell (its number among the code cells, how it starts) and the error's last
  line, then the other warnings that failed the build, and where the full reports are.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)|KeyboardInterrupt)\b(:.*)?$")


def summarise_report(text: str) -> dict:
    """The failed cell and error of one execution report (``reports/*.err.log`` of jupyter-book)."""
    text = ANSI.sub("", text)
    lines = text.splitlines()
    source = []
    if "------------------" in lines:
        start = lines.index("------------------")
        for line in lines[start + 1:]:
            if line.startswith("------------------"):
                break
            source.append(line)
    code = [line for line in source if line.strip() and not line.lstrip().startswith(("#", "%"))]
    cell = re.findall(r"Cell In\[(\d+)\]", text)
    named = [line.strip() for line in lines if ERROR_LINE.match(line.strip())]
    timed_out = [line.strip() for line in lines if "timed out" in line.lower()]
    error = named[-1] if named else (timed_out[-1] if timed_out else
                                     next((line for line in reversed(lines) if line.strip()), "(no message)"))
    return {"code_cell": int(cell[0]) if cell else None, "starts": code[0].strip()[:100] if code else None,
            "error": error}


def failure_summary(log: str, reports: Path) -> list[str]:
    """The lines printed last when the build failed."""
    lines = ["", "The book did NOT build."]
    for report in sorted(reports.rglob("*.err.log")) if reports.exists() else []:
        notebook = report.relative_to(reports).with_suffix("").with_suffix(".ipynb")
        found = summarise_report(report.read_text(errors="replace"))
        cell = f"code cell {found['code_cell']}" if found["code_cell"] else "a cell"
        starts = f", which starts `{found['starts']}`" if found["starts"] else ""
        lines += [f"  {notebook}: {cell}{starts}", f"      {found['error']}", f"      (full report: {report})"]
    warnings = [ANSI.sub("", line).strip() for line in log.splitlines()
                if re.search(r"\b(WARNING|ERROR)\b", line) and "[IPKernelApp]" not in line
                and "Executing notebook failed" not in line and "Notebook exception traceback" not in line]
    if warnings:
        lines.append(f"  {len(warnings)} warning(s) (warnings fail the build):")
        lines += [f"    {line[:300]}" for line in warnings[:10]]
    lines.append("Fix it and run `make book` again: the notebooks that failed are executed again, the others come "
                 "from the cache (`make clean` starts from nothing).")
    return lines


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else ".").resolve()
    html, failed = root / "_build" / "html", root / "_build" / "html-failed"
    shutil.rmtree(failed, ignore_errors=True)
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
               "build", str(root), "--all", "--warningiserror", "--keep-going"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    log = []
    for line in process.stdout:  # shown as it comes, and kept for the summary
        sys.stdout.write(line)
        log.append(line)
    code = process.wait()
    if code == 0:
        print(f"\nThe book is built: open {html / 'index.html'}")
        return 0
    if html.exists():
        html.rename(failed)
    for line in failure_summary("".join(log), failed / "reports"):
        print(line)
    print(f"(jupyter-book exited with {code}; what it wrote is in {failed}, not in {html})")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
