"""What a learner reads: every file book.yml lists (the intro and every chapter, also chapters added later).

* **Words a learner knows.** No project-internal word in learner-facing text — markdown, code comments, stored
  outputs — nor in the exercise messages (``tinynn/exercises/ch*.py``). The words, and what to write instead:

  ======================================  ====================================================================
  internal word                           say instead
  ======================================  ====================================================================
  ``nbval``                               "the test suite" (nbval is named only in maintainer docs)
  ``CI size``, ``ci size``, ``CI-size``   "small size" (``TINYNN_BOOK_SIZE=ci``) / "full size"
  ``the seeds``, ``seeds'``, ``seed's``   "the tutorials" (introduced once in the intro), "the tutorial's
  ``the seed program``                    MNIST program"
  ``sanitize.cfg``, ``nbval-check``       (nothing: a maintainer detail)
  ======================================  ====================================================================

  The environment variable's value ``TINYNN_BOOK_SIZE=ci`` may be named (a learner sets it).
* **Display math is its own paragraph**: a ``$$`` may only open a paragraph (the HTML book garbles display math
  that starts inside one). Checked in markdown cells and in stored Markdown outputs (``show_source``).
* **Stored outputs read as if the chapter ran**: no saved widget repr (``interactive(children=…``,
  ``VBox(children=…``; a widget's static figure is stored instead) and no frozen progress line (a tqdm bar or a
  Keras progress bar stopped before 100 %).
* **Exercises that make you think.** Each chapter has at least one exercise that cannot be transcribed from code
  the chapter displays. Criterion: the exercise's code cell is tagged ``exercise-beyond-source`` (a judgement the
  author makes and states in the exercise's text), and the test verifies what can be verified — no line of its
  solution has a near-copy (``difflib`` ratio ≥ 0.9 after renaming variables to ``_``) in any code the chapter
  displays: its other code cells (solutions removed, as in the student copy) and the library source it shows
  with ``book.show_source``/``inspect.getsource`` (lines shorter than 8 characters, like ``return x``, are ignored);
  and the solution is at least three lines.
"""
from __future__ import annotations

import ast
import difflib
import importlib
import inspect
import io
import keyword
import re
import tokenize
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
yaml = pytest.importorskip("yaml")

from tinynn import book  # noqa: E402
from tinynn.exercises import checkers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOC = yaml.safe_load((ROOT / "book.yml").read_text(encoding="utf-8"))


def _resolve(entry):
    for ext in ("", ".ipynb", ".md"):
        p = ROOT / f"{entry}{ext}"
        if p.is_file():
            return p
    raise FileNotFoundError(entry)


FILES = [_resolve(TOC["root"])] + [_resolve(e["file"]) for e in TOC["chapters"]]
NOTEBOOKS = [p for p in FILES if p.suffix == ".ipynb"]
IDS = [p.name for p in FILES]

INTERNAL = [r"\bnbval\b", r"\bci[ -]size\b", r"\bthe seeds\b", r"\bseeds'", r"\bseed's\b", r"\bthe seed program",
            r"sanitize\.cfg", r"nbval-check"]
INTERNAL_RE = re.compile("|".join(INTERNAL), re.IGNORECASE)
WIDGET_REPR = re.compile(r"\b(interactive|VBox|HBox|Box|Tab|Accordion|GridBox)\(children=|"
                         r"\b(FloatSlider|IntSlider|Dropdown|Output|Textarea|Button|Image)\((value|layout|outputs|"
                         r"description)=")
TQDM = re.compile(r"(\d{1,3})%\|")
PROGBAR = re.compile(r"\b(\d+)/(\d+) [━─]")
BEYOND_TAG = "exercise-beyond-source"


# --- reading ---------------------------------------------------------------------------------------------
def _notebook(path):
    return nbformat.read(path, as_version=4)


def _comments(src):
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.findall(r"#.*$", src, flags=re.M)


