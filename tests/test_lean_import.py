"""The read path never imports the training stack.

A fresh interpreter blocks tensorflow, keras, matplotlib, scikit-learn and torch with a
meta-path finder that raises ImportError, then imports anpr, reads a real photo and runs
``anpr read-plate``. Any import of those modules on the way fails the read, and the
script also checks none of them slipped into ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import DATA, SAMPLES

BLOCKED = ("tensorflow", "keras", "matplotlib", "sklearn", "torch", "tf2onnx", "onnx")

SCRIPT = textwrap.dedent(
    """
    import json, sys

    BLOCKED = set(json.loads(sys.argv[1]))

    class Block:
        # A finder that refuses the training stack, so importing it is an error
        # that the read path cannot swallow unnoticed.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked on the read path")
            return None

    sys.meta_path.insert(0, Block())

    import anpr
    reader = anpr.PlateReader()
    plates = reader.read(sys.argv[2])

    from anpr.cli import main
    try:
        main(["read-plate", sys.argv[2]], standalone_mode=False)
    except SystemExit as exc:
        if exc.code:
            raise

    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print("RESULT " + json.dumps({"loaded": loaded, "plates": [p.text for p in plates]}))
    """
)


def _photo() -> Path:
    """A real sample photo: the repository's samples/ first, else a data scene."""
    for folder in (SAMPLES, DATA / "scenes" / "us"):
        photos = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
        if photos:
            return photos[0]
    pytest.skip("no sample photo (samples/ and ../shared/data are both missing)")


def test_read_path_never_imports_training_stack():
    photo = _photo()
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(BLOCKED), str(photo)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT "):])
    assert result["loaded"] == []
    assert isinstance(result["plates"], list)


def test_blocker_really_blocks():
    # Guard against a finder that blocks nothing (the test above would pass vacuously).
    code = SCRIPT.split("import anpr")[0] + "import sklearn\n"
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(BLOCKED), "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "blocked on the read path" in out.stderr
