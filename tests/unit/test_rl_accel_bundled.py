"""reportlab's C accelerator is what reportlab uses here, and the bundle names its module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_reportlab_runs_on_its_c_accelerator() -> None:
    from reportlab.lib import rl_accel

    # Pure Python ASCII85 took a fifth of the time of a case file of screenshots.
    assert rl_accel.asciiBase85Encode.__module__ == "_rl_accel"
    assert rl_accel.fp_str.__module__ == "_rl_accel"


def test_the_windows_bundle_names_the_accelerator_module_reportlab_imports() -> None:
    import importlib.util

    spec = (ROOT / "build.spec").read_text(encoding="utf-8")
    tree = ast.parse(spec)
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert "_rl_accel" in strings
    assert importlib.util.find_spec("_rl_accel") is not None
    assert importlib.util.find_spec("rl_accel") is None  # not a module: would be skipped
