"""gantutor.results renders any set of JSON result files as Markdown tables."""
from __future__ import annotations

import json

from gantutor.results import find_results, load_results, markdown_tables


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|") and not line.startswith("|---")]


def test_scalars_become_a_key_value_table():
    text = markdown_tables({"steps_per_s": 26.12345, "device": "cpu", "ok": True, "none": None}, title="t.json")
    assert "**t.json**" in text
    assert "| steps_per_s | 26.12 |" in text and "| device | cpu |" in text and "| none | – |" in text


def test_mapping_of_mappings_becomes_one_row_per_key():
    data = {"book/a.ipynb": {"cpu": 1.5, "gpu": 0.2}, "book/b.ipynb": {"cpu": 3.0}}
    rows = table_rows(markdown_tables(data))
    assert rows[0] == "|  | cpu | gpu |"
    assert "| book/b.ipynb | 3 | – |" in rows


def test_lists_of_records_and_deep_nesting():
    data = {"command": "python x.py", "runs": [{"seed": 0, "fd": 1.25}, {"seed": 1, "fd": 2.5, "note": "a|b"}],
            "deep": {"level": {"x": [1, 2, 3], "y": {"z": "w"}}}, "long": list(range(20))}
    text = markdown_tables(data, title="x.json")
    assert "**x.json › runs**" in text and "| 1 | 2.5 | a\\|b |" in text
    assert "**x.json › deep › level**" in text and "| x | 1, 2, 3 |" in text
    assert "**x.json › deep › level › y**" in text
    assert "(20 values)" in text


def test_any_json_value_renders(tmp_path):
    for value in ([], {}, [1, "a"], "text", 3, None, [{"a": 1}, {"b": {"c": 2}}]):
        assert markdown_tables(value).endswith("\n")


def test_folder_with_any_files(tmp_path):
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    folder = tmp_path / "benchmarks" / "results"
    assert load_results(folder) == {}
    (folder / "b.json").write_text(json.dumps({"a": 1}))
    (folder / "a.json").write_text("{not json")
    (folder / "notes.txt").write_text("ignored")
    results = load_results(folder)
    assert list(results) == ["a.json", "b.json"]
    assert "could not read a.json" in results["a.json"]["error"]
    nested = tmp_path / "book" / "sub"
    nested.mkdir(parents=True)
    assert find_results(nested) == folder


def test_run_header_and_write_result(tmp_path, capsys):
    from gantutor.results import run_header, write_result

    header = run_header("demo", "python benchmarks/demo.py")
    assert header["benchmark"] == "demo" and header["command"] == "python benchmarks/demo.py"
    assert header["machine"].startswith("cpu") and header["python"] and header["torch"]
    assert header["when_utc"].endswith("Z")
    path = write_result({**header, "value": 1.5}, tmp_path / "deeper" / "demo.json")
    assert json.loads(path.read_text()) == {**header, "value": 1.5} and path.read_text().endswith("\n")
    assert f"wrote {path}" in capsys.readouterr().out
