"""Build hook: ship the hand labels inside the package.

The classifier trains on ``data/labels/*.jsonl`` on first use. In a source
checkout (and an editable install) it finds them at the top of the tree; an
installed wheel has no tree, so the build copies them to
``rlmllm_graph/data/labels``, the first place :func:`rlmllm_graph.classify.labels_dir`
looks after ``$RLMLLM_LABELS``. Everything else is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LABELS = Path(__file__).resolve().parent / "data" / "labels"


class build_py_with_labels(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False) or not LABELS.is_dir():
            return
        target = Path(self.build_lib) / "rlmllm_graph" / "data" / "labels"
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(LABELS.iterdir()):
            if path.suffix in (".jsonl", ".md"):
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": build_py_with_labels})
