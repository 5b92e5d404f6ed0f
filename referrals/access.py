"""Fetch-and-authorize helpers for referrals; outsiders get 404 and a denied access-log row."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from casework import audit
from casework.access import CASE_ROLES, object_pk
from casework.choices import Role
from casework.models import AccessLog, Organization
from casework.selectors import Viewer, viewer_for
from referrals.models import LegalBasis, Referral, ReferralGroupObjectPermission, ReferralState

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
    return user_or_viewer if isinstance(user_or_viewer, Viewer) else Viewer(user_or_viewer)


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


def receiver_basis(referral: Referral) -> tuple[str, str]:
    """Return the access-log basis the receiver sees the card on (what was recorded at send time)."""
    if referral.legal_basis == LegalBasis.SUPPORT_MEETING:
        return AccessLog.Basis.SUPPORT_MEETING, referral.legal_basis_ref[:60]
    if referral.legal_basis in {LegalBasis.CONSENT, LegalBasis.PERSON_AGREED}:
        return AccessLog.Basis.CONSENT, str(referral.consent_id or referral.legal_basis)
    return AccessLog.Basis.NONE, referral.legal_basis


def place_access_expired(referral: Referral, organization: Organization) -> bool:
    """Whether a place's access to a referral card has run out (set time after it ended)."""
    if organization.kind != Organization.Kind.PLACE_OPERATOR or referral.receiver_organization_id != organization.pk:
        return False
    return referral.place_access_until is not None and timezone.now() >= referral.place_access_until


def referral_access(user_or_viewer, referral: Referral) -> ReferralAccess | None:
    """Return the viewer's side of the referral, or None when they may not see it (checked afresh)."""
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
    if referral.receiver_organization_id in orgs and referral.state != ReferralState.DRAFT:
        if place_access_expired(referral, referral.receiver_organization):
            return None
        basis, ref = receiver_basis(referral)
        return ReferralAccess(RECEIVER, referral.receiver_organization_id, basis, ref)
    return None


def referrals_for_user(user_or_viewer) -> QuerySet[Referral]:
    """Return every referral granted to an organization the viewer acts for (expiry is checked per side)."""
    viewer = _viewer(user_or_viewer)
    groups = acting_groups(viewer)
    if not groups:
        return Referral.objects.none()
    granted = ReferralGroupObjectPermission.objects.filter(
        group_id__in=list(groups), permission__codename=VIEW_REFERRAL
    ).values("content_object_id")
    return Referral.objects.filter(pk__in=Subquery(granted))


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


def deny(request, *, object_id) -> None:
    """Log the refused access, then answer 404 as if nothing were there."""
    audit.log_access(
        actor=request.user,
        action=AccessLog.Action.DENIED,
        object_type="referral",
        object_id=object_id,
        outcome=AccessLog.Outcome.DENIED,
    )
    raise Http404


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
        deny(request, object_id=pk)
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
