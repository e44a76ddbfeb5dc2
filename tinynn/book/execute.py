"""Run a notebook cell by cell in its own fresh Jupyter kernel (nbclient), never in the calling process.

Each cell has a time limit: a cell that runs past it is interrupted and reported as timed out (the next cells
still run when the kernel recovers; a kernel that ignores the interrupt is shut down). A kernel that dies
(``os._exit``, out of memory, a crash in C) is reported, not raised. The book size is set in the kernel's
environment (``TINYNN_BOOK_SIZE``), with one BLAS thread unless the caller's environment says otherwise.
"""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CellOutcome", "Session", "run_notebook"]

_TIMEOUT_NAME = "CellTimeoutError"


@dataclass
class CellOutcome:
    """What happened to one cell: ``status`` is ``'ok'``, ``'error'``, ``'timeout'`` or ``'dead'``
    (the kernel died or stopped answering); ``error`` is one line (``NameError: name 'x' is not defined``)."""

    index: int
    status: str
    error: str = ""
    seconds: float = 0.0
    text: str = field(default="", repr=False)


def _error_line(reply, cell):
    content = (reply or {}).get("content", {})
    if content.get("status") != "error":
        return ""
    if content.get("ename") == _TIMEOUT_NAME:
        return content.get("evalue", "timed out")
    return f"{content.get('ename', 'Error')}: {content.get('evalue', '')}".strip()


def _text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(out["data"]["text/plain"])
    return "".join(parts)


class Session:
    """A fresh kernel for one notebook: ``with Session(nb, cwd, size, timeout) as s: s.run(i)``."""

    def __init__(self, nb, cwd=".", size="ci", timeout=300.0, env=None):
        from nbclient import NotebookClient  # noqa: PLC0415

        self.nb, self.timeout, self.alive = nb, float(timeout), True
        self._reply = None
        self.client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
            error_on_timeout={"ename": _TIMEOUT_NAME, "evalue": f"the cell ran longer than {timeout:g} s "
                              f"and was interrupted (an endless loop?)", "traceback": []},
            record_timing=False, startup_timeout=120, shutdown_kernel="immediate",
            resources={"metadata": {"path": os.fspath(cwd)}},
            on_cell_executed=self._on_executed)
        self.env = {**os.environ, **(env or {}), "TINYNN_BOOK_SIZE": size}
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            self.env.setdefault(var, "1")
        self._ctx = None

    def _on_executed(self, cell, cell_index, execute_reply):
        self._reply = execute_reply

    def __enter__(self):
        # the kernel's own stderr is log noise for a learner (transport warnings); errors come as outputs
        self._ctx = self.client.setup_kernel(env=self.env, stderr=subprocess.DEVNULL)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        try:
            return self._ctx.__exit__(*exc)
        except Exception:  # noqa: BLE001 - a dead kernel may fail to shut down cleanly; nothing to keep
            return False

    def run(self, index, cell=None) -> CellOutcome:
        """Execute cell ``index`` of the notebook (or ``cell``, an extra cell not in the notebook)."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: PLC0415

        cell = self.nb.cells[index] if cell is None else cell
        if not self.alive:
            return CellOutcome(index, "dead", "not run: the kernel had stopped before this cell")
        if cell.cell_type != "code":
            return CellOutcome(index, "ok")
        self._reply, start = None, time.monotonic()
        try:
            self._execute(cell, index)
        except DeadKernelError:
            self.alive = False
            return CellOutcome(index, "dead", "the kernel died while running this cell (it crashed or was "
                                              "killed: os._exit, out of memory, a fault in compiled code)",
                               time.monotonic() - start)
        except CellTimeoutError as err:  # an IOPub timeout: the kernel answered but its outputs did not come
            return CellOutcome(index, "timeout", str(err).splitlines()[0], time.monotonic() - start)
        seconds = time.monotonic() - start
        error = _error_line(self._reply, cell)
        if self._reply and self._reply.get("content", {}).get("ename") == _TIMEOUT_NAME:
            if not self._responsive():
                self.alive = False
                error += "; the kernel ignored the interrupt and was stopped"
            return CellOutcome(index, "timeout", error, seconds, _text(cell))
        return CellOutcome(index, "error" if error else "ok", error, seconds, _text(cell))

    def _execute(self, cell, index):
        """nbclient stores the executed cell at its index: an extra cell gets a temporary slot at the end."""
        if index is not None and index < len(self.nb.cells) and self.nb.cells[index] is cell:
            self.client.execute_cell(cell, index)
            return
        self.nb.cells.append(cell)
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1)
        finally:
            self.nb.cells.pop()

    def run_extra(self, source) -> CellOutcome:
        """Execute ``source`` as an extra cell after the notebook's own (it is not added to the notebook)."""
        from nbformat.v4 import new_code_cell  # noqa: PLC0415

        return self.run(len(self.nb.cells), new_code_cell(source))

    def _responsive(self, wait=20.0) -> bool:
        """After an interrupt: does the kernel answer a trivial request within ``wait`` seconds?"""
        from nbformat.v4 import new_code_cell  # noqa: PLC0415

        saved = self.client.timeout
        self.client.timeout = wait
        self._reply = None
        try:
            self._execute(new_code_cell("None"), None)
        except Exception:  # noqa: BLE001 - dead or still stuck: either way not responsive
            return False
        finally:
            self.client.timeout = saved
        return bool(self._reply) and self._reply.get("content", {}).get("ename") != _TIMEOUT_NAME


def run_notebook(nb, cwd=".", size="ci", timeout=300.0, stop_on_error=False, log=None):
    """Run every code cell of ``nb`` in place (outputs are stored in ``nb``); returns the
    :class:`CellOutcome` of each code cell run."""
    outcomes = []
    with Session(nb, cwd=Path(cwd), size=size, timeout=timeout) as session:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            outcome = session.run(i)
            outcomes.append(outcome)
            if log:
                log(outcome)
            if outcome.status == "dead" or (stop_on_error and outcome.status != "ok"):
                break
    return outcomes
