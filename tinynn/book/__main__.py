"""``python -m tinynn.book``: the ``tinynn-book`` command (see :mod:`tinynn.book.cli`)."""
import sys

from tinynn.book.cli import main

sys.exit(main())
