"""A small labelled corpus for the site, serve and browser tests (with XSS payloads in its text)."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from rlmllm_graph import ingest, store

XSS_TITLE = 'XSS title <script>window.__xss = "title"; alert(1)</script> & </script><b>bold</b>'
XSS_VENUE = '<img src=x onerror="window.__xss=\'venue\'">Venue'
XSS_ABSTRACT = 'Abstract <svg onload="window.__xss=\'abstract\'"></svg> \u2028 line sep'
XSS_AUTHOR = '<img src=y onerror="window.__xss=\'author\'">Mallory'
XSS_WHERE = '4 Method <img src=w onerror="window.__xss=\'where\'">'
XSS_EVIDENCE = '"><script>window.__xss="evidence"</script><img src=z onerror=window.__xss="ev2">'

TOPICS = ["Visual GRPO", "Video reasoning", "Audio RL", "Medical VQA", "GUI agent", "3D scenes", "Math vision"]


def pid(i: int) -> str:
    return hashlib.sha1(f"site-test-{i}".encode()).hexdigest()


def make_records(n: int = 60, *, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    recs = []
    for i in range(n):
        year = 2019 + (i * 7) // n
        month = 1 + (i * 5) % 12
        title = f"{TOPICS[i % len(TOPICS)]} paper number {i}: reinforcement learning for multimodal reasoning"
        refs = sorted({rng.randrange(0, i) for _ in range(min(i, rng.randint(1, 3)))}) if i else []
        recs.append(
            {
                "paperId": pid(i),
                "externalIds": {"ArXiv": f"25{i // 100:02d}.{i:05d}"},
                "title": XSS_TITLE if i == 3 else title,
                "abstract": XSS_ABSTRACT if i == 3 else f"We train model {i} with GRPO on images and videos.",
                "year": year,
                "publicationDate": f"{year}-{month:02d}-01",
                "venue": XSS_VENUE if i == 3 else ("CVPR" if i % 2 else "arXiv.org"),
                "citationCount": (n - i) * 3,
                "authors": [
                    {"authorId": f"a{i}", "name": XSS_AUTHOR if i == 3 else f"Author {i}"},
                    {"authorId": f"b{i % 5}", "name": f"Coauthor {i % 5}"},
                ],
                "references": [{"paperId": pid(j)} for j in refs],
            }
        )
    return recs


def make_labels(n: int = 60) -> list[dict]:
    rows = []
    mods = ["image", "video", "audio", "3d"]
    algs = ["grpo", "ppo", "dpo"]
    for i in range(n):
        rel = "core" if i % 3 == 0 else ("related" if i % 3 == 1 else "other")
        rows.append(dict(paper_id=pid(i), facet="relevance", value=rel, confidence=0.9, source="rules",
                         evidence=XSS_EVIDENCE if i == 3 else f"reinforcement learning for multimodal {i}"))
        if rel != "other":
            rows.append(dict(paper_id=pid(i), facet="modality", value=mods[i % 4], confidence=0.8, source="rules",
                             evidence="on images and videos"))
            rows.append(dict(paper_id=pid(i), facet="algorithm", value=algs[i % 3], confidence=0.95, source="model",
                             evidence="with GRPO"))
            rows.append(dict(paper_id=pid(i), facet="reward", value="rule", confidence=0.7, source="rules", evidence=None))
        if rel == "core":
            rows.append(dict(paper_id=pid(i), facet="strategy", value="sft+rl" if i % 2 else "rl", confidence=0.6,
                             source="manual", evidence=None))
            rows.append(dict(paper_id=pid(i), facet="application", value="math" if i % 2 else "general",
                             confidence=0.6, source="rules", evidence="for math"))
    return rows


def fill_db(db, tmp_path: Path, *, n: int = 60) -> None:
    path = tmp_path / "site_corpus.jsonl"
    with path.open("w") as fh:
        for r in make_records(n):
            fh.write(json.dumps(r) + "\n")
    ingest.import_files(db, [path])
    with store.transaction(db):
        store.insert_labels(db, make_labels(n))
        # where each label's evidence came from (m005): the title, the abstract, a section; a payload for paper 3
        db.conn.execute("UPDATE labels SET evidence_source = CASE WHEN source = 'manual' THEN 'manual' "
                        "WHEN facet = 'algorithm' THEN '3.1 Training recipe' ELSE 'abstract' END")
        db.conn.execute("UPDATE labels SET evidence_source = ? WHERE paper_id = ? AND facet = 'relevance'",
                        [XSS_WHERE, pid(3)])
