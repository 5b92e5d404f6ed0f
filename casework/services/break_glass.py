"""Break-glass: emergency access to a case outside the caseload, reviewed by auditors."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit
from casework.models import (
    AccessLog,
    BreakGlassAccess,
    Case,
)
from casework.services.common import case_person_ids

# ---------------------------------------------------------------------------
# Break-glass
# ---------------------------------------------------------------------------

_ONE_CHARACTER_REPEATED = re.compile(r"(.)\1*", re.DOTALL)
BREAK_GLASS_MIN_REASON = 10


def break_glass_reason_problem(reason: str) -> str | None:
    """Return a Japanese message when the reason is not a real sentence, else None."""
    text = "".join((reason or "").split())
    if len(text) < BREAK_GLASS_MIN_REASON:
        return _("理由は%(n)s文字以上で具体的に書いてください。") % {"n": BREAK_GLASS_MIN_REASON}
    if _ONE_CHARACTER_REPEATED.fullmatch(text) or len(set(text)) < 4:
        return _("理由を文章で具体的に書いてください（同じ文字の繰り返しは受け付けません）。")
    return None


@transaction.atomic()
def break_glass_open(*, user, case: Case, reason: str) -> BreakGlassAccess:
    """Open a time-limited, read-only emergency access to a case outside the user's caseload."""
    problem = break_glass_reason_problem(reason)
    if problem:
        raise ValidationError({"reason": problem})
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        user=user,
        case=case,
        reason=reason.strip(),
        started_at=now,
        expires_at=now + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
    )
    audit.log_access(
        actor=user,
        action=AccessLog.Action.VIEW,
        object_type="breakglassaccess",
        object_id=access.pk,
        person_ids=case_person_ids(case),
        basis=AccessLog.Basis.BREAK_GLASS,
        basis_ref=access.pk,
        reason=reason.strip(),
        auth_strength=AccessLog.AuthStrength.BREAK_GLASS,
    )
    return access


@transaction.atomic()
def break_glass_review(*, access: BreakGlassAccess, by, note: str) -> BreakGlassAccess:
    """Record an auditor's review of one break-glass use."""
    access = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
    access.reviewed_at = timezone.now()
    access.reviewed_by = by
    access.review_note = note
    access.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    audit.log_access(
        actor=by,
        action=AccessLog.Action.CHANGE,
        object_type="breakglassaccess",
        object_id=access.pk,
        basis=AccessLog.Basis.AUDIT,
        basis_ref=access.pk,
    )
    return access
