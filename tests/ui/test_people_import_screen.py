"""The import screen: preview with counts, the review list with decisions, import, undo;
and what it looks like (rendered offscreen to a PNG a person can look at)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QMessageBox

from app.domain.records import PersonDraft
from app.services.casebook import Services, open_casebook
from app.ui.dialogs.people_import import PeopleImportDialog

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mis"


def _accept_boxes(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def record(*args, **_kwargs):  # type: ignore[no-untyped-def]
        seen.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    for name in ("information", "question", "warning"):
        monkeypatch.setattr(QMessageBox, name, record)
    return seen


def test_preview_review_import_and_undo(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    services: Services = open_casebook(tmp_path / "data", actor="Head")
    try:
        jo = services.people.add_person(
            PersonDraft(name="J. Hart", forenames="J.", surname="Hart", postcode="WA10 5AA")
        )
        dialog = PeopleImportDialog(services)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.load(FIXTURES / "sims_student_contacts.csv")
        counts = {k: v.text() for k, v in dialog.count_labels.items()}
        assert counts == {
            "new": "8", "updated": "0", "unchanged": "0", "to_review": "1", "links_new": "4",
        }  # fmt: skip
        assert "SIMS export (UTF-8 with BOM)" in dialog.file_label.text()
        assert dialog.review_table.rowCount() == 1
        assert "Joanne Hart" in dialog.review_table.item(0, 1).text()
        if os.environ.get("CASEBOOK_SCREENSHOTS"):
            dialog.grab().save(os.environ["CASEBOOK_SCREENSHOTS"] + "/people_import.png")
        box = dialog.review_table.cellWidget(0, 4)
        assert isinstance(box, QComboBox)
        box.setCurrentIndex(box.findData(jo.id))  # the same person
        qtbot.waitUntil(lambda: dialog.count_labels["to_review"].text() == "0")
        assert dialog.count_labels["updated"].text() == "1"
        seen = _accept_boxes(monkeypatch)
        dialog.run_import()
        assert seen[-1].startswith("8 added, 1 updated")
        assert services.people.get_person(jo.id).name == "Joanne Hart"
        assert dialog.count_labels["unchanged"].text() == "9"
        assert not dialog.import_button.isEnabled()  # nothing left to change
        assert "Last import: sims_student_contacts.csv, SIMS" in dialog.last_label.text()
        dialog.undo_last()
        assert seen[-1].startswith("8 removed, 1 put back")
        assert services.people.get_person(jo.id).name == "J. Hart"
    finally:
        services.close()


def test_a_broken_file_shows_its_lines_and_imports_nothing(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    services = open_casebook(tmp_path / "data", actor="Head")
    try:
        broken = tmp_path / "broken.csv"
        broken.write_text("Legal Surname,Legal Forename\nHart,Amelia\n,Oscar\n", encoding="utf-8")
        dialog = PeopleImportDialog(services)
        qtbot.addWidget(dialog)
        dialog.load(broken)
        assert "line 3: the pupil's legal forename or surname is missing" in (
            dialog.problems.toPlainText()
        )
        assert not dialog.import_button.isEnabled()
    finally:
        services.close()


def test_unknown_columns_are_matched_once(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    services = open_casebook(tmp_path / "data", actor="Head")
    try:
        other = tmp_path / "other.csv"
        other.write_text("Child first,Child last\nAmelia,Hart\n", encoding="utf-8")
        dialog = PeopleImportDialog(services)
        qtbot.addWidget(dialog)
        dialog.load(other)
        assert dialog.pages.currentIndex() == 1
        for row, field in enumerate(("pupil_forename", "pupil_surname")):
            box = dialog.mapping_table.cellWidget(row, 1)
            assert isinstance(box, QComboBox)
            box.setCurrentIndex(box.findData(field))
        dialog.remember_mapping()
        assert dialog.pages.currentIndex() == 0
        assert dialog.count_labels["new"].text() == "1"
        again = PeopleImportDialog(services)
        qtbot.addWidget(again)
        again.load(other)  # remembered: straight to the preview
        assert again.pages.currentIndex() == 0
    finally:
        services.close()
