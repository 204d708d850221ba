"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the service answers with is one object: ``type`` (a stable URI reference,
documented in docs/service.md), ``title`` and ``detail`` in the request's language,
``status``, and, where perfscore found problems in a rubric or in inputs, ``issues``: the
issues as data (code, severity, message, hint, parameters, location).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from fastapi.responses import JSONResponse

from perfscore.errors import Issue
from perfscore.i18n import tr

__all__ = ["MEDIA_TYPE", "Problem", "issue_dict", "problem_response"]

MEDIA_TYPE: Final = "application/problem+json"


def issue_dict(issue: Issue, lang: str) -> dict[str, Any]:
    """An issue as data (:meth:`Issue.to_dict`), its message and hint in ``lang``."""
    return issue.in_lang(lang).to_dict()


class Problem(Exception):
    """An error answer: raised anywhere in a request, written by the app's handler."""

    def __init__(
        self,
        status: int,
        kind: str,
        *,
        issues: Sequence[Issue] = (),
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(kind)
        self.status = status
        self.kind = kind
        self.issues = tuple(issues)
        self.headers = headers or {}
        self.params = params


def problem_response(problem: Problem, lang: str, instance: str) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{problem.kind}",
        "title": tr(f"service.problem.{problem.kind}", lang),
        "status": problem.status,
        "detail": tr(f"service.problem.{problem.kind}.detail", lang, **problem.params),
        "instance": instance,
    }
    if problem.issues:
        body["issues"] = [issue_dict(i, lang) for i in problem.issues]
    return JSONResponse(
        body, status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers
    )
