"""``csm doctor``'s report: checks, each ok, warn or fail, with a fix when not ok."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CheckStatus(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


_RANK = {CheckStatus.OK: 0, CheckStatus.WARN: 1, CheckStatus.FAIL: 2}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: CheckStatus
    message: str | None = None
    fix: str | None = None


@dataclass(frozen=True, slots=True)
class DoctorReport:
    overall_status: CheckStatus
    checks: tuple[Check, ...]

    @property
    def failed(self) -> bool:
        return self.overall_status is CheckStatus.FAIL


def report(checks: list[Check]) -> DoctorReport:
    worst = max((c.status for c in checks), key=_RANK.__getitem__, default=CheckStatus.OK)
    return DoctorReport(worst, tuple(checks))