def _output_texts(cell):
    """(kind, text) of every stored output: stream text, text/plain, text/markdown."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            yield "stream", out.get("text", "")
        for mime in ("text/plain", "text/markdown"):
            if mime in out.get("data", {}):
                yield mime, out["data"][mime]


def _learner_text(path):
    """(where, text) of everything a learner reads in ``path``."""
    if path.suffix == ".md":
        yield "text", path.read_text(encoding="utf-8")
        return
    for i, cell in enumerate(_notebook(path).cells):
        if cell.cell_type == "markdown":
            yield f"cell {i} (markdown)", cell.source
        elif cell.cell_type == "code":
            for c in _comments(cell.source):
                yield f"cell {i} (code comment)", c
            for kind, text in _output_texts(cell):
                yield f"cell {i} (output {kind})", text


def _paragraphs(markdown):
    markdown = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)  # code blocks are not prose
    return [p for p in re.split(r"\n\s*\n", markdown) if p.strip()]


# --- the scans ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_no_internal_words(path):
    found = [f"{where}: {m.group(0)!r} in …{text[max(0, m.start() - 40):m.end() + 40]!r}…"
             for where, text in _learner_text(path) for m in INTERNAL_RE.finditer(text)]
    assert not found, f"{path.name}: project-internal words a learner does not know:\n" + "\n".join(found)


def test_no_internal_words_in_exercise_messages():
    found = []
    for module in sorted(p.stem for p in (ROOT / "tinynn" / "exercises").glob("ch[0-9][0-9].py")):
        for name, chk in checkers(module).items():
            texts = [chk.__doc__ or "", chk.exception_hint or "", chk.in_place_hint or ""]
            texts += [m.hint for m in chk.mistakes]
            found += [f"{module}.{name}: {m.group(0)!r}" for t in texts for m in INTERNAL_RE.finditer(t)]
    assert not found, "\n".join(found)


def _math_inside_paragraph(markdown):
    bad = []
    for par in _paragraphs(markdown):
        text = par.strip()
        if "$$" in text and not (text.startswith("$$") and text.endswith("$$")):
            bad.append(text[:160])
    return bad


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_display_math_is_its_own_paragraph(path):
    bad = []
    if path.suffix == ".md":
        bad = _math_inside_paragraph(path.read_text(encoding="utf-8"))
    else:
        for i, cell in enumerate(_notebook(path).cells):
            texts = [cell.source] if cell.cell_type == "markdown" else \
                [t for kind, t in _output_texts(cell) if kind == "text/markdown"]
            bad += [f"cell {i}: {b!r}" for t in texts for b in _math_inside_paragraph(t)]
    assert not bad, f"{path.name}: display math $$ must start its own paragraph (blank line before):\n" + "\n".join(bad)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_saved_widget_reprs(path):
    bad = []
    for i, cell in enumerate(_notebook(path).cells):
        for out in cell.get("outputs", []):
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
                bad.append(f"cell {i}: a widget view (store the widget's static figure instead)")
        bad += [f"cell {i}: {m.group(0)!r}" for _, t in _output_texts(cell) for m in WIDGET_REPR.finditer(t)]
    assert not bad, f"{path.name}: saved widget reprs read as if nothing ran:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_frozen_progress_lines(path):
    bad = []
    for i, cell in enumerate(_notebook(path).cells):
        for _, text in _output_texts(cell):
            for line in re.split(r"[\r\n]", text):
                bad += [f"cell {i}: {line.strip()!r}" for m in TQDM.finditer(line) if int(m.group(1)) < 100]
                bad += [f"cell {i}: {line.strip()!r}" for m in PROGBAR.finditer(line)
                        if int(m.group(1)) < int(m.group(2))]
    assert not bad, f"{path.name}: progress lines stopped mid-way:\n" + "\n".join(bad)


def test_the_scans_catch_what_they_look_for():
    assert INTERNAL_RE.search("checked at the CI size by nbval") and INTERNAL_RE.search("the seeds' MNIST program")
    assert not INTERNAL_RE.search("fixed random seeds; the tutorials' MNIST program at small size")
    assert _math_inside_paragraph("Its gradient is\n$$x^2$$") and not _math_inside_paragraph("Its gradient is\n\n$$x^2$$")
    assert WIDGET_REPR.search("interactive(children=(FloatSlider(value=1.0") and WIDGET_REPR.search("VBox(children=(")
    assert TQDM.search("Epoch 1/3:   0%|          | 0/782") and PROGBAR.search("12/782 ━━━━")


# --- exercises beyond the displayed source ----------------------------------------------------------------
def _normalize(line):
    """A line of code with every plain variable name replaced by ``_`` (attribute and function names kept)."""
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.sub(r"\s+", "", line)
    out = []
    skip = (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    for k, t in enumerate(toks):
        if t.type in skip:
            continue
        if t.type == tokenize.NAME and not keyword.iskeyword(t.string):
            before = toks[k - 1].string if k else ""
            after = toks[k + 1].string if k + 1 < len(toks) else ""
            out.append(t.string if before == "." or after == "(" else "_")
        else:
            out.append(t.string)
    return "".join(out)


_SHOW = re.compile(r"(?:book\.show_source|inspect\.getsource)\(([^()]*(?:\([^()]*\))?[^()]*)\)")


def _displayed_lines(nb, skip):
    """The normalised lines of every piece of code a student copy of ``nb`` displays, except cell ``skip``."""
    ns = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics: no imports taken from this cell
                tree = ast.Module(body=[], type_ignores=[])
            for node in tree.body:  # top-level imports only (an import quoted in a string is not one)
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    try:
                        exec(compile(ast.Module(body=[node], type_ignores=[]), "<chapter>", "exec"), ns)  # noqa: S102
                    except ImportError:
                        pass
    lines = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or i == skip:
            continue
        src = book.strip_solutions(cell.source)
        lines += src.splitlines()
        for m in _SHOW.finditer(src):
            try:
                obj = eval(m.group(1), ns)  # noqa: S307 - an expression of the chapter, e.g. Dense.backward
            except Exception:  # noqa: BLE001 - an object the chapter defines itself: its cell is in `lines`
                continue
            lines += inspect.getsource(obj).splitlines()
    return [_normalize(s) for s in lines if s.strip() and not s.strip().startswith("#")]


def _solution_lines(src):
    blocks = re.findall(re.escape(book.SOLUTION_BEGIN) + r"[^\n]*\n(.*?)^[ \t]*" + re.escape(book.SOLUTION_END),
                        src, flags=re.M | re.S)
    return [_normalize(s) for b in blocks for s in b.splitlines() if s.strip() and not s.strip().startswith("#")]


def _copied_lines(nb, i):
    shown = _displayed_lines(nb, i)
    return [s for s in _solution_lines(nb.cells[i].source)
            if len(s) >= 8 and any(difflib.SequenceMatcher(None, s, d).ratio() >= 0.9 for d in shown)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_each_chapter_has_an_exercise_beyond_the_displayed_source(path):
    nb = _notebook(path)
    tagged = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and BEYOND_TAG in c.metadata.get("tags", [])]
    assert tagged, (f"{path.name}: tag at least one exercise cell {BEYOND_TAG!r}: an exercise whose answer is not in "
                    f"code the chapter shows (see this module's docstring)")
    for i in tagged:
        src = nb.cells[i].source
        assert book.SOLUTION_BEGIN in src, f"{path.name} cell {i} is tagged {BEYOND_TAG!r} but holds no solution"
        assert len(_solution_lines(src)) >= 3, f"{path.name} cell {i}: a one-line answer is a transcription"
        copied = _copied_lines(nb, i)
        assert not copied, f"{path.name} cell {i}: these solution lines are displayed elsewhere: {copied}"


def test_the_beyond_source_check_catches_a_transcription():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from tinynn.layers import Dense\nbook.show_source(Dense.call)"),
                nbformat.v4.new_code_cell("out = np.tanh(x @ W + b)\nz = 2 * out"),
                nbformat.v4.new_code_cell(f"def f(x, W, b):\n    {book.SOLUTION_BEGIN}\n    y = np.tanh(x @ W + b)\n"
                                          f"    return y\n    {book.SOLUTION_END}\n")]
    assert _copied_lines(nb, 2) == ["_=_.tanh(_@_+_)"]


def test_exercise_modules_are_importable_for_every_chapter():
    for path in NOTEBOOKS:
        importlib.import_module(f"tinynn.exercises.ch{int(path.name[:2]):02d}")


# --- what the README and show_source print ------------------------------------------------------------------
def test_readme_backward_doc_example_prints_what_it_says():
    from tinynn.layers import Dense

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("print(layer.backward.__doc__)", 1)[1].split("```", 1)[0]
    claimed = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                        for line in block.splitlines()[1:] if line.startswith("#"))
    assert claimed.strip() == inspect.cleandoc(Dense.backward.__doc__).strip()
    assert "\\\\" not in Dense.backward.__doc__ and "\\odot" in Dense.backward.__doc__  # single backslashes


def test_library_docstrings_are_raw_with_single_backslashes():
    """A docstring with ``\\\\`` in the source prints doubled backslashes; raw strings print readable math.
    (models.py, layers/base.py, autograd.py, ops.py are being rewritten elsewhere; book.py's doctest needs ``\\n``.)"""
    skip = {"models.py", "base.py", "autograd.py", "ops.py", "book.py"}
    bad = []
    for path in sorted((ROOT / "tinynn").rglob("*.py")):
        if path.name in skip and (path.name != "base.py" or path.parent.name == "layers"):
            continue
        src = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(src)):
            body = getattr(node, "body", None)
            if not isinstance(body, list) or not body or not isinstance(body[0], ast.Expr):
                continue
            doc = body[0].value
            if isinstance(doc, ast.Constant) and isinstance(doc.value, str):
                text = ast.get_source_segment(src, doc)
                if "\\\\" in text and not text[:1] in "rR":
                    bad.append(f"{path.relative_to(ROOT)}:{doc.lineno}")
    assert not bad, "docstrings with doubled backslashes (make them r\"\"\"...\"\"\"):\n" + "\n".join(bad)


