"""Consent: recording and withdrawing it (withdrawal ends what rested on it)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from casework import disclosure
from casework.models import (
    AccessLog,
    Case,
    Consent,
    Organization,
    Person,
)
from casework.services.common import log_change, require_lead

# ---------------------------------------------------------------------------
# Consent
# ---------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    person: Person,
    given_on: date,
    method: str,
    explained_by,
    scope_kind: str,
    purposes: list[str],
    by,
    case: Case | None = None,
    organizations: list[Organization] = (),
    given_by: str = Consent.GivenBy.SELF,
    giver_name: str = "",
    document_version: str = "",
    valid_until: date | None = None,
    status: str = Consent.Status.GIVEN,
    scanned_form=None,
) -> Consent:
    """Add an entry to the person's consent ledger (given or refused)."""
    require_lead(by, case)
    if status not in {Consent.Status.GIVEN, Consent.Status.REFUSED}:
        raise ValidationError({"status": _("同意または不同意を選んでください。")})
    consent = Consent(
        person=person,
        case=case,
        given_by=given_by,
        giver_name=giver_name,
        given_on=given_on,
        method=method,
        explained_by=explained_by,
        document_version=document_version,
        scope_kind=scope_kind,
        purposes=list(dict.fromkeys(purposes)),
        valid_until=valid_until,
        status=status,
        recorded_by=by,
    )
    if scanned_form:
        consent.scanned_form = scanned_form
    consent.full_clean()
    if scope_kind == Consent.ScopeKind.NAMED and not organizations and status == Consent.Status.GIVEN:
        raise ValidationError({"organizations": _("提供先の機関を一つ以上選んでください。")})
    consent.save()
    if organizations:
        consent.organizations.set(organizations)
    log_change(by, action=AccessLog.Action.CREATE, obj=consent, person_ids=[person.pk], case=case)
    return consent


@transaction.atomic()
def consent_withdraw(*, consent: Consent, withdrawn_on: date, by, note: str = "", case: Case | None = None) -> Consent:
    """Record a withdrawal: sharing stops from that date; what was shared before stays on record.

    Only the lead organization of the case that recorded the consent withdraws it. Inside the same
    transaction every app stops what rested on it (disclosure.consent_lapsed): team grants end,
    referrals not yet accepted are withdrawn.
    """
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if case is not None and consent.case_id is not None and consent.case_id != case.pk:
        raise ValidationError(_("この同意は別のケースで記録されたものです。"))
    require_lead(by, case or consent.case)
    if consent.status != Consent.Status.GIVEN:
        raise ValidationError(_("この同意はすでに撤回されているか、不同意です。"))
    if withdrawn_on < consent.given_on:
        raise ValidationError({"withdrawn_on": _("撤回日は同意日より後にしてください。")})
    consent.status = Consent.Status.WITHDRAWN
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_recorded_by = by
    consent.withdrawal_note = note
    consent.save()
    disclosure.consent_lapsed(consent, by=by)
    log_change(
        by, action=AccessLog.Action.CHANGE, obj=consent, person_ids=[consent.person_id], case=case or consent.case
    )
    disclosure.consent_lapsed(consent, by=by)
    return consent
