"""Email settings and Send by email as a head teacher uses them: real widgets offscreen,
a real SMTP server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.letters import SendMethod
from app.domain.mail import MailSecurity
from app.services.casebook import Services
from app.ui.dialogs.mail_settings import MailSettingsDialog
from app.ui.dialogs.send_letter import SendLetterDialog
from app.ui.signals import AppSignals
from app.ui.views.letters_tab import LettersTab
from tests.mail.conftest import PARENT_EMAIL, issue_letter
from tests.mail.smtp_server import PASSWORD, USER, MailServer

SHOTS = Path(__file__).resolve().parents[2] / "benchmarks" / "out"


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / name))


def test_settings_dialog_presets_save_and_test(
    qtbot, school: Services, smtp_server: MailServer
) -> None:
    dialog = MailSettingsDialog(school)
    qtbot.addWidget(dialog)
    dialog.preset.setCurrentIndex(dialog.preset.findData("microsoft365"))
    assert dialog.host.text() == "smtp.office365.com" and dialog.port.value() == 587
    assert dialog.security.currentData() == MailSecurity.STARTTLS.value
    assert "app password" in dialog.note.text()
    dialog.preset.setCurrentIndex(dialog.preset.findData("google-tls"))
    assert (dialog.host.text(), dialog.port.value()) == ("smtp.gmail.com", 465)
    dialog.user.setText(USER)
    # No password yet: refused in a sentence, nothing saved.
    assert not dialog.save()
    assert "password" in dialog.message.text()
    assert not school.mail.settings().host
    # Point it at the loopback server and test.
    dialog.preset.setCurrentIndex(0)
    dialog.host.setText("localhost")
    dialog.port.setValue(smtp_server.port)
    dialog.security.setCurrentIndex(dialog.security.findData(MailSecurity.STARTTLS.value))
    dialog.password.setText(PASSWORD)
    dialog.dsl_address.setText("dsl@school.example")
    dialog.test_to.setText("someone@school.example")
    dialog.resize(700, dialog.sizeHint().height())
    dialog.test_button.click()
    assert "Sent a test message to someone@school.example" in dialog.message.text()
    assert len(smtp_server.received) == 1
    assert school.mail.settings().configured
    assert school.mail.settings().dsl_address == "dsl@school.example"
    assert dialog.password.text() == ""  # never left lying in the box
    _shot(dialog, "mail_settings.png")
    # A bad value is one sentence in the dialog.
    dialog.host.setText("smtp example")
    assert not dialog.save()
    assert "not a server name" in dialog.message.text()
    dialog.host.setText("localhost")
    dialog.subject.setText("Letter for {recipient}")
    assert not dialog.save()
    assert "may not use {recipient}" in dialog.message.text()


def test_send_by_email_from_the_letters_tab(
    qtbot, mail_ready: Services, smtp_server: MailServer
) -> None:
    ready = issue_letter(mail_ready)
    signals = AppSignals()
    tab = LettersTab(mail_ready, signals)
    qtbot.addWidget(tab)
    tab.set_case(ready.case_id)
    assert tab.email_button.isEnabled()
    outgoing = mail_ready.mail.prepare_letter(ready.letter_id)
    dialog = SendLetterDialog(mail_ready, outgoing)
    qtbot.addWidget(dialog)
    dialog.resize(640, dialog.sizeHint().height())
    _shot(dialog, "send_letter.png")
    assert not dialog.confirm_again.isVisibleTo(dialog)
    dialog.cc_office.setChecked(True)
    dialog.send_button.click()
    assert dialog.result() == SendLetterDialog.DialogCode.Accepted
    assert dialog.sent is not None and dialog.sent.state == "sent"
    office = mail_ready.letters.profile.get().email
    assert sorted(smtp_server.received[0].recipients) == sorted([PARENT_EMAIL, office])
    signals.data_changed.emit(ready.case_id)
    assert mail_ready.letters.get_letter(ready.letter_id).sent_method is SendMethod.EMAIL
    assert not tab.email_button.isEnabled()  # sent: nothing to send again


def test_a_failure_stays_in_the_dialog(
    qtbot, mail_ready: Services, smtp_server: MailServer
) -> None:
    ready = issue_letter(mail_ready)
    smtp_server.handler.refuse.add(PARENT_EMAIL)
    dialog = SendLetterDialog(mail_ready, mail_ready.mail.prepare_letter(ready.letter_id))
    qtbot.addWidget(dialog)
    dialog.send_button.click()
    assert dialog.result() != SendLetterDialog.DialogCode.Accepted
    assert f"refused the address {PARENT_EMAIL}" in dialog.message.text()
    assert dialog.send_button.isEnabled()
    assert not mail_ready.letters.get_letter(ready.letter_id).is_sent


def test_after_a_cut_off_attempt_sending_again_needs_a_tick(
    qtbot, mail_ready: Services, smtp_server: MailServer
) -> None:
    from app.domain.mail import MailUncertain

    ready = issue_letter(mail_ready)
    smtp_server.handler.behaviour = "drop-after-data"
    with pytest.raises(MailUncertain):
        mail_ready.mail.send_letter(ready.letter_id)
    smtp_server.handler.behaviour = ""
    dialog = SendLetterDialog(mail_ready, mail_ready.mail.prepare_letter(ready.letter_id))
    qtbot.addWidget(dialog)
    dialog.resize(640, dialog.sizeHint().height())
    _shot(dialog, "send_letter_again.png")
    assert "may already have reached" in dialog.warning.text()
    assert not dialog.send_button.isEnabled()
    dialog.confirm_again.setChecked(True)
    assert dialog.send_button.isEnabled()
    dialog.send_button.click()
    assert dialog.result() == SendLetterDialog.DialogCode.Accepted
    assert len(smtp_server.received) == 2
    assert mail_ready.letters.get_letter(ready.letter_id).is_sent
