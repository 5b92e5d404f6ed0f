"""What every casework service shares: the errors screens turn into messages, and the access-log and lead checks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from casework import audit, disclosure
from casework.access import case_access, person_ids_for_case
from casework.disclosure import Basis, meeting_decision_basis
from casework.models import (
    AccessLog,
    Case,
)

# ---------------------------------------------------------------------------
# Errors the screens turn into messages
# ---------------------------------------------------------------------------


class CaseChanged(Exception):
    """The case moved on since the form was shown: someone else changed it first."""

    message = "このケースは他の職員により更新されました。最新の状態を確認してください。"

    def __str__(self) -> str:
        return self.message


class InvalidTransition(Exception):
    """A state change the case flow does not allow, or one missing its reason; the message is Japanese."""


# ---------------------------------------------------------------------------
# Access-log helpers for services
# ---------------------------------------------------------------------------


def _basis(by, case: Case | None) -> dict:
    """Return the log fields describing why `by` may write under the case."""

    access = case_access(by, case) if case is not None else None
    if access is None:
        return {"basis": AccessLog.Basis.OWN_ORGANIZATION if case is None else AccessLog.Basis.NONE}
    return {
        "basis": access.basis,
        "basis_ref": access.basis_ref,
        "organization_id": access.organization_id,
        "auth_strength": access.auth_strength,
    }


def log_change(by, *, action: str, obj, person_ids, case: Case | None = None, decided_in=None) -> None:
    # A meeting decision applied by its chair is logged on the meeting's basis (checked by decision_basis).
    fields = (
        {"basis": decided_in.kind, "basis_ref": decided_in.ref, "organization_id": decided_in.organization_id}
        if decided_in is not None
        else _basis(by, case)
    )
    audit.log_access(
        actor=by,
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        person_ids=person_ids,
        **fields,
    )


def require_lead(by, case: Case | None, *, decision: Basis | None = None) -> None:
    """Refuse (nothing changed) unless `by` works for the case's lead organization.

    Only the lead organization changes a case's team, state (reopening included), persons,
    household and consents; a meeting decision passes the basis the disclosure module gave it.
    """
    if case is None:
        return
    problem = disclosure.lead_change_refusal(by, case, decision=decision)
    if problem:
        raise ValidationError(problem)


def decision_basis(by, case: Case, decided_in):
    """Re-check a meeting decision's basis through the disclosure module; refuse when it does not hold now."""
    if decided_in is None:
        return None

    basis = meeting_decision_basis(by, case, decided_in.ref)
    if basis is None:
        raise PermissionError(
            _("この会議の決定ではケースを変更できません（主担当機関が参加していないか、根拠が確認できません）。")
        )
    return basis


def case_person_ids(case: Case) -> list[int]:

    return person_ids_for_case(case)
