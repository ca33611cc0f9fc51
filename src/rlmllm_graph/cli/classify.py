"""``classify`` and ``label``: tag papers by the survey's taxonomy, and correct them by hand."""

from __future__ import annotations

import gzip
import io
import json
import sys
import zlib
from pathlib import Path
from typing import IO, Any

import click

from .. import classify as clf
from .. import output, store
from ..errors import BadInput
from ..records import papers_count
from .common import cli, database_file, db_option, echo_json, json_option, open_database, progress_bar


def _open_text(path: str) -> IO[str]:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
    if not path:
        raise click.UsageError("an empty file name")
    p = Path(path)
    if not p.exists():
        raise click.UsageError(f"{path}: no such file")
    if p.is_dir():
        raise click.UsageError(f"{path} is a folder, not a JSONL file")
    if p.suffix == ".gz":
        return gzip.open(p, "rt", encoding="utf-8")
    return p.open(encoding="utf-8")


def _read_lines(path: str) -> list[str]:
    try:
        with _open_text(path) as fh:
            return list(fh)
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    except (OSError, EOFError, zlib.error) as e:
        raise BadInput(f"{path}: cannot read ({e})") from None



def _values(values: list[str]) -> str:
    return ",".join(values) if values else "none"


def _render_evaluation(ev: clf.Evaluation) -> None:
    scored = "the labels given" if ev.trained_on is None else f"classifier trained on {ev.trained_on} labelled papers"
    click.echo(
        f"{ev.kind}: {papers_count(ev.papers)} ({ev.with_abstract} with abstract, {ev.papers - ev.with_abstract} title "
        f"only); {scored}"
    )
    ours = "ours" if ev.trained_on is not None else "given"
    click.echo(f"{'facet':<12} {'metric':<9} {'papers':>6} {ours:>6} {'keyword':>8} {'target':>7}")
    ok = ev.meets_targets()
    for facet in clf.FACETS:
        o, b = ev.ours[facet], ev.baseline[facet]
        if not o.scored:
            click.echo(f"{facet:<12} {'-':<9} {0:>6}  not annotated in the gold file: not scored")
            continue
        target = clf.TARGETS[facet][1]
        mark = ("  met" if ok[facet] else "  not met") if facet in ok else ""
        shown = f"{target:>7.2f}" if target else f"{'-':>7}"
        thin = "  (few papers)" if o.papers < clf.MIN_PAPERS else ""
        click.echo(f"{facet:<12} {o.target_metric + '-F1':<9} {o.papers:>6} {o.headline:>6.3f} {b.headline:>8.3f} "
                   f"{shown}{mark}{thin}")
    click.echo("")
    click.echo(f"{'facet':<12} {'value':<11} {'P':>5} {'R':>5} {'F1':>5}   {'keyword F1':>10} {'support':>8}")
    for facet in clf.FACETS:
        o, b = ev.ours[facet], ev.baseline[facet]
        if not o.scored:
            continue
        for v, d in o.values.items():
            if not d["support"] and not d["predicted"] and not b.values[v]["predicted"]:
                continue
            click.echo(
                f"{facet:<12} {v:<11} {d['precision']:>5.2f} {d['recall']:>5.2f} {d['f1']:>5.2f}   "
                f"{b.values[v]['f1']:>10.2f} {d['support']:>8}"
            )
    if ev.warnings:
        click.echo("")
    for warning in ev.warnings:
        click.echo(f"warning: {warning}")
    by_paper: dict[str, list[dict[str, Any]]] = {}
    for e in ev.errors:
        by_paper.setdefault(e["paper_id"], []).append(e)
    click.echo("")
    if not by_paper:
        click.echo(f"Wrong: none of the {papers_count(ev.papers)}.")
    else:
        click.echo(f"Wrong: {papers_count(len(by_paper))} of {ev.papers} ({len(ev.errors)} facet"
                   f"{'' if len(ev.errors) == 1 else 's'}; gold → {ours}):")
    for pid, errs in by_paper.items():
        title = " ".join(str(errs[0]["title"] or "(untitled)").split())
        click.echo(f"  {pid}  {title[:70] + ('…' if len(title) > 70 else '')}")
        click.echo("      " + "; ".join(f"{e['facet']}: {_values(e['gold'])} → {_values(e['predicted'])}"
                                        for e in errs))
    for note in ev.notes:
        click.echo(f"\nnote: {note}")


