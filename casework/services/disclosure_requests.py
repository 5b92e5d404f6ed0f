"""開示請求: receiving a request, extending its deadline, the redaction review and the decision."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from casework import audit
from casework.models import AccessLog, DisclosureRedaction, DisclosureRequest, Person
from casework.models.disclosure_requests import EXTENSION_DAYS


def request_ref(request: DisclosureRequest) -> str:
    return f"disclosure_request:{request.pk}"


def log_request(request: DisclosureRequest, *, by, action: str, reason: str = "") -> None:
    """Write the access-log row for a step of the request (the statutory request is the basis)."""
    audit.log_access(
        actor=by,
        action=action,
        object_type="disclosurerequest",
        object_id=request.pk,
        person_ids=[request.person_id],
        basis=AccessLog.Basis.AUDIT,
        basis_ref=request_ref(request),
        reason=reason,
    )


@transaction.atomic
def disclosure_request_open(*, person: Person, received_on: date, requester: str, by) -> DisclosureRequest:
    """Record a 開示請求 received on a date; the decision is due 30 days later."""
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": "受付日に未来の日付は入力できません。"})
    if requester not in DisclosureRequest.Requester.values:
        raise ValidationError({"requester": "請求者を選んでください。"})
    request = DisclosureRequest.objects.create(
        person=person,
        requester=requester,
        received_on=received_on,
        due_on=DisclosureRequest.due_date(received_on),
        created_by=by,
    )
    log_request(request, by=by, action=AccessLog.Action.CREATE, reason="開示請求の受付")
    return request


@transaction.atomic
def disclosure_request_extend(*, request: DisclosureRequest, extended_due_on: date, reason: str, by):
    """Extend the deadline (by up to 30 more days) with the reason the requester is told."""
    if request.is_decided:
        raise ValidationError("決定済みの請求は延長できません。")
    if not reason.strip():
        raise ValidationError({"reason": "延長の理由を入力してください。"})
    if not request.due_on < extended_due_on <= request.due_on + timedelta(days=EXTENSION_DAYS):
        raise ValidationError(
            {"extended_due_on": f"延長後の期限は当初の期限の翌日から{EXTENSION_DAYS}日以内にしてください。"}
        )
    request.extended_due_on = extended_due_on
    request.extension_reason = reason.strip()
    request.save(update_fields=["extended_due_on", "extension_reason"])
    log_request(request, by=by, action=AccessLog.Action.CHANGE, reason="開示決定期限の延長")
    return request


@transaction.atomic
def disclosure_request_review(*, request: DisclosureRequest, item_key: str, withhold: bool, by, note: str = ""):
    """Record whether a flagged passage is withheld (third party's data) or released as it is."""
    if request.is_decided:
        raise ValidationError("決定済みの請求の判断は変更できません。")
    DisclosureRedaction.objects.update_or_create(
        request=request, item_key=item_key[:100], defaults={"withhold": withhold, "note": note[:300], "by": by}
    )
    log_request(request, by=by, action=AccessLog.Action.CHANGE, reason="黒塗りの判断")


@transaction.atomic
def disclosure_request_decide(
    *, request: DisclosureRequest, decision: str, decided_on: date, reason: str, unreviewed: int, by
) -> DisclosureRequest:
    """Record the decision; every flagged passage must have been reviewed, and partial/refusal need reasons."""
    if request.is_decided:
        raise ValidationError("この請求は決定済みです。")
    if decision not in DisclosureRequest.Decision.values:
        raise ValidationError({"decision": "決定を選んでください。"})
    if decision != DisclosureRequest.Decision.REFUSED and unreviewed:
        raise ValidationError(f"第三者の情報の可能性がある箇所が{unreviewed}件、未確認です。先に確認してください。")
    if decision != DisclosureRequest.Decision.FULL and not reason.strip():
        raise ValidationError({"reason": "部分開示・不開示の理由を入力してください。"})
    withheld = request.redactions.filter(withhold=True).exists()
    if decision == DisclosureRequest.Decision.FULL and withheld:
        raise ValidationError({"decision": "非開示にした箇所があるため、全部開示ではなく部分開示です。"})
    if decided_on < request.received_on:
        raise ValidationError({"decided_on": "決定日は受付日以降にしてください。"})
    request.decision = decision
    request.decided_on = decided_on
    request.decision_reason = reason.strip()
    request.decided_by = by
    request.save(update_fields=["decision", "decided_on", "decision_reason", "decided_by"])
    log_request(request, by=by, action=AccessLog.Action.CHANGE, reason="開示決定")
    return request