def test_show_source_renders_docstring_math(monkeypatch):
    pytest.importorskip("IPython")
    import IPython
    import IPython.display
    from tinynn.layers import Dense

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    book.show_source(Dense.backward)
    md = shown[0].data
    assert "$$dz = dy \\odot f'(z)" in md and "$z = xW + b$" in md and ".. math::" not in md.split("```")[0]
    assert "```python\n    def backward(self, dy):" in md  # then the code that runs, unchanged
    assert not _math_inside_paragraph(md.split("```")[0])


def test_the_full_size_run_tool_drops_widget_views_and_frozen_bars():
    """tools/run_chapter.py stores what a reader should see: no widget view, a progress bar's final state only."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_chapter", ROOT / "tools" / "run_chapter.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("_ = widgets.interact(f, x=1.0)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={tool.WIDGET_MIME: {"model_id": "abc"},
                                                      "text/plain": "interactive(children=(FloatSlider(value=1.0"}),
        nbformat.v4.new_output("stream", name="stderr", text="Epoch 1/3:   0%|          | 0/782\r"
                                                            "Epoch 1/3: 100%|██████████| 782/782\n"),
        nbformat.v4.new_output("stream", name="stderr", text="Epoch 2/3:  40%|████      | 313/782\n"),
    ]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"state": {}}
    out = tool.clean(nb).cells[0].outputs
    assert [o.get("output_type") for o in out] == ["display_data", "stream"] and "image/png" in out[0]["data"]
    assert out[1]["text"].strip() == "Epoch 1/3: 100%|██████████| 782/782" and "widgets" not in nb.metadata


def test_docstring_markdown_turns_rst_math_into_markdown_math():
    from tinynn._docmath import docstring_markdown
    from tinynn.layers.recurrent import lstm_cell

    md = docstring_markdown(lstm_cell.__doc__)
    assert "$$\\begin{aligned}\nz &= x_t W" in md and "\\end{aligned}$$" in md and ".. math::" not in md
    assert "$dh = \\partial L/\\partial h_t$" in md and "`get_weights`" in md and "``" not in md
    assert not _math_inside_paragraph(md)


def test_docmath_doctest():
    import doctest

    from tinynn import _docmath

    result = doctest.testmod(_docmath)
    assert result.attempted >= 1 and result.failed == 0
