"""The ``rlmllm-graph`` command line: a thin layer over the library.

Each command parses its options, calls one library function and renders the
result. Errors from the library become one line on stderr and an exit code
(1 run-time failure, 2 usage error or bad input), never a traceback.
Commands live in one module per group and register themselves on :data:`cli`.
"""

from __future__ import annotations

from .common import cli

# Importing the command modules registers their commands on ``cli``.
from . import data  # noqa: E402,F401
from . import crawl  # noqa: E402,F401
from . import classify  # noqa: E402,F401
from . import analysis  # noqa: E402,F401
from . import site  # noqa: E402,F401
from . import export  # noqa: E402,F401
from . import changes  # noqa: E402,F401
from . import fulltext  # noqa: E402,F401

__all__ = ["cli"]
