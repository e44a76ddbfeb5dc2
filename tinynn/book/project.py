"""Where the book lives: its folder (the one holding ``book.yml``), its chapters, and the learner's working copies.

The shipped chapters (``chapters/NN_*.ipynb``) are never modified by reading or running them: JupyterLab
(``make lab``) and ``tinynn-book run`` work on *working copies* in ``my-chapters/`` (git-ignored). A small
manifest there (``.tinynn-book.json``) remembers the hash of every copy as it was written, so a refresh can
tell a learner's edits from an untouched copy and never overwrites edits without being asked.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

__all__ = ["BookError", "find_root", "chapters", "resolve", "WORK_DIR", "working_copy", "sync", "reset",
           "edited"]

WORK_DIR = "my-chapters"
MANIFEST = ".tinynn-book.json"
ROOT_ENV = "TINYNN_BOOK_ROOT"


class BookError(Exception):
    """A usage error the command line reports in one line (exit status 2)."""


def find_root(start=None) -> Path:
    """The book's folder: ``$TINYNN_BOOK_ROOT``, else the first of ``start`` (default: the current folder)
    and its parents that holds ``book.yml``, else the folder this package was installed from."""
    if os.environ.get(ROOT_ENV):
        root = Path(os.environ[ROOT_ENV]).resolve()
        if not (root / "book.yml").is_file():
            raise BookError(f"{ROOT_ENV}={root}: no book.yml there.")
        return root
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "book.yml").is_file():
            return folder
    installed = Path(__file__).resolve().parents[2]
    if (installed / "book.yml").is_file():
        return installed
    raise BookError(f"cannot find the book (a folder with book.yml) from {here}: run this inside the tinynn "
                    f"folder, or set {ROOT_ENV}.")


def chapters(root=None) -> list[Path]:
    """Every notebook chapter that ``book.yml`` lists, in the book's order (the root page too, when it is a
    notebook)."""
    import yaml  # noqa: PLC0415

    root = Path(root) if root else find_root()
    toc = yaml.safe_load((root / "book.yml").read_text(encoding="utf-8")) or {}
    entries = [toc.get("root")] if toc.get("root") else []

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("sections"))
            for part in item.get("parts", []) or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    found = []
    for entry in entries:
        path = root / (entry if entry.endswith(".ipynb") else f"{entry}.ipynb")
        if path.is_file():
            found.append(path)
    return found


def resolve(name, root=None) -> Path:
    """The shipped chapter called ``name``: ``1``, ``01``, ``01_neurons``, ``neurons`` or a path to it."""
    all_ = chapters(root)
    text = str(name).strip()
    stem = Path(text).name.removesuffix(".ipynb")
    for path in all_:
        if stem == path.stem:
            return path
    if re.fullmatch(r"\d{1,2}", stem):
        hits = [p for p in all_ if p.stem[:2].isdigit() and int(p.stem[:2]) == int(stem)]
    else:
        hits = [p for p in all_ if p.stem.split("_", 1)[-1] == stem or stem in p.stem]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(p.stem for p in all_)
    raise BookError(f"no chapter {text!r}{' (ambiguous)' if hits else ''}; the chapters are: {known}.")


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _work(root) -> Path:
    return Path(root) / WORK_DIR


def working_copy(chapter: Path, root=None) -> Path:
    """Where the working copy of the shipped ``chapter`` lives (it may not exist yet)."""
    return _work(root or find_root()) / chapter.name


def _manifest(root) -> dict:
    path = _work(root) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_manifest(root, data):
    path = _work(root) / MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def edited(chapter: Path, root=None) -> bool:
    """True when the working copy exists and differs from what was last written there (a learner's edits
    or outputs of a run)."""
    root = root or find_root()
    copy = working_copy(chapter, root)
    if not copy.is_file():
        return False
    record = _manifest(root).get(chapter.name, {})
    return record.get("copy") != _hash(copy)


def _write(chapter, root, manifest):
    copy = working_copy(chapter, root)
    copy.parent.mkdir(parents=True, exist_ok=True)
    tmp = copy.with_suffix(".tmp")
    shutil.copyfile(chapter, tmp)
    os.replace(tmp, copy)
    manifest[chapter.name] = {"copy": _hash(copy), "shipped": _hash(chapter)}


def sync(names=None, root=None, log=print) -> list[Path]:
    """Create missing working copies and refresh untouched ones whose shipped chapter changed. A copy with
    edits is never overwritten: it is named in a notice (``tinynn-book reset`` replaces it)."""
    root = Path(root) if root else find_root()
    todo = [resolve(n, root) for n in names] if names else chapters(root)
    manifest = _manifest(root)
    for extra in ("intro.md",):
        src = root / "chapters" / extra
        if src.is_file() and not (_work(root) / extra).exists():
            _work(root).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, _work(root) / extra)
    written = []
    for chapter in todo:
        copy = working_copy(chapter, root)
        record = manifest.get(chapter.name, {})
        if not copy.exists():
            _write(chapter, root, manifest)
            written.append(copy)
        elif record.get("shipped") != _hash(chapter):
            if edited(chapter, root) or not record:
                log(f"note: {chapter.name} changed in the book, and your copy {copy.relative_to(root)} has "
                    f"your edits: kept as it is (`tinynn-book reset {chapter.stem}` replaces it).")
            else:
                _write(chapter, root, manifest)
                written.append(copy)
    _save_manifest(root, manifest)
    return written


def reset(names=None, root=None, confirm=None, log=print) -> list[Path]:
    """Replace working copies by the shipped chapters. An edited copy is replaced only when
    ``confirm(copy)`` says yes; it is first saved as ``my-chapters/.backup/NAME-TIME.ipynb``."""
    root = Path(root) if root else find_root()
    todo = [resolve(n, root) for n in names] if names else chapters(root)
    manifest = _manifest(root)
    done = []
    for chapter in todo:
        copy = working_copy(chapter, root)
        if edited(chapter, root):
            if confirm is None or not confirm(copy):
                log(f"kept {copy.relative_to(root)} (it has changes: your edits, or the outputs of a run).")
                continue
            backup = _work(root) / ".backup" / f"{chapter.stem}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copy, backup)
            log(f"your version of {chapter.name} is saved as {backup.relative_to(root)}")
        _write(chapter, root, manifest)
        done.append(copy)
        log(f"reset {copy.relative_to(root)} from {chapter.relative_to(root)}")
    _save_manifest(root, manifest)
    return done

