"""The PDF viewer's page buttons have Alt+letters of their own on the Evidence tab."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from app.ui.main_window import MainWindow
from tests.ui.test_keyboard import assert_unique, mnemonic, mnemonics_in_view


def test_the_pdf_page_buttons_have_letters_no_other_control_uses(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
) -> None:
    window.case_list.select_row(0)
    window.case_detail.show_tab("evidence")
    QApplication.processEvents()
    tab = window.case_detail.evidence_tab
    pages = [(mnemonic(b.text()), b.text()) for b in (tab.pdf_prev, tab.pdf_next)]
    assert all(letter for letter, _ in pages), pages
    assert_unique(mnemonics_in_view(window) + pages, "main window, Evidence tab with a PDF")
    # A PDF can be redacted too: the redaction bar's letters must not clash with them.
    tab.redact_button.setChecked(True)
    QApplication.processEvents()
    assert_unique(mnemonics_in_view(window) + pages, "main window, redacting a PDF")
    tab.redact_button.setChecked(False)
