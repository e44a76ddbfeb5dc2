"""A Sphinx extension for the HTML book: MathJax served from the build itself, never from a CDN.

MathJax 3 comes from the PyPI package ``django-static-mathjax`` (the official MathJax release files, nothing
Django-specific is used). The extension copies its ``es5`` folder (the one combined component the book loads,
plus the fonts, input extensions and menu it loads on demand) into ``_build/html/_static/mathjax/`` and points
Sphinx's ``mathjax_path`` there, so an offline classroom sees rendered formulas. Enabled by ``_config.yml``
(``sphinx: extra_extensions``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

ENTRY = "tex-mml-chtml.js"   # Sphinx's default MathJax 3 component
TARGET = "mathjax"           # under _static/


def mathjax_folder() -> Path:
    """The ``es5`` folder of the installed MathJax package."""
    try:
        import mathjax  # noqa: PLC0415 - django-static-mathjax
    except ImportError as err:
        raise RuntimeError("the HTML book serves MathJax itself: pip install django-static-mathjax "
                           "(it is in tinynn's `book` extra; `make install` installs it).") from err
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (folder / ENTRY).is_file():
        raise RuntimeError(f"{folder / ENTRY} is missing: reinstall django-static-mathjax.")
    return folder


def _skip_other_bundles(src):
    """Only the entry component among the top-level bundles (the others are alternatives, ~15 MB)."""
    def ignore(folder, names):
        if Path(folder) != src:
            return []
        return [n for n in names if n.endswith(".js") and n != ENTRY]
    return ignore


def _config_inited(app, config):
    config.mathjax_path = f"{TARGET}/{ENTRY}"


def _builder_inited(app):
    if app.builder.format != "html":
        return
    src = mathjax_folder()
    dest = Path(app.outdir) / "_static" / TARGET
    if not (dest / ENTRY).is_file():
        shutil.copytree(src, dest, ignore=_skip_other_bundles(src), dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
