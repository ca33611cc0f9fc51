"""The command group, its error handling, and options shared by several commands."""

from __future__ import annotations

import errno
import io
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import store
from ..config import DEFAULT_DB, resolve_settings, setting
from ..errors import RlmGraphError

if TYPE_CHECKING:
    import sqlite_utils  # annotations only: sqlite-utils imports pandas when it is imported

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "cli",
    "database_file",
    "db_option",
    "echo_json",
    "json_option",
    "open_database",
    "progress_bar",
    "random_seed_option",
    "setting_option",
]


_DEBUG_ENV: str = setting("debug").env or "RLMLLM_DEBUG"


class _Group(click.Group):
    """A click group whose every failure is one line on stderr with the right exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        kwargs["standalone_mode"] = False
        debug = bool(os.environ.get(_DEBUG_ENV))
        try:
            rv = super().main(*args, **kwargs)
        except click.UsageError as e:
            cmd = e.ctx.command_path if e.ctx else "rlmllm-graph"
            _fail(f"{e.format_message()} (see '{cmd} --help')", 2)
        except click.ClickException as e:
            _fail(e.format_message(), e.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except RlmGraphError as e:
            if debug:
                raise
            _fail(str(e), e.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; what was already stored stays stored (run the command again to resume)", 130)
        except BrokenPipeError:
            sys.exit(0)
        except sqlite3.Error as e:
            if debug:
                raise
            _fail(f"database: {e}", 1)
        except OSError as e:  # a full disk, a read-only file system, no permission: the system's words
            if debug:
                raise
            if not e.errno:
                _fail(f"unexpected {type(e).__name__}: {e} (set {_DEBUG_ENV}=1 for a traceback)", 1)
            _fail(_os_error_message(e), 1)
        except Exception as e:  # the last resort: still one line, never a traceback
            if debug:
                raise
            _fail(f"unexpected {type(e).__name__}: {e} (set {_DEBUG_ENV}=1 for a traceback)", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


#: errno values that mean the output could not be written, whatever the file
_WRITE_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS") if hasattr(errno, name)
)


def _os_error_message(e: OSError) -> str:
    """``cannot write: No space left on device (out.csv)`` — the system's words, without "unexpected"."""
    reason = e.strerror or os.strerror(e.errno or 0)
    where = f" ({e.filename})" if e.filename else ""
    if e.errno in _WRITE_ERRNOS:
        _quiet_stdout()
        return f"cannot write: {reason}{where}"
    return f"{e.filename}: {reason}" if e.filename else reason


def _quiet_stdout() -> None:
    """Output to a full device still sits in stdout's buffer; drop it so exit does not fail a second time."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, sys.stdout.fileno())
            os.close(fd)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass


def _fail(message: str, code: int) -> None:
    message = " ".join(str(message).split())  # one line, whatever the library said
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rlmllm-graph")
def cli() -> None:
    """Track RL-based reasoning in multimodal LLMs: crawl the citation graph of the
    Reinforced MLLM survey (arXiv 2504.21277), classify every paper by the
    survey's taxonomy, and analyse, chart and explore it.

    \b
    Typical session:
      rlmllm-graph refresh                 # crawl Semantic Scholar into data/rlmllm.db
      rlmllm-graph classify                # tag papers (algorithm, reward, modality, ...)
      rlmllm-graph stats                   # what is in the database
      rlmllm-graph report --out site/      # static site: trends, graph explorer, tables

    The database is data/rlmllm.db unless --db or RLMLLM_DB says otherwise.
    """


def setting_option(name: str, *param_decls: str, **kwargs: Any) -> Callable[[F], F]:
    """A click option for the setting ``name`` of :data:`~rlmllm_graph.config.SETTINGS`: its option name,
    default, environment variable and help come from there (``kwargs`` add to or override them)."""
    s = setting(name)
    help_text = s.help.removesuffix(".") + (f" (env {s.env})." if s.env else ".")
    opts: dict[str, Any] = {"default": s.default, "show_default": s.default is not None, "envvar": s.env,
                            "help": help_text, **kwargs}
    if opts.get("multiple") and opts["default"] is not None:
        opts["default"] = (opts["default"],)
    return click.option(*(param_decls or (s.option,)), **opts)


def db_option(f: F) -> F:
    return setting_option("db", "--db", "db_path", type=click.Path(dir_okay=False))(f)


def random_seed_option(f: F) -> F:
    """``--seed N``: the seed of the graph layout and community detection."""
    return setting_option("random_seed", "--seed", "seed", type=click.IntRange(min=0))(f)


def database_file(db_path: str | os.PathLike[str] | None) -> str:
    """The database a command's ``--db`` value names (None: RLMLLM_DB or the default): what output must spare."""
    return str(resolve_settings(db=os.fspath(db_path) if db_path is not None else None, api=False).db)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts.")(f)


def open_database(db_path: str, *, create: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open the database for a command; the default location's folder is created on first use."""
    settings = resolve_settings(db=db_path, api=False)
    path = Path(settings.db)
    if create and not readonly and settings.db == DEFAULT_DB and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    db = store.open_db(path, create=create, readonly=readonly, busy_timeout_ms=settings.busy_timeout_ms)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(db.conn.close)
    return db


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int, current_item: object = None) -> None:
        return None


def progress_bar(length: int, label: str, *, show_pos: bool = False) -> Any:
    """A progress bar on stderr; silent when stderr is not a terminal (scripts, CI, tests)."""
    if not sys.stderr.isatty():
        return _NoBar()
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=show_pos, show_percent=True)
