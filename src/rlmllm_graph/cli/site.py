"""Commands of the site group: ``report`` (static site) and ``serve`` (the same pages, live)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    cli,
    database_file,
    db_option,
    echo_json,
    json_option,
    open_database,
    random_seed_option,
    setting_option,
)


@cli.command()
@db_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the site into (created if needed).",
)
@random_seed_option
@json_option
def report(db_path: str, out_dir: Path, seed: int, as_json: bool) -> None:
    """Build the static report site: overview, trends, graph explorer, papers, taxonomy table.

    Writes index.html, trends.html, graph.html, papers.html and table.html
    into OUT, with every script they need in OUT/assets (plotly.js, sigma.js):
    the site opens from file:// with no network, and can be copied anywhere.

    \b
    Examples:
      rlmllm-graph report --out site/
      xdg-open site/index.html            # or: open site/index.html (macOS)
      rlmllm-graph report --db data/rlmllm.db --out /tmp/site --json
    """
    from ..site import build_site

    db = open_database(db_path, create=False, readonly=True)
    result = build_site(db, out_dir, seed=seed, protect=database_file(db_path))
    if as_json:
        echo_json(result)
        return
    click.echo(
        f"Wrote {len(result['pages'])} pages and {len(result['assets'])} assets to {result['out']} "
        f"({result['papers']} papers, {result['edges']} citations) in {result['seconds']:.1f} s"
    )
    click.echo(f"Open {Path(result['out']) / 'index.html'} in a browser.")


@cli.command()
@db_option
@setting_option("host")
@setting_option("port", type=click.IntRange(0, 65535))
@random_seed_option
def serve(db_path: str, host: str, port: int, seed: int) -> None:
    """Serve the report site live from the database (read-only) until Ctrl-C.

    Pages are rebuilt when the database changes (a refresh or classify in
    another terminal shows up on the next page load). Also answers
    /api/search?q=WORDS (full-text search over titles and abstracts) and
    /api/paper/ID (one paper with authors and labels) as JSON.

    \b
    Examples:
      rlmllm-graph serve                       # http://127.0.0.1:8765/
      rlmllm-graph serve --port 9000 --db data/rlmllm.db
      curl 'http://127.0.0.1:8765/api/search?q=grpo+video'
    """
    from ..serve import make_server

    db = open_database(db_path, create=False, readonly=True)
    server = make_server(db, host=host, port=port, seed=seed)
    h, p = server.server_address[:2]
    click.echo(f"Serving {db_path} at http://{h}:{p}/ (read-only; Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
