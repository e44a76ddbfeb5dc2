"""The book's structure: book.yml lists every chapter and only existing files; every chapter has learning goals,
a summary, exercises with checkers and solution markers, a key-numbers cell, and no pasted library code.

Parametrised over every notebook in chapters/ *and* every file book.yml lists, so new chapters are covered as
soon as they exist. (Running the chapters is nbval's job: ``pytest chapters --nbval-lax``.)
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
yaml = pytest.importorskip("yaml")

from tinynn import book  # noqa: E402
from tinynn.exercises import Checker, checkers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
NOTEBOOKS = sorted(p.name for p in CHAPTERS.glob("[0-9][0-9]_*.ipynb"))


def _toc():
    return yaml.safe_load((ROOT / "book.yml").read_text(encoding="utf-8"))


def _toc_files():
    return [entry["file"] for entry in _toc().get("chapters", [])]


def _resolve(entry):
    """The path of a toc entry (jupyter-book entries have no extension)."""
    for ext in ("", ".ipynb", ".md"):
        p = ROOT / f"{entry}{ext}"
        if p.is_file():
            return p
    return None


ALL = sorted(set(NOTEBOOKS) | {Path(f).name + ".ipynb" for f in _toc_files() if f.startswith("chapters/")})


def _read(name):
    return nbformat.read(CHAPTERS / name, as_version=4)


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _chapter_number(name):
    return int(name[:2])


# --- book.yml --------------------------------------------------------------------------------------
def test_toc_format():
    toc = _toc()
    assert toc["format"] == "jb-book"
    assert _resolve(toc["root"]) is not None, f"book.yml root {toc['root']!r} does not exist"
    assert isinstance(toc["chapters"], list) and toc["chapters"]


def test_toc_lists_only_existing_files():
    missing = [f for f in _toc_files() if _resolve(f) is None]
    assert not missing, f"book.yml lists files that do not exist: {missing}"


def test_toc_lists_every_chapter_in_order():
    listed = [Path(f).name for f in _toc_files()]
    assert [n[:-len(".ipynb")] for n in NOTEBOOKS] == [n for n in listed if n[:2].isdigit()], \
        f"book.yml must list every notebook of chapters/ in order: {NOTEBOOKS} vs {listed}"


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapters/NN_*.ipynb found"


# --- every chapter -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_chapter_exists_and_has_kernelspec(name):
    assert (CHAPTERS / name).is_file(), f"{name} is listed in book.yml but does not exist"
    nb = _read(name)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", ALL)
def test_chapter_has_goals_and_summary(name):
    nb = _read(name)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), "the first cell is the title"
    assert "learning goals" in first.source.lower(), "the first cell states the learning goals"
    md = [c.source.lower() for c in nb.cells if c.cell_type == "markdown"]
    assert any(s.lstrip().startswith("## summary") for s in md), "a '## Summary' section at the end"
    assert any("$" in s for s in md), "the math is written in LaTeX"


@pytest.mark.parametrize("name", ALL)
def test_chapter_has_a_key_numbers_cell(name):
    tagged = [c for c in _code(_read(name)) if "nbval-check-output" in c.metadata.get("tags", [])]
    assert len(tagged) >= 1, "a key-numbers cell tagged nbval-check-output"
    for cell in tagged:
        assert "assert" in cell.source and "print" in cell.source, "the key-numbers cell prints and asserts"
        assert cell.outputs, "the key-numbers cell has stored (full-size) output for nbval to compare"


@pytest.mark.parametrize("name", ALL)
def test_chapter_exercises_have_checkers_and_solutions(name):
    nb = _read(name)
    src = "\n".join(c.source for c in _code(nb))
    module = f"ch{_chapter_number(name):02d}"
    chapter_checkers = checkers(module)
    assert len(chapter_checkers) >= 3, f"tinynn.exercises.{module} has at least 3 checkers"
    assert all(isinstance(c, Checker) for c in chapter_checkers.values())
    for check in chapter_checkers:
        assert f"{module}.{check}(" in src, f"{name} never calls {module}.{check}"
    n_begin, n_end = src.count(book.SOLUTION_BEGIN), src.count(book.SOLUTION_END)
    assert n_begin == n_end >= 3, "every exercise's reference solution sits between solution markers"
    stripped = book.strip_solutions(src)
    assert book.SOLUTION_BEGIN not in stripped and stripped.count("raise NotImplementedError()") == n_begin


@pytest.mark.parametrize("name", ALL)
def test_chapter_shows_library_code_with_getsource(name):
    src = "\n".join(c.source for c in _code(_read(name)))
    assert "book.show_source(" in src or "inspect.getsource(" in src


@pytest.mark.parametrize("name", ALL)
def test_chapter_uses_the_size_switch_and_fixed_seeds(name):
    src = "\n".join(c.source for c in _code(_read(name)))
    assert "book.setup(" in src or "set_random_seed(" in src, "fixed seeds"


@pytest.mark.parametrize("name", ALL)
def test_chapter_outputs_are_small_and_error_free(name):
    path = CHAPTERS / name
    assert path.stat().st_size < 2_000_000, f"{name} is {path.stat().st_size} bytes: keep stored outputs small"
    nb = _read(name)
    assert "widgets" not in nb.metadata, "no stored widget state"
    for cell in _code(nb):
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{name}: a stored output is an error"


# --- the helpers ---------------------------------------------------------------------------------------
def test_size_switch(monkeypatch):
    monkeypatch.delenv("TINYNN_BOOK_SIZE", raising=False)
    assert book.size() == "full" and book.pick(full=1, ci=2) == 1
    monkeypatch.setenv("TINYNN_BOOK_SIZE", "ci")
    assert book.is_ci() and book.pick(full=1, ci=2) == 2
    monkeypatch.setenv("TINYNN_BOOK_SIZE", "huge")
    with pytest.raises(ValueError, match="TINYNN_BOOK_SIZE"):
        book.size()


def test_student_version_removes_solutions(tmp_path):
    name = NOTEBOOKS[0]
    out = book.student_version(CHAPTERS / name, tmp_path / name)
    nb = nbformat.read(out, as_version=4)
    src = "\n".join(c.source for c in _code(nb))
    assert book.SOLUTION_BEGIN not in src and "raise NotImplementedError()" in src
    exercises = [c for c in _code(nb) if "raise NotImplementedError()" in c.source]
    assert exercises and all(not c.outputs for c in exercises), "an exercise cell keeps no solution output"
    assert any(c.outputs for c in _code(nb)), "the other cells keep their outputs (tests/test_book_cli.py)"


def test_sanitize_file_parses_like_nbval():
    text = (CHAPTERS / "sanitize.cfg").read_text(encoding="utf-8")
    pairs = re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, flags=re.MULTILINE)  # nbval's own parsing
    assert len(pairs) == text.count("\nregex: ") + text.startswith("regex: ") >= 3
    subs = {"12.5 ms": "TIME", "at 0x7f3a2b1c9d00>": "at 0xADDRESS>", "1563/1563 ━━━━ 3s 2ms/step": "PROGBAR"}
    for before, after in subs.items():
        out = before
        for regex, replace in pairs:
            out = re.sub(regex, replace, out)
        assert after in out, (before, out)


def test_every_exercise_module_belongs_to_a_chapter():
    numbers = {_chapter_number(n) for n in NOTEBOOKS}
    pkg = importlib.import_module("tinynn.exercises")
    mods = sorted(p.stem for p in Path(pkg.__file__).parent.glob("ch[0-9][0-9].py"))
    assert all(int(m[2:]) in numbers for m in mods), f"exercise modules without a chapter: {mods}"
