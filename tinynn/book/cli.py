"""``tinynn-book`` (also ``python -m tinynn.book``): student copies, grading, running and resetting chapters.

Exit status: 0 success (for ``grade``: every exercise passed), 1 failure (an exercise failed, a cell raised),
2 usage error (an unknown chapter, a missing file or folder).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tinynn.book import project
from tinynn.book.project import BookError

SIZES = ("ci", "full")


def _err(*args):
    print(*args, file=sys.stderr, flush=True)


def cmd_student(args):
    from tinynn.book.student import student_copies  # noqa: PLC0415

    dest = Path(args.dest)
    shipped = {p.resolve() for p in project.chapters()}
    targets = [dest / p.name for p in ([project.resolve(n) for n in args.chapters] or project.chapters())]
    if any(t.resolve() in shipped for t in targets):
        raise BookError(f"{dest}: that is the book's own chapters folder; choose another folder.")
    written = student_copies(dest, args.chapters or None)
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} student cop{'y' if len(written) == 1 else 'ies'} in {dest}. Hand them out; grade "
          f"the returned notebooks with `tinynn-book grade FOLDER --csv results.csv`.")
    return 0


def cmd_grade(args):
    from tinynn.book.grade import find_notebooks, grade, summary, write_csv  # noqa: PLC0415

    if args.timeout <= 0:
        raise BookError(f"--timeout {args.timeout}: expected a positive number of seconds.")
    if args.jobs < 1:
        raise BookError(f"--jobs {args.jobs}: expected 1 or more.")
    find_notebooks(args.paths)  # usage errors (a missing folder) before any kernel starts
    rows = grade(args.paths, timeout=args.timeout, size=args.size, log=_err, jobs=args.jobs)
    if args.csv:
        write_csv(rows, args.csv)
        _err(f"wrote {args.csv}")
    print(summary(rows))
    return 0 if rows and all(r.passed for r in rows) else 1


def _run_into(chapter, target, size, timeout):
    import nbformat  # noqa: PLC0415

    from tinynn.book.execute import run_notebook  # noqa: PLC0415

    nb = nbformat.read(os.fspath(target), as_version=4)
    n = sum(c.cell_type == "code" for c in nb.cells)
    _err(f"running {target} at {size} size ({n} code cells, in a fresh kernel)…")
    start, count = time.monotonic(), [0]

    def log(outcome):
        count[0] += 1
        if outcome.status != "ok" or outcome.seconds > 2:
            _err(f"  cell {outcome.index + 1}: {outcome.status} ({outcome.seconds:.1f} s) {outcome.error}".rstrip())

    outcomes = run_notebook(nb, cwd=target.parent, size=size, timeout=timeout, stop_on_error=True, log=log)
    nb.metadata.pop("widgets", None)  # live widget state is meaningless once saved (and bloats the file)
    tmp = target.with_name(target.name + ".tmp")
    nbformat.write(nb, os.fspath(tmp))
    os.replace(tmp, target)
    bad = [o for o in outcomes if o.status != "ok"]
    took = time.monotonic() - start
    if bad:
        _err(f"stopped at cell {bad[0].index + 1} of {target}: {bad[0].error} ({took:.0f} s); "
             f"the outputs so far are saved.")
        return 1
    print(f"ran {chapter.stem} at {size} size in {took:.0f} s; outputs saved in {target}")
    return 0


def cmd_run(args):
    chapter = project.resolve(args.chapter)
    project.sync([chapter.stem], log=_err)
    return _run_into(chapter, project.working_copy(chapter), args.size, args.timeout)


def cmd_reset(args):
    def confirm(copy):
        if args.yes:
            return True
        if not sys.stdin or not sys.stdin.isatty():
            _err(f"{copy} has changes (your edits, or outputs of a run): add --yes to replace it "
                 f"(a backup is kept in {project.WORK_DIR}/.backup/).")
            return False
        answer = input(f"{copy} has changes (your edits, or outputs of a run). Replace it? "
                       f"(a backup is kept) [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    todo = args.chapters or [p.stem for p in project.chapters()]
    done = project.reset(todo, confirm=confirm)
    return 0 if len(done) == len(todo) else 1


def cmd_sync(args):
    root = project.find_root()
    written = project.sync(args.chapters or None, log=_err)
    for path in written:
        print(f"copied {path.relative_to(root)}")
    print(f"working copies are in {root / project.WORK_DIR}")
    return 0


def cmd_list(args):
    root = project.find_root()
    for path in project.chapters(root):
        print(path.relative_to(root) if args.paths else path.stem)
    return 0


def cmd_refresh_outputs(args):
    chapters = [project.resolve(n) for n in args.chapters] if args.chapters else project.chapters()
    if not args.yes:
        raise BookError("refresh-outputs rewrites the shipped chapters' stored outputs (a maintainer step): "
                        "add --yes to do it.")
    status = 0
    for chapter in chapters:
        status |= _run_into(chapter, chapter, "full", args.timeout)
    return status


def parser():
    p = argparse.ArgumentParser(
        prog="tinynn-book", description="The tinynn book in a classroom: student copies, grading, running "
        "one chapter, resetting working copies. Chapters are those listed in book.yml.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("student", help="write student copies (solutions removed) into a folder",
                       description="Write student copies of all (or the named) chapters into DEST (created if "
                       "needed): reference solutions removed, every other cell's outputs kept, and Run All "
                       "works while the exercises are unsolved.")
    s.add_argument("dest", metavar="DEST", help="the folder for the copies")
    s.add_argument("chapters", nargs="*", metavar="CHAPTER", help="e.g. 01, 3, 05_mnist (default: all)")
    s.set_defaults(func=cmd_student)

    g = sub.add_parser("grade", help="run submitted notebooks and report each exercise",
                       description="Run each notebook in its own fresh kernel at small size, check every "
                       "exercise, and print one row per notebook and exercise. Exit status 0 when every "
                       "exercise passed, 1 otherwise, 2 for usage errors.")
    g.add_argument("paths", nargs="+", metavar="NOTEBOOK_OR_FOLDER", help="notebooks, or folders to search")
    g.add_argument("--csv", metavar="FILE", help="also write notebook,exercise,passed,message to FILE")
    g.add_argument("--timeout", type=float, default=300.0, metavar="S",
                   help="seconds one cell may run before it is interrupted (default 300)")
    g.add_argument("--size", choices=SIZES, default="ci", help="book size to run at (default ci: small)")
    g.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="grade N notebooks at the same time (default 1; at most the number of CPU cores)")
    g.set_defaults(func=cmd_grade)

    r = sub.add_parser("run", help="run one chapter's working copy from a terminal",
                       description=f"Execute one chapter top to bottom in a fresh kernel into its working copy "
                       f"({project.WORK_DIR}/, created if needed); the shipped chapter is never changed.")
    r.add_argument("chapter", metavar="CHAPTER", help="e.g. 01, 3, 05_mnist")
    r.add_argument("--size", choices=SIZES, default=os.environ.get("TINYNN_BOOK_SIZE", "full").strip() or "full",
                   help="ci: small data, quick; full: the book's real sizes (default: $TINYNN_BOOK_SIZE or full)")
    r.add_argument("--timeout", type=float, default=3600.0, metavar="S", help="seconds per cell (default 3600)")
    r.set_defaults(func=cmd_run)

    x = sub.add_parser("reset", help="restore working copies from the shipped chapters",
                       description=f"Replace the working copies in {project.WORK_DIR}/ by the shipped chapters. "
                       "A copy with changes is replaced only after you confirm (or with --yes); it is "
                       f"backed up in {project.WORK_DIR}/.backup/ first.")
    x.add_argument("chapters", nargs="*", metavar="CHAPTER", help="default: all")
    x.add_argument("--yes", "-y", action="store_true", help="replace changed copies without asking")
    x.set_defaults(func=cmd_reset)

    y = sub.add_parser("sync", help="create missing working copies (make lab does this)",
                       description="Create missing working copies and refresh untouched ones; copies with "
                       "your edits are never overwritten.")
    y.add_argument("chapters", nargs="*", metavar="CHAPTER")
    y.set_defaults(func=cmd_sync)

    ls = sub.add_parser("list", help="list the chapters of book.yml", description="List the notebook "
                        "chapters of book.yml, in order.")
    ls.add_argument("--paths", action="store_true", help="print paths relative to the book's folder")
    ls.set_defaults(func=cmd_list)

    m = sub.add_parser("refresh-outputs", help="maintainers: re-run shipped chapters at full size in place",
                       description="Maintainers only: re-run the shipped chapters at full size and store their "
                       "outputs in chapters/ (what the book and the tests compare against).")
    m.add_argument("chapters", nargs="*", metavar="CHAPTER")
    m.add_argument("--yes", action="store_true", help="really rewrite the shipped chapters")
    m.add_argument("--timeout", type=float, default=3600.0, metavar="S")
    m.set_defaults(func=cmd_refresh_outputs)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except BookError as err:
        _err(f"tinynn-book {args.command}: {err}")
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
