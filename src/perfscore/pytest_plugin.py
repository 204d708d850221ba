"""A pytest plugin: plain ``pytest`` collects golden-case files (``*.cases.yaml``).

Installed with perfscore (entry point ``pytest11``); each case becomes a test item named
after the case, and a failure shows the file, the case, the expectation and the
explanation of the actual score, in the language in force (``PERFSCORE_LANG``, the
locale, else Chinese).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .authoring.cases import CASE_SUFFIXES, CaseResult, GoldenCase, load_case_file, run_case
from .errors import PerfscoreError
from .i18n import tr


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(CASE_SUFFIXES):
        return GoldenCaseFile.from_parent(parent, path=file_path)
    return None


class GoldenCaseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            case_file = load_case_file(self.path)
        except PerfscoreError as error:
            yield BrokenCaseFile.from_parent(self, name="load", error=error)
            return
        for case in case_file.cases:
            yield GoldenCaseItem.from_parent(self, name=case.name, case=case, case_file=case_file)


class GoldenCaseFailed(Exception):
    def __init__(self, outcome: CaseResult) -> None:
        super().__init__(outcome.report())
        self.outcome = outcome


class GoldenCaseItem(pytest.Item):
    def __init__(self, *, case: GoldenCase, case_file: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.case_file = case_file

    def runtest(self) -> None:
        outcome = run_case(self.case_file.rubric, self.case)
        if not outcome.passed:
            raise GoldenCaseFailed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, GoldenCaseFailed):
            return excinfo.value.outcome.report()
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.case.line or 1) - 1, tr("cases.pytest.item", name=self.case.name)


class BrokenCaseFile(pytest.Item):
    def __init__(self, *, error: PerfscoreError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return f"{tr('cases.pytest.unusable')}\n{self.error}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, tr("cases.pytest.file")
