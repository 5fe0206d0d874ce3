"""Every runtime dependency installs on the school's Windows PC (CPython 3.11, 64-bit).

The check resolves the pinned set for win_amd64 from the package index (one pip call,
``--no-deps`` over the full locked set, wheels cached in ``.cache/wheels``); without a
network it checks the pins against the checked-in lock instead. A dependency that drops
its Windows wheel, or a pin changed without the lock, fails here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_lock_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "windows_lock", ROOT / "installer" / "windows_lock.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["windows_lock"] = module
    spec.loader.exec_module(module)
    return module


lock_tool = load_lock_tool()


# pip resolves the whole pinned set against the package index (about 40 s): CI's job,
# where a changed pin is checked; the offline and failing checks below stay in every run.
@pytest.mark.slow
def test_the_pinned_set_resolves_to_windows_wheels() -> None:
    how = lock_tool.check()
    print(f"\nWindows dependency check: {how}")
    assert "win_amd64" in how or "could not be reached" in how


def test_without_the_index_the_lock_is_checked_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 9: pip meets a refused connection, as on a machine offline.
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(ROOT / "installer"))  # no wheels there
    monkeypatch.setenv("PIP_RETRIES", "0")
    how = lock_tool.check(cache=ROOT / ".cache" / "wheels" / "empty-offline-test")
    assert how.startswith("the package index could not be reached; checked the pins against")


def test_a_linux_only_pin_fails_the_check(tmp_path: Path) -> None:
    """Today's failure: sqlcipher3-binary publishes Linux wheels only."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lines = [
        line
        for line in pyproject.splitlines()
        if "sqlcipher3" not in line or not line.strip().startswith('"')
    ]
    index = next(i for i, line in enumerate(lines) if line.strip() == "dependencies = [")
    lines.insert(index + 1, '    "sqlcipher3-binary==0.6.0",')
    old = tmp_path / "pyproject.toml"
    old.write_text("\n".join(lines), encoding="utf-8")
    pins = lock_tool.windows_pins(old)
    with pytest.raises(lock_tool.LockProblem, match=r"sqlcipher3-binary==0.6.0 is not in"):
        lock_tool.check_pins_against_lock(pins, lock_tool.read_lock())


def test_a_wheel_for_another_system_in_the_lock_fails_the_check(tmp_path: Path) -> None:
    text = lock_tool.LOCK.read_text(encoding="utf-8")
    swapped = tmp_path / "requirements-windows.txt"
    swapped.write_text(
        text.replace(
            "sqlcipher3-0.6.3-cp311-cp311-win_amd64.whl",
            "sqlcipher3-0.6.3-cp311-cp311-manylinux_2_28_x86_64.whl",
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        lock_tool.LockProblem, match=r"is not a wheel for CPython 3\.11 on win_amd64"
    ):
        lock_tool.check_pins_against_lock(lock_tool.windows_pins(), lock_tool.read_lock(swapped))


@pytest.mark.slow
def test_the_pinned_set_resolves_to_macos_wheels(tmp_path: Path) -> None:
    # Apple-silicon Macs only: cryptography stopped publishing Intel-Mac wheels after 48.0.1;
    # pikepdf 10.18.0's Mac wheels need macOS 15 (Sequoia) or later.
    lock_tool.resolve_for_macos("macosx_15_0_arm64", tmp_path)
    assert any("sqlcipher3-0.6.3" in wheel.name for wheel in tmp_path.iterdir())
