"""Fetch-and-authorize helpers for referrals; outsiders get 404 and a denied access-log row."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from casework import audit, disclosure
from casework.access import CASE_ROLES, deny, object_pk
from casework.choices import Role
from casework.disclosure import Basis
from casework.models import AccessLog, ConsentPurpose, Organization
from casework.viewers import Viewer, viewer_for, viewer_of
from referrals.models import LegalBasis, Referral, ReferralGroupObjectPermission, ReferralKind, ReferralState

VIEW_REFERRAL = "view_referral"
SENDER = "sender"
RECEIVER = "receiver"


@dataclass(frozen=True)
class ReferralAccess:
    """Which side of the referral the viewer is on, for which organization, and the log basis."""

    side: str
    organization_id: int
    basis: str
    basis_ref: str = ""

    @property
    def is_sender(self) -> bool:
        return self.side == SENDER

    @property
    def is_receiver(self) -> bool:
        return self.side == RECEIVER


def _viewer(user_or_viewer) -> Viewer:
    return user_or_viewer if isinstance(user_or_viewer, Viewer) else viewer_of(user_or_viewer)


def roles_for(organization: Organization) -> tuple[str, ...]:
    """Return the roles that act for an organization in referrals: place staff for operators, else caseworkers."""
    if organization.kind == Organization.Kind.PLACE_OPERATOR:
        return (Role.PLACE_STAFF,)
    return tuple(CASE_ROLES)


def acting_organization_ids(viewer: Viewer) -> set[int]:
    """Return the organizations the viewer may act for in referrals (by role and organization kind)."""
    return {m.organization_id for m in viewer.memberships if m.role in roles_for(m.organization)}


def acting_groups(viewer: Viewer) -> dict[int, int]:
    """Return {group id: organization id} for the organizations the viewer acts for."""
    return {
        m.organization.group_id: m.organization_id for m in viewer.memberships if m.role in roles_for(m.organization)
    }


def consent_purpose_for(referral: Referral) -> str:
    """Return the consent purpose a referral needs: place referral or sharing with agencies."""
    if referral.kind == ReferralKind.PARTICIPATION:
        return ConsentPurpose.PLACE_REFERRAL
    return ConsentPurpose.SHARE_WITH_AGENCIES


# つなぎ: a place passes on a few words with the person's knowledge, or to protect them; no consent record exists.
TSUNAGI_BASES = (LegalBasis.PERSON_AGREED, LegalBasis.VITAL_INTEREST)


def _tsunagi_basis(referral: Referral) -> Basis:
    kind = AccessLog.Basis.CONSENT if referral.legal_basis == LegalBasis.PERSON_AGREED else AccessLog.Basis.NONE
    return Basis(kind, referral.legal_basis, organization_id=referral.receiver_organization_id)


def place_access_expired(referral: Referral, organization: Organization) -> bool:
    """Whether a place's access to a referral card has run out (set time after it ended)."""
    if organization.kind != Organization.Kind.PLACE_OPERATOR or referral.receiver_organization_id != organization.pk:
        return False
    return referral.place_access_until is not None and timezone.now() >= referral.place_access_until