def _show_review(items: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("Nothing to review: no classified paper without a manual relevance label "
                   "(run `rlmllm-graph classify` first).")
        return
    click.echo(f"{len(items)} paper{'' if len(items) == 1 else 's'}, least certain first; fix a wrong label with "
               "`rlmllm-graph label ID FACET=VALUE...` (manual labels always win).")
    for it in items:
        ident = f"ARXIV:{it['arxiv_id']}" if it["arxiv_id"] else it["paper_id"]
        rel = ",".join(x["value"] for x in it["labels"].get("relevance", []))
        note = "  [title only]" if it["title_only"] else ""
        conf = "  -  " if it["confidence"] is None else f"{it['confidence']:.2f}"
        click.echo(f"\n{conf}  {rel:<8} {ident}  {it['title'] or '(untitled)'}{note}")
        rest = [
            f"{facet}=" + ",".join(f"{x['value']}({x['confidence']:.2f})" if x["confidence"] is not None
                                   else x["value"] for x in values)
            for facet, values in it["labels"].items() if facet != "relevance"
        ]
        if rest:
            click.echo("      " + "  ".join(rest))


@cli.command()
@db_option
@click.option("--input", "input_path", metavar="IN.jsonl",
              help="File mode: classify these papers (JSONL, .gz or '-' for stdin) without a database.")
@click.option("--output", "output_path", metavar="OUT.jsonl",
              help="File mode: where to write the labels (default: stdout).")
@click.option("--evaluate", "gold_path", metavar="GOLD.jsonl",
              help="Score the classifier on gold labels beside the keyword baseline (trained without those papers).")
@click.option("--predictions", "predictions_path", metavar="LABELS.jsonl",
              help="With --evaluate: score these labels (another labeller's, or a `classify --output` file; "
                   "that one is held-out only for gold papers it was not trained on) instead of the classifier.")
@click.option("--cross-validate", "cv", is_flag=True,
              help="k-fold cross-validation on the labelled papers it trains on, beside the keyword baseline.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20), help="Folds for --cross-validate.")
@click.option("--force", is_flag=True, help="Re-classify every paper, not only those whose text changed.")
@click.option("--review", "review", type=int, metavar="N",
              help="List the N classified papers whose relevance is least certain, to check and fix with `label`.")
@json_option
def classify(db_path: str, input_path: str | None, output_path: str | None, gold_path: str | None,
             predictions_path: str | None, cv: bool, folds: int, force: bool, review: int | None,
             as_json: bool) -> None:
    """Tag papers by the survey's taxonomy (relevance, modality, algorithm,
    paradigm, reward, strategy, application), each label with a confidence and
    the phrase or sentence that justifies it.

    With no file option, classifies the papers of the database, skipping those
    whose title, abstract and stored full text have not changed since they were
    last classified. A paper with full text (see `fulltext`) gets its algorithm,
    paradigm, reward and strategy from what its method, training and appendix
    sections say it used, not from what its introduction or related work only
    mention; every label records where its evidence came from. Manual labels
    (see `label`) are never overwritten.

    \b
    Examples:
      rlmllm-graph classify                                  # the database
      rlmllm-graph classify --input papers.jsonl --output labels.jsonl
      rlmllm-graph classify --evaluate gold.jsonl            # trained without the gold papers
      rlmllm-graph classify --evaluate gold.jsonl --predictions theirs.jsonl   # another labeller, scored the same way
      rlmllm-graph classify --cross-validate --json
      rlmllm-graph classify --review 20                     # least certain first, to fix with `label`

    \b
    --input lines:  {"paper_id": "...", "title": "...", "abstract": "..." or null,
                     "sections": [{"title": "3 Method", "text": "..."}, ...] (optional)}
    --output lines: {"paper_id", "labels": {facet: [values]}, "confidence": {facet: {value: p}},
                     "evidence": {facet: {value: "sentence"}},
                     "evidence_source": {facet: {value: "title" | "abstract" | section title}}}
    --evaluate lines: {"paper_id", "title", "abstract", "gold": {facet: [values]}}
                      (a facet given as [] means none applies; a facet left out is not scored for that paper)
    """
    modes = [m for m, on in (("--input", input_path is not None), ("--evaluate", gold_path is not None),
                             ("--cross-validate", cv), ("--review", review is not None)) if on]
    if force and modes:
        modes.append("--force")
    if len(modes) > 1:
        raise click.UsageError(f"{' and '.join(modes)} cannot be used together")
    if output_path is not None and input_path is None:
        raise click.UsageError("--output needs --input")
    if predictions_path is not None and gold_path is None:
        raise click.UsageError("--predictions needs --evaluate")
    if predictions_path == "-" and gold_path == "-":
        raise click.UsageError("--evaluate and --predictions cannot both read standard input ('-')")
    if input_path is not None:
        protect = database_file(db_path)
        out = output.check_output_file("-" if output_path is None else output_path, protect=protect,
                                       option="--output")
        records = clf.read_records(_read_lines(input_path), source=input_path)
        results = clf.predict_labels(records, workers=None)
        if out is None:
            for r in results:
                click.echo(json.dumps(r, ensure_ascii=False))
            return
        with output.open_text(out, protect=protect) as fh:
            for r in results:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        summary = {"papers": len(results), "output": str(out)}
        if as_json:
            echo_json(summary)
        else:
            click.echo(f"Classified {len(results)} papers into {out}", err=True)
        return
    if gold_path is not None or cv:
        if gold_path is not None:
            gold = clf.read_gold(_read_lines(gold_path), source=gold_path)
            if not gold:
                raise BadInput(f"{gold_path}: no gold papers")
            if predictions_path is not None:
                given = clf.read_labelled(_read_lines(predictions_path), source=predictions_path)
                ev = clf.evaluate_labels(gold, given, source=predictions_path, gold_source=gold_path)
            else:
                ev = clf.evaluate_gold(gold, gold_source=gold_path)
        else:
            ev = clf.cross_validate(folds=folds)
        if as_json:
            echo_json(ev.as_dict())
        else:
            _render_evaluation(ev)
        return
    if review is not None:
        _show_review(clf.review_queue(open_database(db_path, create=False, readonly=True), limit=review), as_json)
        return
    db = open_database(db_path, create=False)
    total = store.paper_count(db)
    with progress_bar(total, "Classifying") as bar:
        report = clf.classify_database(db, progress=bar.update, force=force)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(
        f"Classified {report.classified} of {report.papers} papers ({report.unchanged} unchanged, skipped; "
        f"{report.title_only} of the classified have no abstract, {report.with_full_text} have full text); "
        f"{report.labels_written} labels written"
        + (f"; {report.kept_manual} held back where manual labels win" if report.kept_manual else "")
        + (f"; {report.no_text} with neither title nor abstract got no labels" if report.no_text else "")
    )
    rel = report.counts.get("relevance", {})
    if rel:
        click.echo("relevance   " + ", ".join(f"{v} {n}" for v, n in sorted(rel.items(), key=lambda kv: -kv[1])))


@cli.command()
@click.argument("paper_id")
@click.argument("assignments", nargs=-1, required=True, metavar="FACET=VALUE...")
@db_option
@json_option
def label(paper_id: str, assignments: tuple[str, ...], db_path: str, as_json: bool) -> None:
    """Set a paper's labels by hand. A manual label replaces every label of its
    facet on that paper and always wins over the classifier (`classify` never
    overwrites it). Several values: repeat the facet or separate with commas;
    FACET=none sets a facet to nothing (modality=none: text only).

    \b
    Facets and values:
      relevance    core | related | other          (exactly one)
      modality     image, video, audio, 3d
      algorithm    grpo, ppo, dpo, rloo, reinforce, opmd, other
      paradigm     value-free, value-based
      reward       rule, model, process
      strategy     rl | sft+rl                     (one)
      application  general, math, medical, gui-agent, spatial, perception, generation, other

    \b
    Examples:
      rlmllm-graph label ARXIV:2503.06749 relevance=core modality=image algorithm=grpo
      rlmllm-graph label 2504.21277 relevance=related modality=image,video,audio
      rlmllm-graph label 2501.12948 relevance=related modality=none
    """
    labels = clf.parse_assignments(assignments)
    db = open_database(db_path, create=False)
    result: dict[str, Any] = clf.label_paper(db, paper_id, labels)
    if as_json:
        echo_json(result)
        return
    shown = "; ".join(f"{f}={','.join(v) or 'none'}" for f, v in result["labels"].items())
    click.echo(f"Labelled {result['paper_id']} ({result['title'] or 'untitled'}): {shown} (manual)")
