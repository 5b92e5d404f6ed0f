"""Figures of the referral workflow and 参加支援 by 年度 and month."""

from __future__ import annotations

from statistics import median

from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.indicators import REFERRALS, Figure, Period, Scope, Tally
from core.japanese import fiscal_year
from places.choices import AttendanceStatus
from places.indicators import attendance_figures
from places.models import Attendance
from referrals.models import (
    ParticipationStage,
    Referral,
    ReferralKind,
    ReferralStage,
    ReferralState,
    ReferralTransition,
)


def scoped_referrals(scope: Scope) -> QuerySet[Referral]:
    """Return the referrals in scope: all, or those the organization sent or received."""
    if scope.organization is None:
        return Referral.objects.all()
    return Referral.objects.filter(
        Q(sender_organization=scope.organization) | Q(receiver_organization=scope.organization)
    )


def _moves_to(state: str, period: Period, scope: Scope) -> QuerySet[ReferralTransition]:
    return ReferralTransition.objects.filter(referral__in=scoped_referrals(scope), to_state=state).filter(
        period.filter(ReferralTransition, "at")
    )


def referral_figures(period: Period, scope: Scope) -> list[Figure]:
    """Referrals sent (by kind), accepted and completed in the period, from the referral history."""
    sent = scoped_referrals(scope).filter(period.filter(Referral, "sent_at"))
    figures = [Figure("referrals.sent", _("紹介の送付"), sent, "sent_at", drill=REFERRALS)]
    for code, label in ReferralKind.choices:
        figures.append(
            Figure(
                f"referrals.sent.{code}",
                _("うち%(k)s") % {"k": label},
                sent.filter(kind=code),
                "sent_at",
                drill=REFERRALS,
            )
        )
    for state, label in ((ReferralState.ACCEPTED, _("受諾")), (ReferralState.COMPLETED, _("完了"))):
        figures.append(
            Figure(
                f"referrals.{state}",
                label,
                _moves_to(state, period, scope),
                "at",
                count="referral_id",
                drill=REFERRALS,
                drill_field="referral_id",
                note=_("期間内にこの状態になった紹介の数"),
            )
        )
    return figures


def median_response_days(period: Period, scope: Scope) -> float | None:
    """Return the median days from sending to the first answer (受諾・辞退・差戻し) for answers in the period."""
    rows = (
        scoped_referrals(scope)
        .filter(period.filter(Referral, "responded_at"), sent_at__isnull=False)
        .values_list("sent_at", "responded_at")
    )
    # One query; the median itself is taken here because SQLite has no percentile function.
    return median_of([(answered - sent).total_seconds() / 86400 for sent, answered in rows])


def participation_figures(period: Period, scope: Scope) -> list[Figure]:
    """参加支援: persons referred to places, visits, trials and regular participation, attendance."""
    participation = scoped_referrals(scope).filter(kind=ReferralKind.PARTICIPATION)
    sent = participation.filter(period.filter(Referral, "sent_at"))
    stages = ReferralStage.objects.filter(referral__in=participation).filter(period.filter(ReferralStage, "on"))
    figures = [
        Figure(
            "referrals.participation.persons",
            _("参加支援で紹介した人（実人数）"),
            sent,
            "sent_at",
            count="person_id",
            drill=REFERRALS,
        ),
        Figure("referrals.participation.sent", _("参加支援の紹介（延べ件数）"), sent, "sent_at", drill=REFERRALS),
    ]
    for code, label in ParticipationStage.choices:
        figures.append(
            Figure(
                f"referrals.stage.{code}",
                _("%(s)s（実人数）") % {"s": label},
                stages.filter(stage=code),
                "on",
                count="referral__person_id",
                drill=REFERRALS,
                drill_field="referral_id",
            )
        )
    refs = None
    if scope.organization is not None:
        # A subquery, not a list read now: the report read from the stored aggregates runs no count.
        refs = participation.annotate(ref=Concat(Value("referral:"), Cast("pk", CharField()))).values("ref")
    figures.extend(attendance_figures(period, refs))
    return figures


def tally_referrals(tally: Tally) -> None:
    """Count referral and 参加支援 figures in one pass over referrals, their moves and stages, and attendance."""
    referrals = {}
    sent_ok = {ReferralState.ACCEPTED, ReferralState.COMPLETED}
    rows = Referral.objects.values_list(
        "pk", "kind", "sent_at", "responded_at", "sender_organization_id", "receiver_organization_id", "person_id"
    )
    for pk, kind, sent_at, responded_at, sender_id, receiver_id, person_id in rows.iterator(5000):
        scopes = tally.scopes({sender_id, receiver_id})
        referrals[pk] = (scopes, kind, person_id)
        tally.add(sent_at, scopes, "referrals.sent")
        tally.add(sent_at, scopes, f"referrals.sent.{kind}")
        if kind == ReferralKind.PARTICIPATION:
            tally.add(sent_at, scopes, "referrals.participation.sent")
            if person_id is not None:
                tally.add(sent_at, scopes, "referrals.participation.persons", person_id)
        if responded_at is not None and sent_at is not None:
            fy = fiscal_year(timezone.localtime(responded_at).date())
            for scope in scopes:
                tally.response_days[(fy, scope)].append((responded_at - sent_at).total_seconds() / 86400)
    moves = ReferralTransition.objects.filter(to_state__in=sent_ok).values_list("referral_id", "to_state", "at")
    for referral_id, state, at in moves.iterator(5000):
        tally.add(at, referrals[referral_id][0], f"referrals.{state}", referral_id)
    stages = ReferralStage.objects.filter(referral__kind=ReferralKind.PARTICIPATION).values_list(
        "referral_id", "stage", "on"
    )
    for referral_id, stage, on in stages.iterator(5000):
        scopes, _kind, person_id = referrals[referral_id]
        if person_id is not None:
            tally.add(on, scopes, f"referrals.stage.{stage}", person_id)
    attended = Attendance.objects.filter(status=AttendanceStatus.ATTENDED).values_list("on", "participant_ref")
    for on, ref in attended.iterator(5000):
        # Municipality-wide every attendance counts; an organization's scope, its participation referrals'.
        scopes = {None}
        prefix, _, pk = (ref or "").partition(":")
        if prefix == "referral" and pk.isdigit() and int(pk) in referrals:
            scopes, kind, _person = referrals[int(pk)]
            if kind != ReferralKind.PARTICIPATION:
                scopes = {None}
        tally.add(on, scopes, "places.attendance")


def median_of(days: list[float]) -> float | None:
    """Return the median response days rounded like the live figure, or None without answers."""
    return round(median(days), 1) if days else None