def receiver_bases(referrals, *, on=None) -> dict[int, Basis]:
    """Return {referral id: basis} for the received referrals whose basis holds now; the others are left out.

    The disclosure module answers: the referral's consent must still be in force, name the receiver
    and cover the purpose (withdrawal, expiry and narrowing take effect at once), or a recorded
    支援会議 decision to share the case with the receiver must still be on record. A draft never
    reaches the receiver, and a place's card also ends at place_access_until. Each referral needs
    case and receiver_organization loaded; one query for the consents, one 支援会議 question per
    (case, organization) pair.
    """
    rows = [r for r in referrals if r.state != ReferralState.DRAFT]
    holding = disclosure.consents_holding(
        ((r.consent_id, r.receiver_organization_id, consent_purpose_for(r)) for r in rows if r.consent_id),
        on=on,
    )
    meeting_refs: dict[tuple[int, int], str] = {}
    bases: dict[int, Basis] = {}
    for r in rows:
        if place_access_expired(r, r.receiver_organization):
            continue
        receiver_id = r.receiver_organization_id
        if r.legal_basis in TSUNAGI_BASES:
            bases[r.pk] = _tsunagi_basis(r)
        elif r.legal_basis == LegalBasis.CONSENT:
            if (r.consent_id, receiver_id, consent_purpose_for(r)) in holding:
                bases[r.pk] = Basis(AccessLog.Basis.CONSENT, str(r.consent_id), organization_id=receiver_id)
        elif r.legal_basis == LegalBasis.SUPPORT_MEETING and r.case_id:
            key = (r.case_id, receiver_id)
            if key not in meeting_refs:
                meeting_refs[key] = disclosure.support_meeting_decision(r.case, r.receiver_organization, on=on)
            if meeting_refs[key]:
                bases[r.pk] = Basis(
                    AccessLog.Basis.SUPPORT_MEETING, meeting_refs[key][:60], organization_id=receiver_id
                )
    return bases


def receiver_basis(referral: Referral, *, on=None) -> Basis | None:
    """Return the basis on which the receiver may see the card now, or None when it no longer holds."""
    return receiver_bases([referral], on=on).get(referral.pk)


def referral_access(user_or_viewer, referral: Referral) -> ReferralAccess | None:
    """Return the viewer's side of the referral, or None when they may not see it (checked afresh).

    The sender's organization sees its own referral. The receiver sees the card only while the
    basis it was sent on still holds (receiver_basis), before and after acceptance alike: once the
    basis lapses the card disappears from the receiver. An accepted 機関間 receiver reaches the
    case through its team grant, which casework checks on its own basis.
    """
    viewer = _viewer(user_or_viewer)
    groups = acting_groups(viewer)
    if not groups:
        return None
    granted = set(
        ReferralGroupObjectPermission.objects.filter(
            content_object=referral, group_id__in=list(groups), permission__codename=VIEW_REFERRAL
        ).values_list("group_id", flat=True)
    )
    orgs = {groups[g] for g in granted}
    if referral.sender_organization_id in orgs:
        return ReferralAccess(SENDER, referral.sender_organization_id, AccessLog.Basis.OWN_ORGANIZATION)
    if referral.receiver_organization_id in orgs:
        basis = receiver_basis(referral)
        if basis is None:
            return None
        return ReferralAccess(RECEIVER, referral.receiver_organization_id, basis.kind, basis.ref)
    return None


def _granted(viewer: Viewer) -> Subquery | None:
    groups = acting_groups(viewer)
    if not groups:
        return None
    return Subquery(
        ReferralGroupObjectPermission.objects.filter(
            group_id__in=list(groups), permission__codename=VIEW_REFERRAL
        ).values("content_object_id")
    )


def received_bases(user_or_viewer, organization_ids=None) -> dict[int, Basis]:
    """Return {referral id: basis} for the cards received by the viewer's organizations that they may see now."""
    viewer = _viewer(user_or_viewer)
    granted = _granted(viewer)
    if granted is None:
        return {}
    orgs = acting_organization_ids(viewer) if organization_ids is None else set(organization_ids)
    candidates = (
        Referral.objects.filter(pk__in=granted, receiver_organization_id__in=list(orgs))
        .exclude(state=ReferralState.DRAFT)
        .exclude(legal_basis="")
        .select_related("receiver_organization", "case")
        .only("id", "state", "kind", "consent_id", "legal_basis", "case", "receiver_organization", "place_access_until")
    )
    return receiver_bases(candidates)


def referrals_for_user(user_or_viewer) -> QuerySet[Referral]:
    """Return the referrals the viewer may see: their organizations' own, and received cards whose basis holds."""
    viewer = _viewer(user_or_viewer)
    granted = _granted(viewer)
    if granted is None:
        return Referral.objects.none()
    orgs = acting_organization_ids(viewer)
    received = received_bases(viewer, orgs)
    return Referral.objects.filter(pk__in=granted).filter(
        Q(sender_organization_id__in=list(orgs)) | Q(pk__in=list(received))
    )


