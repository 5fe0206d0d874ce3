"""Words on screen use typographic apostrophes and quotes (’ “ ”), as the Code and the
letters do: a straight ' or " in a label, message, button or tooltip is caught here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTabWidget,
    QWidget,
)

from app.services.casebook import Services
from app.ui.main_window import MainWindow
from app.ui.views.case_detail import TAB_NAMES
from tests.ui.screen_probe import every_window

UI = Path(__file__).resolve().parents[2] / "app" / "ui"
# Quoted attribute values in rich text (style='margin:0') are markup, not words.
MARKUP = re.compile(r"=\s*'[^']*'|=\s*\"[^\"]*\"")
STRAIGHT = re.compile(r"[A-Za-z]'|'[A-Za-z]|\"")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def straight_in_source(path: Path) -> list[str]:
    """Text literals of ``path`` (f-strings' words included, code inside them not) with a
    straight apostrophe or quote."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    code_in_fstrings = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.FormattedValue)
        for inner in ast.walk(node.value)
    }
    found = []
    for node in sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Constant)), key=lambda n: n.lineno
    ):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in skip or id(node) in code_in_fstrings:
            continue
        words = MARKUP.sub("", node.value)
        if STRAIGHT.search(words):
            found.append(f"{path.relative_to(UI.parent.parent)}:{node.lineno}: {node.value[:80]!r}")
    return found


def test_no_straight_apostrophe_or_quote_in_the_window_text_of_the_source() -> None:
    found = [line for path in sorted(UI.rglob("*.py")) for line in straight_in_source(path)]
    assert found == [], "\n".join(found)


def test_the_source_scan_catches_what_it_should(tmp_path: Path) -> None:
    sample = UI / "_sample_for_test.py"
    try:
        sample.write_text(
            '"""Docstrings may say don\'t."""\n'
            'A = "The school\'s letters"\n'
            "B = f\"{name}'s request {x['key']}\"\n"
            "C = \"<p style='margin:0'>Fine</p>\"\n"
            'D = "Press \\"Save\\""\n'
            'E = "Governors’ report, “quoted”"\n',
            encoding="utf-8",
        )
        found = straight_in_source(sample)
    finally:
        sample.unlink()
    assert [line.split(":")[1] for line in found] == ["2", "3", "5"]


# ----- the words of every window, as shown -------------------------------------------------


def shown_words(window: QWidget) -> list[str]:
    """Button and tab texts, tooltips, placeholders, titles and menu items of a window
    (never a table's cells or a case's own words, which are the school's data)."""
    words = [window.windowTitle()]
    for widget in window.findChildren(QWidget):
        words.append(widget.toolTip())
        words.append(widget.accessibleName())
        if isinstance(widget, QAbstractButton):
            words.append(widget.text())
        elif isinstance(widget, QLineEdit):
            words.append(widget.placeholderText())
        elif isinstance(widget, QGroupBox):
            words.append(widget.title())
        elif isinstance(widget, QLabel) and widget.buddy() is not None:
            words.append(widget.text())
        elif isinstance(widget, QTabWidget):
            words += [widget.tabText(i) for i in range(widget.count())]
        elif isinstance(widget, QMenu):
            words += [a.text() for a in widget.actions()]
            words += [a.toolTip() for a in widget.actions()]
    return [w for w in words if w and STRAIGHT.search(MARKUP.sub("", w))]


def test_no_window_shows_a_straight_apostrophe_or_quote(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    demo_services: Services,
) -> None:
    window.case_list.select_row(0)
    problems: dict[str, list[str]] = {}
    for name in TAB_NAMES:
        window.case_detail.show_tab(name)
        QApplication.processEvents()
        if shown_words(window):
            problems[f"main window, {name}"] = shown_words(window)
    demo_services.users.create_first_user("head", "tide-marble-orchard-42")
    demo_services.users.sign_in("head", "tide-marble-orchard-42")
    for name, make in every_window(demo_services, window):
        if name == "main_window":
            continue
        dialog = make()
        qtbot.addWidget(dialog)
        dialog.show()
        QApplication.processEvents()
        if shown_words(dialog):
            problems[name] = shown_words(dialog)
        dialog.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
