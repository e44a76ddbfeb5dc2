"""Store a chapter's outputs from a full-size run (a maintainer tool; the test suite runs chapters at small size).

    TINYNN_DATA=../shared/data .venv/bin/python tools/run_chapter.py chapters/04_training.ipynb [...]

Executes each notebook top to bottom with ``TINYNN_BOOK_SIZE=full`` in this environment's ``python3`` kernel and
writes it back, cleaned the way a reader should see it:

* a widget's live view cannot be stored (its figure lives in the widget, not in the notebook), so its output is
  dropped: every chapter draws the widget's static figure in the same or the previous cell;
* progress bars redrawn with ``\\r`` keep only their last state, and a bar left below 100 % is dropped;
* no widget state in the metadata.
"""
from __future__ import annotations

import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FROZEN = re.compile(r"(\d{1,3})%\||\b(\d+)/(\d+) [━─]")


def _frozen(line):
    for m in FROZEN.finditer(line):
        if m.group(1) is not None and int(m.group(1)) < 100:
            return True
        if m.group(2) is not None and int(m.group(2)) < int(m.group(3)):
            return True
    return False


def _clean_stream(text):
    lines = []
    for line in text.split("\n"):
        last = line.split("\r")[-1]  # a bar redrawn in place: its final state
        if not _frozen(last):
            lines.append(last)
    return "\n".join(lines)


def clean(nb):
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            if WIDGET_MIME in out.get("data", {}):
                continue
            if out.get("output_type") == "stream":
                out["text"] = _clean_stream(out["text"])
                if not out["text"].strip():
                    continue
            outputs.append(out)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return nb


def run(path):
    nb = nbformat.read(path, as_version=4)
    os.environ["TINYNN_BOOK_SIZE"] = "full"
    start = time.time()
    NotebookClient(nb, timeout=3600, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}}).execute()
    nbformat.write(clean(nb), path)
    print(f"{path}: executed at full size in {time.time() - start:.0f} s")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        run(p)
