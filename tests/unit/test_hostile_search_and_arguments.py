"""Searches longer than the limit, and command-line arguments that are not text, are
refused with one line instead of a database error or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.domain.errors import ValidationError
from app.domain.records import CaseDetail, CaseFilter, CaseSort
from app.domain.validation import MAX_SEARCH_WORDS
from app.services.casebook import Services
from tests.e2e.test_cli import PASSWORD, USER, assert_refused, cli, set_up


def test_a_search_of_the_most_words_still_runs(
    services: Services, make_case: Callable[..., CaseDetail]
) -> None:
    make_case(title="Rude comments about the school")
    words = " ".join(["school"] * MAX_SEARCH_WORDS)
    assert len(services.cases.list_cases(CaseFilter(text=words), CaseSort())) == 1


@pytest.mark.parametrize("words", [MAX_SEARCH_WORDS + 1, 1_000, 5_000])
def test_a_longer_search_is_refused_in_one_sentence(services: Services, words: int) -> None:
    text = " ".join(f"word{n}" for n in range(words))
    queries = (
        lambda flt: services.cases.list_cases(flt, CaseSort()),
        services.cases.count_cases,
        services.cases.counts,
    )
    for query in queries:
        with pytest.raises(ValidationError) as caught:
            query(CaseFilter(text=text))
        message = caught.value.message
        assert f"at most {MAX_SEARCH_WORDS} words" in message
        assert "\n" not in message and "SELECT" not in message and "Expression" not in message


def test_one_enormous_word_is_refused_too(services: Services) -> None:
    with pytest.raises(ValidationError, match="characters"):
        services.cases.list_cases(CaseFilter(text="x" * 100_000), CaseSort())


@pytest.fixture
def cli_dir(tmp_path: Path) -> Path:
    return set_up(tmp_path / "cli" / "casebook")


def test_cli_refuses_a_thousand_word_search_in_one_line(cli_dir: Path) -> None:
    words = " ".join(f"word{n}" for n in range(1_000))
    assert_refused(cli("cases", "--search", words, data_dir=cli_dir), 1, "at most 50 words")


def test_cli_refuses_an_argument_that_is_not_text_in_one_line(cli_dir: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "CASEBOOK_DATA_DIR"}
    environment.update({"CASEBOOK_USER": USER, "CASEBOOK_PASSWORD": PASSWORD})
    for args in ([b"cases", b"--search", b"caf\xe9"], [b"case", b"show", b"SM-\xff\xfe"]):
        result = subprocess.run(
            [sys.executable, "-m", "app", "--data-dir", str(cli_dir), *args],
            capture_output=True,
            env=environment,
            timeout=60,
            check=False,
        )
        stderr = result.stderr.decode("utf-8")
        assert result.returncode == 2, stderr
        assert stderr.startswith("casebook: argument") and stderr.count("\n") == 1, stderr
        assert "is not valid text" in stderr and "\\x" in stderr
        assert "UnicodeEncodeError" not in stderr and result.stdout == b""


def test_search_box_says_the_limit_instead_of_failing(
    qtbot, services: Services, make_case: Callable[..., CaseDetail]
) -> None:
    from app.ui.signals import AppSignals
    from app.ui.views.case_list import CaseListView

    make_case()
    view = CaseListView(services, AppSignals())
    qtbot.addWidget(view)
    view.search.setText(" ".join(f"word{n}" for n in range(1_000)))
    view.apply_filter()
    assert f"at most {MAX_SEARCH_WORDS} words" in view.counts_label.text()
    assert view.model.rowCount() == 1  # the list still shows what it showed before
    view.search.setText("Rude")
    view.apply_filter()
    assert "Showing 1 of 1" in view.counts_label.text()
