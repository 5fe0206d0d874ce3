"""The methods dataclasses write are compiled once and kept: the classes are the same, a
kept table is used by the next run, and a damaged or foreign table is never trusted."""

from __future__ import annotations

import dataclasses
import inspect
import marshal
import subprocess
import sys
import types
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from typing import Any

import pytest

from app import codecache
from app.codecache import CodeTable

ROOT = Path(__file__).resolve().parents[2]

SOURCE = '''
from __future__ import annotations
from dataclasses import dataclass, field

@dataclass(frozen=True)
class Letter:
    """A letter."""
    reference: str
    recipients: tuple[str, ...] = ()
    copies: int = 1
    notes: list[str] = field(default_factory=list, compare=False)
    seen: bool = field(default=False, compare=False, repr=False)

@dataclass(order=True)
class Draft:
    title: str
    pages: int = 0
'''


def make(table: CodeTable | None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The classes of SOURCE, made with ``table`` standing in for exec (None: plain exec)."""
    with monkeypatch.context() as patch:
        if table is None:
            patch.delattr(dataclasses, "exec", raising=False)
        else:
            patch.setattr(dataclasses, "exec", table.exec, raising=False)
        module = types.ModuleType("made_here")
        patch.setitem(sys.modules, "made_here", module)
        exec(compile(SOURCE, "made_here", "exec"), module.__dict__)
    return module.__dict__


def test_classes_made_through_the_table_are_the_classes_python_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = make(None, monkeypatch)
    table = CodeTable(tmp_path / "table.bin", writable=True)
    first = make(table, monkeypatch)
    again = make(table, monkeypatch)  # the second time from the kept code
    for made in (first, again):
        Letter, Draft = made["Letter"], made["Draft"]
        PlainLetter, PlainDraft = plain["Letter"], plain["Draft"]
        letter = Letter("SM-1", ("Ms Shah",), notes=["a"])
        expected = PlainLetter("SM-1", ("Ms Shah",), notes=["a"])
        assert repr(letter) == repr(expected)
        assert letter == Letter("SM-1", ("Ms Shah",), notes=["a"], seen=True)
        assert letter != Letter("SM-2")
        assert hash(Letter("SM-1")) == hash(Letter("SM-1"))
        assert Letter("x").notes is not Letter("x").notes  # a fresh list each time
        with pytest.raises(dataclasses.FrozenInstanceError):
            letter.copies = 2  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            del letter.copies  # type: ignore[misc]
        assert Draft("a") < Draft("b") and PlainDraft("a") < PlainDraft("b")
        assert repr(Draft("t", 2)) == repr(PlainDraft("t", 2))
        assert str(inspect.signature(Letter)) == str(inspect.signature(PlainLetter))
        # Annotations are what exec gives: no __future__ flag leaks into the methods.
        assert Letter.__init__.__annotations__ == PlainLetter.__init__.__annotations__
        assert Letter.__init__.__code__.co_filename == PlainLetter.__init__.__code__.co_filename
        assert Letter.__init__.__code__.co_code == PlainLetter.__init__.__code__.co_code
    assert table.added > 0


def test_a_kept_table_is_used_by_the_next_run_without_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "__pycache__" / "table.bin"
    first = CodeTable(path, writable=True)
    make(first, monkeypatch)
    compiled = first.added
    first.save()
    assert path.is_file() and compiled > 0
    second = CodeTable(path, writable=True)
    second.load()
    assert len(second.codes) == compiled
    made = make(second, monkeypatch)
    assert second.added == 0, "every method came from the kept table"
    assert made["Letter"]("SM-1").copies == 1
    second.save()  # nothing new: the file is left as it was
    assert len(codecache._read(path)) == compiled


def test_a_damaged_or_foreign_table_is_ignored_and_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    header = codecache._FORMAT + MAGIC_NUMBER
    code = compile("x = 1", "<string>", "exec")
    for content in (
        b"",
        b"garbage",
        header[:-1],  # cut short
        header + b"\xff\x00",  # not marshal data
        header + marshal.dumps([1, 2]),  # not a table
        header + marshal.dumps({"def f(): pass": "not code"}),
        header + marshal.dumps({1: code}),
        codecache._FORMAT + b"\x00\x00\r\n" + marshal.dumps({"x = 1": code}),  # other Python
    ):
        path.write_bytes(content)
        table = CodeTable(path, writable=True)
        table.load()
        assert table.codes == {}, content
        assert make(table, monkeypatch)["Letter"]("SM-1").reference == "SM-1"
    compiled = table.added
    table.save()
    assert len(codecache._read(path)) == compiled > 0


def test_nothing_is_written_where_bytecode_may_not_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    table = CodeTable(path, writable=True)
    make(table, monkeypatch)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    table.save()
    assert not path.exists()
    # A folder that cannot be made (a file stands in its place): no error, no file.
    blocked = tmp_path / "blocked"
    blocked.write_text("a file")
    table = CodeTable(blocked / "table.bin", writable=True)
    make(table, monkeypatch)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    table.save()
    assert list(tmp_path.iterdir()) == [blocked]
    # The bundled program's table is read, never written.
    table = CodeTable(path, writable=False)
    make(table, monkeypatch)
    table.save()
    assert not path.exists()


def test_the_table_never_grows_past_its_limit_and_keeps_what_runs_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    # A full table of texts no class makes any more (code since changed).
    stale = {f"x = {n}": compile(f"x = {n}", "<string>", "exec") for n in range(4)}
    codecache._write(path, stale)
    monkeypatch.setattr(codecache, "ENTRY_LIMIT", 4)
    table = CodeTable(path, writable=True)
    table.load()
    made = make(table, monkeypatch)
    assert made["Draft"]("a") < made["Draft"]("b")  # methods past the limit still compiled
    assert table.added == 4
    table.save()
    kept = codecache._read(path)
    assert len(kept) == 4
    assert set(kept) == set(table.codes) - set(stale), "this run's classes replace the stale"
    # The next run finds its classes there and compiles only what did not fit.
    again = CodeTable(path, writable=True)
    again.load()
    make(again, monkeypatch)
    assert again.used == set(kept)


def test_the_bundle_s_table_holds_every_module_s_dataclasses(tmp_path: Path) -> None:
    out = tmp_path / "dataclass-code.bin"
    done = subprocess.run(
        [sys.executable, "-m", "app.codecache", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = codecache._read(out)
    assert len(table) > 300
    # The window's and the command line's own classes are in it.
    texts = "\n".join(table)
    assert "data_dir" in texts and "reference" in texts


def test_the_command_line_keeps_its_table_beside_the_bytecode() -> None:
    path = codecache.table_path()
    assert path.parent.name == "__pycache__"
    assert path.parent.parent == ROOT / "app"
    assert sys.implementation.cache_tag in path.name