def person_ids_for_referral(referral: Referral) -> list[int]:
    """Return the person the referral's card is about (none for a つなぎ before a case)."""
    return [referral.person_id] if referral.person_id else []


def log_referral_access(request, referral: Referral, access: ReferralAccess, *, action: str) -> None:
    """Write the access-log row for an allowed look at a referral (raises AccessLogUnavailable)."""
    audit.log_access(
        actor=request.user,
        action=action,
        object_type="referral",
        object_id=referral.pk,
        person_ids=person_ids_for_referral(referral),
        basis=access.basis,
        basis_ref=access.basis_ref,
        organization_id=access.organization_id,
    )


def log_received(actor, *, action: str, object_type: str, rows, bases: dict[int, Basis]) -> None:
    """Log a list of received cards: one row per basis kind, with its persons and the module's references."""
    groups: dict[str, tuple[set[int], set[str]]] = {}
    for r in rows:
        basis = bases[r.pk]
        persons, refs = groups.setdefault(basis.kind, (set(), set()))
        if r.person_id:
            persons.add(r.person_id)
        if basis.ref:
            refs.add(basis.ref)
    if not groups:
        audit.log_access(actor=actor, action=action, object_type=object_type, basis=AccessLog.Basis.NONE)
    for kind, (persons, refs) in sorted(groups.items()):
        audit.log_access(
            actor=actor,
            action=action,
            object_type=object_type,
            person_ids=sorted(persons),
            basis=kind,
            basis_ref=",".join(sorted(refs))[:60],
        )


def person_ids_shown(rows) -> list[int]:
    """Return the persons whose cards a list shows."""
    return sorted({r.person_id for r in rows if r.person_id})


def log_sent(actor, *, rows) -> None:
    """Log the sender's list of its own referrals (its own organization's records)."""
    audit.log_access(
        actor=actor,
        action=AccessLog.Action.LIST,
        object_type="referral_outbox",
        person_ids=person_ids_shown(rows),
        basis=AccessLog.Basis.OWN_ORGANIZATION,
    )


def _authorized_referral(request, pk, *, side: str | None = None) -> Referral:
    """Fetch the referral and attach the user's access, or log the refusal and 404; writes no allowed row."""
    referral_id = object_pk(pk)
    referral = (
        Referral.objects.select_related(
            "sender_organization", "receiver_organization", "sender_user", "place", "case", "linked_case"
        )
        .filter(pk=referral_id)
        .first()
        if referral_id is not None
        else None
    )
    access = referral_access(viewer_for(request), referral) if referral is not None else None
    if access is None or (side is not None and access.side != side):
        deny(request, object_type="referral", object_id=pk)
    referral.access = access
    return referral


def get_referral_for_user(request, pk, *, action: str = AccessLog.Action.VIEW, side: str | None = None) -> Referral:
    """Return the referral if the user may see it (from that side, if given), logging it; else log and 404.

    Every answer that renders the card calls this first, error answers (400, 409) included.
    """
    referral = _authorized_referral(request, pk, side=side)
    log_referral_access(request, referral, referral.access, action=action)
    return referral


def may_still_see_referral(request, pk) -> bool:
    """Whether the user may still open the referral after a move; shows nothing, so logs nothing."""
    referral_id = object_pk(pk)
    referral = Referral.objects.filter(pk=referral_id).select_related("receiver_organization").first()
    return referral is not None and referral_access(viewer_for(request), referral) is not None


def notification_target_visible(viewer, target_id: str) -> bool:
    """For a notification about a referral: may the reader still see the referral (no log: nothing is shown)?"""
    referral = Referral.objects.filter(pk=int(target_id)).first() if str(target_id).isdigit() else None
    return referral is not None and referral_access(viewer, referral) is not None
