"""Open the main window and every dialog on one simulated screen and report their sizes.

Run as ``python -m tests.ui.screen_probe SCREEN.json OUT_DIR`` in a process of its own:
the screen (size, scale) is fixed when Qt starts, so each screen needs a new process.
``QT_QPA_PLATFORM=offscreen:configfile=SCREEN.json`` sets the screen's size and
``QT_SCALE_FACTOR`` its scale. ``--data=FOLDER`` opens a casebook made ready by
``prepare`` (else the demonstration is made afresh). Prints one JSON object:
name -> [width, height, fits]; with ``--png`` each window is also saved as
OUT_DIR/<name>.png to look at.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from PySide6.QtCore import QEventLoop, QRect
from PySide6.QtWidgets import QApplication, QWidget

from app.domain.access import Role
from app.domain.letters import LetterKind, SendMethod
from app.services.casebook import Services, open_casebook
from app.services.demo import create_demo
from app.services.letters import IssuedLetter
from app.services.mail import LetterEmail, OutgoingLetter
from app.ui.app import make_application
from app.ui.main_window import MainWindow
from app.ui.widgets import available_area, fits


def every_window(
    services: Services, window: MainWindow
) -> Iterator[tuple[str, Callable[[], QWidget]]]:
    """Every dialog of the window, made the way the window makes it (not yet shown)."""
    from app.domain.evidence import EvidenceDetails
    from app.domain.policy import Contact
    from app.ui.dialogs.audit_trail import AuditTrailDialog
    from app.ui.dialogs.backup import BackupDialog, ConfirmHeadDialog, RestoreDamagedDialog
    from app.ui.dialogs.capture_details import CaptureDetailsDialog
    from app.ui.dialogs.code_adopt import AdoptCodeDialog
    from app.ui.dialogs.guidance_leaflet import GuidanceLeafletDialog
    from app.ui.dialogs.issue_letter import IssueLetterDialog
    from app.ui.dialogs.mail_settings import MailSettingsDialog
    from app.ui.dialogs.new_case import NewCaseDialog
    from app.ui.dialogs.people_import import PeopleImportDialog
    from app.ui.dialogs.person import LinkPersonDialog, PersonDialog
    from app.ui.dialogs.report_wizard import ReportWizard
    from app.ui.dialogs.retention import (
        DateOfBirthDialog,
        RetentionDialog,
        RetentionRulesDialog,
        SubjectAccessRequestDialog,
    )
    from app.ui.dialogs.school_profile import SchoolProfileDialog
    from app.ui.dialogs.send_letter import SendLetterDialog
    from app.ui.dialogs.sign_in import (
        EncryptCasebookDialog,
        FirstUserDialog,
        RecoveryDialog,
        RecoveryKeyDialog,
        SignInDialog,
    )
    from app.ui.dialogs.subject_access import SubjectAccessRequestsDialog
    from app.ui.dialogs.subject_access import _ExtendDialog as ExtendDialog
    from app.ui.dialogs.subject_access import _IdentityDialog as IdentityDialog
    from app.ui.dialogs.template_editor import TemplateEditorDialog
    from app.ui.dialogs.users import (
        AddUserDialog,
        ChangePasswordDialog,
        ChangeRoleDialog,
        SetPasswordDialog,
        UsersDialog,
    )
    from app.ui.documents import CaseFileDialog, ReportPeriodDialog
    from app.ui.letter_batch import BatchLetterDialog
    from app.ui.views.letters_tab import MarkSentDialog
    from app.ui.views.workflow_tab import ContactDialog

    case = window.case_detail.case
    assert case is not None
    today = services.ctx.now().date()
    yield "main_window", lambda: window
    yield "new_case", lambda: NewCaseDialog(services, window)
    yield "report_wizard", lambda: ReportWizard(services, window)
    yield "person", lambda: PersonDialog(services, case.people[0].person, window)
    yield "link_person", lambda: LinkPersonDialog(services, case.id, window)
    yield "issue_letter", lambda: IssueLetterDialog(services, case.id, window)
    yield "school_profile", lambda: SchoolProfileDialog(services, window.signals, window)
    yield "template_editor", lambda: TemplateEditorDialog(services, window, case_id=case.id)
    yield "sign_in", lambda: SignInDialog(services, "head", "", window)
    yield "recovery", lambda: RecoveryDialog(services, "head", window)
    yield "first_user", lambda: FirstUserDialog(services, window)
    yield "recovery_key", lambda: RecoveryKeyDialog("ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2-34567", window)
    yield "encrypt", lambda: EncryptCasebookDialog(services.paths, window)
    yield "backup", lambda: BackupDialog(services, window)
    yield (
        "restore_damaged",
        lambda: RestoreDamagedDialog(services.paths.root, "The casebook cannot be read.", window),
    )
    yield "audit_trail", lambda: AuditTrailDialog(services, window)
    yield "users", lambda: UsersDialog(services, window.signals, window)
    yield "add_user", lambda: AddUserDialog(services, window)
    yield "set_password", lambda: SetPasswordDialog(services, "office", window)
    yield "change_password", lambda: ChangePasswordDialog(services, window)
    yield "retention", lambda: RetentionDialog(services, window.signals, window)
    yield "retention_rules", lambda: RetentionRulesDialog(services, window)
    yield "date_of_birth", lambda: DateOfBirthDialog(case.reference, None, window)
    yield "governors_report", lambda: ReportPeriodDialog(today, window)
    yield "subject_access_requests", lambda: SubjectAccessRequestsDialog(services, window)
    yield "mail_settings", lambda: MailSettingsDialog(services, window)
    yield "people_import", lambda: PeopleImportDialog(services, window.signals, window)
    yield "adopt_code", lambda: AdoptCodeDialog(services, window)
    yield "guidance_leaflet", lambda: GuidanceLeafletDialog(services, window)
    yield "capture_details", lambda: CaptureDetailsDialog(EvidenceDetails(), 2, window)
    yield "batch_letters", lambda: BatchLetterDialog(services, [case.id], window)
    yield "confirm_head", lambda: ConfirmHeadDialog("head", window)
    yield (
        "subject_access_request",
        lambda: SubjectAccessRequestDialog("Zoë Łukasiewicz", today, window),
    )
    yield "subject_access_identity", lambda: IdentityDialog("Zoë Łukasiewicz", window)
    yield "subject_access_extend", lambda: ExtendDialog("Zoë Łukasiewicz", window)
    users = services.users.list_users()
    office = next((u for u in users if u.name == "office"), users[0])
    yield "change_role", lambda: ChangeRoleDialog(services, office, window)
    yield "case_file", lambda: CaseFileDialog(case.reference, window)
    letter = sample_letter(case.id, case.reference, today)
    yield "mark_sent", lambda: MarkSentDialog(letter, today, window)
    yield "send_letter", lambda: SendLetterDialog(services, sample_outgoing(letter), window)
    yield (
        "send_letter_again",
        lambda: SendLetterDialog(services, sample_outgoing(letter, cut_off=True), window),
    )
    helpline = Contact(
        name="Professionals Online Safety Helpline",
        telephone="0344 381 4772",
        email="helpline@saferinternet.org.uk",
        website="https://saferinternet.org.uk/professionals-online-safety-helpline",
        note="Monday to Friday, 10am to 4pm",
    )
    yield (
        "ladder_contact",
        lambda: ContactDialog("Ask the platform to remove the post", helpline, window),
    )


def sample_letter(case_id: int, reference: str, today: date) -> IssuedLetter:
    """A prepared letter as the Letters tab lists it (the dialogs only show it)."""
    return IssuedLetter(
        id=1,
        case_id=case_id,
        case_reference=reference,
        kind=LetterKind.REMOVAL,
        label="Request to remove the post",
        template_version="1",
        recipient_name="Zoë Łukasiewicz",
        subject="Your post about the school",
        letter_date=today,
        method=SendMethod.POST,
        pdf_sha256="0" * 64,
        pdf_size=1,
        issued_at=datetime(today.year, today.month, today.day, 9, 30, tzinfo=UTC),
        issued_by="head",
    )


def sample_outgoing(letter: IssuedLetter, *, cut_off: bool = False) -> OutgoingLetter:
    """What Send by email shows; ``cut_off``: an earlier attempt may have gone."""
    at = letter.issued_at
    previous = (
        LetterEmail(
            letter_id=letter.id,
            case_reference=letter.case_reference,
            state="pending",
            message_id="<1@example.org>",
            to_address="zoe.l@example.org",
            cc_address="",
            eml_sha256="0" * 64,
            eml_size=1,
            attempts=1,
            last_attempt_at=at,
            last_error="",
            sent_at=None,
            server_reply="",
        )
        if cut_off
        else None
    )
    return OutgoingLetter(
        letter=letter,
        sender="Office <office@example.org>",
        to_address="zoe.l@example.org",
        cc_address="",
        subject=f"Letter from the school — {letter.case_reference}",
        body="Dear Zoë Łukasiewicz,\n\nPlease find attached a letter from the school.\n",
        attachment=f"{letter.case_reference} letter.pdf",
        previous=previous,
    )


HEAD_PASSWORD = "tide-marble-orchard-42"


def prepare(services: Services) -> None:
    """The casebook the probe opens: the demonstration, a head teacher and office staff."""
    services.users.create_first_user("head", HEAD_PASSWORD)
    services.users.sign_in("head", HEAD_PASSWORD)
    services.users.add_user("office", Role.OFFICE, "quartz-meadow-lantern-7")


def _opened(data: Path | None, folder: str) -> Services:
    if data is not None:  # prepared by the test (a copy of its demonstration casebook)
        services = open_casebook(data, actor="Mrs Test")
        services.users.sign_in("head", HEAD_PASSWORD)
        return services
    services = open_casebook(Path(folder) / "data", actor="Mrs Test")
    create_demo(services)
    prepare(services)
    return services


def measure(out_dir: Path | None, data: Path | None = None) -> dict[str, list[object]]:
    app = make_application()
    results: dict[str, list[object]] = {}
    with tempfile.TemporaryDirectory() as folder:
        services = _opened(data, folder)
        try:
            window = MainWindow(services, demo=True)
            window.show_on_screen()
            # The first case opens just after the list's first paint.
            while not window.after_first_paint.done:
                app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
            for name, make in every_window(services, window):
                widget = make()
                widget.show()
                for _ in range(3):
                    app.processEvents()
                area: QRect = available_area(widget)
                size = widget.frameGeometry().size() if widget is window else widget.size()
                if widget is window:
                    # Maximised: the whole available area (a scaled screen rounds by a pixel).
                    inside = size.width() <= area.width() + 1 and size.height() <= area.height() + 1
                else:
                    inside = fits(size, area)
                results[name] = [size.width(), size.height(), inside]
                if out_dir is not None:
                    widget.grab().save(str(out_dir / f"{name}.png"), "PNG")
                if widget is not window:
                    widget.close()
                    widget.deleteLater()
            results["_screen"] = [area.width(), area.height(), True]
            # The evidence viewer beside the list, as wide as the case screen lets it be.
            window.case_detail.show_tab("evidence")
            for _ in range(3):
                app.processEvents()
            viewer = window.case_detail.evidence_tab.stack
            results["_evidence_viewer"] = [viewer.width(), viewer.height(), True]
            if out_dir is not None:
                window.grab().save(str(out_dir / "main_window_evidence.png"), "PNG")
            window.case_detail.revert_details()
            window.close()
        finally:
            services.close()
    return results


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    data = next((Path(a.split("=", 1)[1]) for a in argv if a.startswith("--data=")), None)
    results = measure(out_dir if "--png" in argv else None, data)
    sys.stdout.write(json.dumps(results) + "\n")
    QApplication.instance()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
