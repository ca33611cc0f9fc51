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
    type=click.Path(path_type=Path),
    help="Folder to write the site into (created if needed).",
)
@click.option("--force", is_flag=True,
              help="Write into a folder that holds files an earlier report did not write (they are left alone).")
@random_seed_option
@json_option
def report(db_path: str, out_dir: Path, force: bool, seed: int, as_json: bool) -> None:
    """Build the static report site: overview, trends, graph explorer, papers, taxonomy table.

    Writes index.html, trends.html, graph.html, papers.html and table.html
    into OUT, the papers and the graph as packed data in OUT/data, and every
    script the pages need in OUT/assets: the site opens from file:// with no
    network, and can be copied anywhere. The explorer's layout is cached in
    the database until the graph changes, so a rebuild after a small refresh
    is quick. OUT must be empty or hold an earlier report (its list of files
    is OUT/.rlmllm-site.json); --force writes beside other files.

    \b
    Examples:
      rlmllm-graph report --out site/
      xdg-open site/index.html            # or: open site/index.html (macOS)
      rlmllm-graph report --db data/rlmllm.db --out /tmp/site --json
      rlmllm-graph report --out ~/public_html/rl --force   # a folder with other files in it
    """
    from ..site import build_site

    db = open_database(db_path, create=False, readonly=True)
    result = build_site(db, out_dir, seed=seed, force=force, protect=database_file(db_path))
    if as_json:
        echo_json(result)
        return
    click.echo(
        f"Wrote {len(result['pages'])} pages, {len(result['data'])} data files and {len(result['assets'])} assets "
        f"to {result['out']} ({result['papers']:,} papers, {result['edges']:,} citations, "
        f"{result['bytes'] / 1e6:.1f} MB; layout {result['layout']}) in {result['seconds']:.1f} s"
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
    another terminal shows up on the next page load). The pages hold ids and
    titles only; what they show comes from the database as JSON, so a big
    database is never sent whole: /api/papers?offset=&limit=&sort=&order=&q=
    (one page of the paper list), /api/paper/ID (one paper with authors and
    labels), /api/neighbours/ID (its citations in the corpus) and
    /api/search?q=WORDS (full-text search over titles and abstracts).

    \b
    Examples:
      rlmllm-graph serve                       # http://127.0.0.1:8765/
      rlmllm-graph serve --port 9000 --db data/rlmllm.db
      curl 'http://127.0.0.1:8765/api/search?q=grpo+video'
      curl 'http://127.0.0.1:8765/api/papers?limit=50&sort=citations&order=desc'
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
