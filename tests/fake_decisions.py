"""A stand-in for the meetings app's provider of recorded 支援会議 decisions (disclosure.SUPPORT_MEETING_DECISIONS).

Tests register one decision to share a case with an organization, and can revoke it to prove that
the basis is asked again at every read.
"""

from __future__ import annotations

from dataclasses import dataclass

from casework import disclosure


@dataclass
class FakeDecision:
    """One recorded decision the fake provider reports until it is revoked."""

    case_id: int
    organization_id: int
    ref: str
    revoked: bool = False

    def __call__(self, case, organization, day) -> str:
        if self.revoked or case.pk != self.case_id or organization.pk != self.organization_id:
            return ""
        return self.ref

    def revoke(self) -> None:
        self.revoked = True


def record_decision(monkeypatch, case, organization, ref: str = "支援会議 第3回（R8.6.1）決定2") -> FakeDecision:
    """Register a recorded 支援会議 decision to share the case with the organization, for this test only."""
    decision = FakeDecision(case.pk, organization.pk, ref)
    monkeypatch.setattr(disclosure, "SUPPORT_MEETING_DECISIONS", [*disclosure.SUPPORT_MEETING_DECISIONS, decision])
    return decision
