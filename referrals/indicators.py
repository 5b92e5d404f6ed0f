"""Figures of the referral workflow and 参加支援 by 年度 and month."""

from __future__ import annotations

from statistics import median

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from casework.indicators import REFERRALS, Figure, Period, Scope
from places.indicators import attendance_figures
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
    days = [(answered - sent).total_seconds() / 86400 for sent, answered in rows]
    return round(median(days), 1) if days else None


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
        refs = [f"referral:{pk}" for pk in participation.values_list("pk", flat=True)]
    figures.extend(attendance_figures(period, refs))
    return figures
