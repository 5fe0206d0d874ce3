"""The PyInstaller recipe makes one folder with two programs, and the windowed one copes
with having no console.

PyInstaller itself runs in the slow bundle test and on the Windows CI runner; here the
recipe (build.spec) is run with stand-ins for PyInstaller's four build steps that record
what they were asked to build, which is what this test is about.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]


class Recorded:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs


class Analysis(Recorded):
    def __init__(self, scripts: list[str], **kwargs: Any) -> None:
        super().__init__(scripts, **kwargs)
        hooks = [
            ("pyi_rth_inspect", "/pyinstaller/pyi_rth_inspect.py", "PYSOURCE"),
            ("pyi_rth_pyside6", "/pyinstaller/pyi_rth_pyside6.py", "PYSOURCE"),
            *((Path(h).stem, h, "PYSOURCE") for h in kwargs.get("runtime_hooks", [])),
        ]
        self.scripts = hooks + [(Path(s).stem, s, "PYSOURCE") for s in scripts]
        self.binaries: list[tuple[str, str, str]] = [
            ("Qt6WebEngineCore.dll", "x", "BINARY"),
            ("Qt6Core.dll", "x", "BINARY"),
        ]
        self.datas: list[tuple[str, str, str]] = []
        self.pure: list[Any] = []


class VersionPart(Recorded):
    """Stands in for each class of PyInstaller's version-resource text."""


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package: [f"{package}.cli"]  # type: ignore[attr-defined]
    hooks.copy_metadata = lambda package: [  # type: ignore[attr-defined]
        (f"/site-packages/{package}-1.0.dist-info", f"{package}-1.0.dist-info")
    ]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    namespace: dict[str, Any] = {
        "SPECPATH": str(ROOT),
        "workpath": str(tmp_path / "build"),
        "Analysis": Analysis,
        "PYZ": Recorded,
        "EXE": Recorded,
        "COLLECT": Recorded,
    }
    exec(compile((ROOT / "build.spec").read_text(), "build.spec", "exec"), namespace)
    return namespace


def test_one_folder_holds_the_window_without_a_console_and_the_command_line(
    built: dict[str, Any],
) -> None:
    folder = built["coll"]
    assert folder.kwargs["name"] == "ConductCasebook"
    programs = {exe.kwargs["name"]: exe for exe in folder.args if isinstance(exe, Recorded)}
    assert set(programs) == {"ConductCasebook", "casebook"}
    assert programs["ConductCasebook"].kwargs["console"] is False
    assert programs["casebook"].kwargs["console"] is True
    # Each program runs its own entry script only, after the run-time hooks; Qt's paths are
    # set by ours, never by PyInstaller's PySide6 hook, which imports Qt in every process.
    window_scripts = [s[0] for s in programs["ConductCasebook"].args[1]]
    command_scripts = [s[0] for s in programs["casebook"].args[1]]
    assert window_scripts == ["pyi_rth_inspect", "pyi_rth_qt_paths", "windowed"]
    assert command_scripts == ["pyi_rth_inspect", "pyi_rth_qt_paths", "__main__"]
    (hook,) = built["a"].kwargs["runtime_hooks"]
    assert Path(hook).is_file()
    # Both run in Python's UTF-8 mode, so names outside the ANSI code page can be printed.
    for exe in programs.values():
        assert ("X utf8", None, "OPTION") in exe.args[2]
    # Libraries the app does not use are left out of the folder.
    assert [("Qt6Core.dll", "x", "BINARY")] in folder.args


def test_the_bundle_carries_the_bank_holiday_package_s_metadata(built: dict[str, Any]) -> None:
    # app/domain/working_days.py reads its bank-holiday table only where the holidays
    # version it was made from is known by its metadata folder beside the package.
    datas = built["a"].kwargs["datas"]
    assert ("/site-packages/holidays-1.0.dist-info", "holidays-1.0.dist-info") in datas


def test_the_bundle_carries_the_compiled_dataclass_methods(built: dict[str, Any]) -> None:
    from app import codecache

    datas = built["a"].kwargs["datas"]
    made = [Path(source) for source, target in datas if target == "app"]
    assert [path.name for path in made] == [codecache.BUNDLED_NAME]
    assert len(codecache._read(made[0])) > 300


def test_each_program_carries_the_version_and_product_name(built: dict[str, Any]) -> None:
    for exe in (built["window"], built["command_line"]):
        text = Path(exe.kwargs["version"]).read_text(encoding="utf-8")
        parts = {name: VersionPart for name in (
            "VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable",
            "StringStruct", "VarFileInfo", "VarStruct",
        )}  # fmt: skip
        info = eval(text, parts)  # PyInstaller reads this file the same way
        fixed = info.kwargs["ffi"].kwargs
        numbers = (*[int(n) for n in __version__.split(".")[:3]], 0)
        assert fixed["filevers"] == numbers
        strings = {s.args[0]: s.args[1] for s in info.kwargs["kids"][0].args[0][0].args[1]}
        assert strings["ProductName"] == "Conduct Casebook"
        assert strings["ProductVersion"] == __version__
        assert strings["OriginalFilename"] == exe.kwargs["name"] + ".exe"


def test_the_windowed_program_runs_with_no_console_streams(tmp_path: Path) -> None:
    """As a console=False program starts on Windows: sys.stdout and sys.stderr are None."""
    code = (
        "import sys; sys.stdout = None; sys.stderr = None; "
        "sys.argv = ['ConductCasebook', *sys.argv[1:]]; "
        "from app.windowed import main; raise SystemExit(main())"
    )
    for args, code_expected in ((["--version"], 0), (["cases", "--status", "lost"], 2)):
        done = subprocess.run(
            [sys.executable, "-c", code, "--data-dir", str(tmp_path / "cb"), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == code_expected, done.stderr
        assert "Traceback" not in done.stderr
