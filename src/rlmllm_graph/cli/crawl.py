"""``refresh``: crawl the Semantic Scholar citation neighbourhood of the seeds into the database."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

import click

from ..config import DEFAULT_API_URL, EXPAND_CHOICES, resolve_settings, setting
from ..records import normalise_paper_id
from .common import cli, db_option, echo_json, json_option, open_database, progress_bar, setting_option

if TYPE_CHECKING:
    from ..crawl import CrawlProgress


class _Seconds(click.ParamType):
    """A finite number of seconds, at least ``low`` (above it with ``open``): no inf, no nan."""

    name = "seconds"

    def __init__(self, low: float = 0.0, *, open: bool = False) -> None:  # noqa: A002
        self.low, self.open = low, open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float) and math.isfinite(value):
            x = value
        else:
            try:
                x = float(str(value).strip())
            except ValueError:
                x = math.nan
        ok = math.isfinite(x) and (x > self.low if self.open else x >= self.low)
        if not ok:
            bound = f"above {self.low:g}" if self.open else f"at least {self.low:g}"
            where = ""
            if ctx is not None and param is not None and param.name is not None and param.envvar:
                if ctx.get_parameter_source(param.name) == click.core.ParameterSource.ENVIRONMENT:
                    where = f" (from {param.envvar})"
            self.fail(f"{value!r}{where} is not a finite number of seconds {bound}", param, ctx)
        return x


@cli.command()
@setting_option("seed", "--seed", "seeds", multiple=True, metavar="ID")
@setting_option("depth", type=click.IntRange(min=0))
@db_option
# no envvar here: resolve_settings reads S2_API_URL itself, to refuse one that is set but blank
@setting_option("api_url", default=None, envvar=None, metavar="URL",
                help=f"{setting('api_url').help.removesuffix('.')} (env {setting('api_url').env}; default {DEFAULT_API_URL}).")
@setting_option("max_papers", type=click.IntRange(min=1))
@setting_option("expand", type=click.Choice(EXPAND_CHOICES))
@json_option
@setting_option("pace", type=_Seconds(0))
@setting_option("backoff", type=_Seconds(0), hidden=True)
@setting_option("timeout", type=_Seconds(0, open=True), hidden=True)
def refresh(
    seeds: tuple[str, ...], depth: int, db_path: str, api_url: str, max_papers: int, expand: str, as_json: bool,
    pace: float | None, backoff: float, timeout: float,
) -> None:
    """Crawl the citation neighbourhood of the seeds from Semantic Scholar into the database.

    Depth 1 stores the seeds, every paper they cite, every paper citing them,
    and every citation edge among all of these. It uses the batch endpoint
    (500 papers a request) and pages of 1,000, retries throttled or failed
    requests, and prints the number of requests it made. A crawl that is
    interrupted resumes where it stopped when run again; on a database that
    already holds the crawl, it fetches what may have changed (new citers,
    new edges, updated metadata).

    Set S2_API_KEY (sent as x-api-key, never stored) for the keyed rate limit
    of 1 request/s; without a key requests are spaced 3 s apart.

    \b
    Examples:
      rlmllm-graph refresh                                  # the Reinforced MLLM survey, depth 1
      rlmllm-graph refresh --seed ARXIV:2503.06749 --seed ARXIV:2504.21277
      rlmllm-graph refresh --depth 2 --max-papers 5000 --expand core
      S2_API_KEY=... rlmllm-graph refresh --json | jq .requests
    """
    from ..crawl import crawl
    from ..sources import S2Client

    seeds = tuple(normalise_paper_id(s) for s in seeds)  # a bad id is a usage error before anything opens
    # a bad --api-url, S2_API_URL, S2_API_KEY or --pace is a usage error before the database is touched
    settings = resolve_settings(db=db_path, api_url=api_url)
    client = S2Client(
        settings.api_url, api_key=settings.api_key, pace=pace, backoff=backoff, timeout=timeout,
    )
    ctx = click.get_current_context()
    ctx.call_on_close(client.close)
    db = open_database(db_path)
    with progress_bar(1, "Crawling") as bar:
        bar.item_show_func = lambda s: s
        done = [0]

        def show(ev: CrawlProgress) -> None:
            bar.length = max(ev.estimated_requests, ev.requests + (ev.phase != "done"), 1)
            text = f"{ev.requests} requests, {ev.papers} papers, {ev.edges} edges"
            if ev.requests > done[0]:
                bar.update(ev.requests - done[0], text)
            else:  # no new request (e.g. the end): redraw with the new total
                bar.current_item = text
                getattr(bar, "render_progress", lambda: None)()
            done[0] = ev.requests

        report = crawl(
            client, db, seeds=seeds, depth=depth, max_papers=max_papers, expand=expand,
            api_url=settings.api_url, progress=show if sys.stderr.isatty() else None,
        )
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(report.summary())
