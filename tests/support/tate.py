"""Where the real Tate sample (CC0, 300 works) lives: ``../shared/data/tate-sample`` beside the
project, as the brief puts it.

A clone made to check a change (``git clone . /tmp/x``) is not beside ``shared/``, so the sample is
also looked for beside the checkout the clone came from (its ``origin``), and ``TATE_SAMPLE`` may
name it outright. Tests that need it fail, naming where they looked, rather than skip.
"""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELATIVE = Path("shared") / "data" / "tate-sample"


def _origin_checkout() -> Path | None:
    try:
        url = subprocess.run(
            ["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        return None
    path = Path(url.removeprefix("file://"))
    return path if url and path.is_absolute() and path.is_dir() else None


def candidates() -> list[Path]:
    found = [Path(os.environ["TATE_SAMPLE"])] if os.environ.get("TATE_SAMPLE") else []
    found.append(ROOT.parent / RELATIVE)
    origin = _origin_checkout()
    if origin is not None:
        found.append(origin.resolve().parent / RELATIVE)
    return found


def tate_sample() -> Path:
    """The sample folder; raises FileNotFoundError naming every place it looked."""
    for path in candidates():
        if (path / "artwork_data.csv").is_file():
            return path
    looked = ", ".join(str(path) for path in candidates())
    raise FileNotFoundError(f"the Tate sample is not in any of: {looked} (set TATE_SAMPLE)")
