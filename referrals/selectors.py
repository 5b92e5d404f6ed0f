"""Reads for the referral screens: inbox, outbox, counts, overdue lists and home panels."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import audit
from casework.disclosure import Basis
from casework.models import AccessLog, Organization
from casework.paper.drawings import EcoTie
from casework.viewers import Viewer
from core.panels import Panel
from places.participants import Participant
from referrals.access import (
    VIEW_REFERRAL,
    acting_organization_ids,
    log_received,
    place_access_expired,
    received_bases,
    receiver_bases,
    referrals_for_user,
)
from referrals.models import ACTIVE_STATES, Referral, ReferralGroupObjectPermission, ReferralKind, ReferralState

# Rows per inbox/outbox page; the state counts give the total, so paging needs no COUNT(*).
PAGE_SIZE = 50


@dataclass
class Box:
    """One inbox or outbox page: rows, counts by state, the overdue count and where the page is."""

    rows: list[Referral]
    counts: list[tuple[str, str, int]]
    overdue: int
    state: str
    page: int = 1
    pages: int = 1
    total: int = 0
    # {referral id: the basis the viewer sees it on}, for the rows an inbox shows (the log rows carry it).
    bases: dict[int, Basis] = field(default_factory=dict)


def _rows(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    return qs.select_related("sender_organization", "receiver_organization", "sender_user", "place").order_by(
        "-sent_at", "-created_at", "-id"
    )


def inbox(viewer: Viewer, *, state: str = "", overdue: bool = False, page: int = 1, size: int | None = 200) -> Box:
    """Return the cards sent to the viewer's organizations whose basis holds now (never drafts); size None: every row."""
    bases = received_bases(viewer, acting_organization_ids(viewer))
    box = _box(Referral.objects.filter(pk__in=list(bases)), state=state, overdue=overdue, page=page, size=size)
    box.bases = {r.pk: bases[r.pk] for r in box.rows}
    return box


def outbox(viewer: Viewer, *, state: str = "", overdue: bool = False, page: int = 1, size: int | None = 200) -> Box:
    """Return the referrals the viewer's organizations sent or drafted; size None: every row."""
    orgs = acting_organization_ids(viewer)
    qs = referrals_for_user(viewer).filter(sender_organization_id__in=orgs)
    return _box(qs, state=state, overdue=overdue, page=page, size=size)


def _box(qs: QuerySet[Referral], *, state: str, overdue: bool, page: int = 1, size: int | None = 200) -> Box:
    today = timezone.localdate()
    overdue_q = Q(state=ReferralState.REQUESTED, due_on__lt=today)
    # One grouped query for the state counts and the overdue count, instead of reading every row.
    grouped = qs.order_by().values("state").annotate(n=Count("id"), late=Count("id", filter=overdue_q))
    by_state = {row["state"]: row["n"] for row in grouped}
    overdue_count = sum(row["late"] for row in grouped)
    if state in ReferralState.values:
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(overdue_q)
    counts = [(code, str(label), by_state.get(code, 0)) for code, label in ReferralState.choices]
    if overdue:
        total = overdue_count
    elif state in ReferralState.values:
        total = by_state.get(state, 0)
    else:
        total = sum(by_state.values())
    if size is None:
        return Box(list(_rows(qs)), counts, overdue_count, state, total=total)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = list(_rows(qs)[(page - 1) * size : page * size])
    return Box(rows, counts, overdue_count, state, page=page, pages=pages, total=total)


def overdue_by_organization(*, on=None) -> dict[Organization, list[Referral]]:
    """Return requested referrals past their due date, grouped by receiving organization."""
    on = on or timezone.localdate()
    result: dict[Organization, list[Referral]] = {}
    qs = Referral.objects.filter(state=ReferralState.REQUESTED, due_on__lt=on).select_related(
        "receiver_organization", "sender_organization"
    )
    rows = list(qs.select_related("case").order_by("receiver_organization__name", "due_on", "id"))
    # A card whose basis lapsed is no longer the receiver's to answer.
    holding = receiver_bases(rows, on=on)
    for referral in rows:
        if referral.pk in holding:
            result.setdefault(referral.receiver_organization, []).append(referral)
    return result


def case_referrals(case) -> list[Referral]:
    """Return the referrals made from a case and the つなぎ that opened it."""
    return list(
        Referral.objects.filter(Q(case=case) | Q(linked_case=case))
        .select_related("sender_organization", "receiver_organization", "place")
        .order_by("-created_at", "-id")
    )


def case_panel(request, case, viewer: Viewer):
    """Return the case page's referral panel (the case page already logged the case view)."""

    if not viewer.works_cases:
        return None
    can_change = bool(getattr(case, "access", None) and case.access.can_change)
    return Panel(
        _("紹介・つなぎ"),
        "referrals/panels/case.html",
        {"case": case, "referrals": case_referrals(case), "can_refer": can_change},
        order=60,
    )


# Cards a home panel shows; the inbox screen has the rest.
HOME_ROWS = 20


def home_panels(request, viewer: Viewer) -> list:
    """Return the referral panels of the viewer's home page: incoming, attendance to record, counts.

    Only the cards the panels show are read (20 open ones, and for place staff 20 to take attendance
    for); the overdue count is one COUNT.
    """

    orgs = acting_organization_ids(viewer)
    if not orgs:
        return []
    bases = received_bases(viewer, orgs)
    received = Referral.objects.filter(pk__in=list(bases))
    overdue = received.filter(state=ReferralState.REQUESTED, due_on__lt=timezone.localdate()).count() if bases else 0
    open_states = [*ACTIVE_STATES, ReferralState.REQUESTED]
    active = list(_rows(received.filter(state__in=open_states))[:HOME_ROWS]) if bases else []
    attendance = []
    if viewer.is_place_staff and bases:
        attendance = list(
            _rows(
                received.filter(
                    kind=ReferralKind.PARTICIPATION, state__in=[ReferralState.ACCEPTED, ReferralState.IN_PROGRESS]
                )
            )[:HOME_ROWS]
        )
    shown = list({r.pk: r for r in [*active, *attendance]}.values())
    try:
        if shown:
            log_received(
                request.user, action=AccessLog.Action.LIST, object_type="referral_home", rows=shown, bases=bases
            )
        unavailable = False
    except audit.AccessLogUnavailable:
        # Fail closed: without a log row the cards are not listed.
        active, attendance, unavailable = [], [], True
    title = _("受け入れ中の紹介") if viewer.is_place_staff and not viewer.works_cases else _("届いている紹介・つなぎ")
    panels = [
        Panel(
            title,
            "referrals/panels/incoming.html",
            {"referrals": active, "overdue": overdue, "unavailable": unavailable},
            order=25,
        )
    ]
    if viewer.is_place_staff and attendance:
        panels.append(Panel(_("出欠の記録"), "referrals/panels/attendance.html", {"referrals": attendance}, order=26))
    return panels


def place_participants(place, refs=None) -> list:
    """Return the 参加支援 participants a place's attendance screen may know (places' participant source).

    The same rule as the card (referrals.access.referral_access for the receiver): the place's operator
    holds the card's grant, it was sent, and its place access period has not run out. Attendance can be
    recorded while the referral is accepted or under way.
    """
    granted = ReferralGroupObjectPermission.objects.filter(
        group_id=place.operator.group_id, permission__codename=VIEW_REFERRAL
    ).values("content_object_id")
    qs = (
        Referral.objects.filter(
            kind=ReferralKind.PARTICIPATION,
            place_id=place.pk,
            receiver_organization_id=place.operator_id,
            pk__in=granted,
        )
        .exclude(state=ReferralState.DRAFT)
        .select_related("receiver_organization")
    )
    if refs is not None:
        ids = [int(ref[len("referral:") :]) for ref in refs if ref[len("referral:") :].isdigit()]
        qs = qs.filter(pk__in=[i for i in ids if i < 2**63])
    referrals = list(qs.select_related("case").order_by("id"))
    bases = receiver_bases(referrals)
    result = []
    for referral in referrals:
        ref = referral.participant_ref
        basis = bases.get(referral.pk)
        if basis is None and not place_access_expired(referral, referral.receiver_organization):
            # The consent or decision the card rested on no longer holds: the place may not see who it was.
            refusal = _(
                "この紹介の根拠（本人同意など）が失効したため、出欠は記録できません。紹介元に確認してください。"
            )
            result.append(Participant(ref=ref, refusal=refusal))
            continue
        if place_access_expired(referral, referral.receiver_organization):
            until = timezone.localtime(referral.place_access_until)
            refusal = _(
                "この紹介は居場所の閲覧期限（%(d)s）を過ぎたため、出欠は記録できません。紹介元に確認してください。"
            ) % {"d": f"{until:%Y年%-m月%-d日}"}
            result.append(Participant(ref=ref, refusal=refusal))
            continue
        recordable = referral.state in {ReferralState.ACCEPTED, ReferralState.IN_PROGRESS}
        result.append(
            Participant(
                ref=ref,
                label=referral.card_preferred_name or _("紹介 #%(id)s") % {"id": referral.pk},
                person_ids=(referral.person_id,) if referral.person_id else (),
                visible=True,
                recordable=recordable,
                refusal="" if recordable else _("受諾後・対応中の紹介にだけ出欠を記録できます。"),
                basis=basis.kind,
                basis_ref=basis.ref,
                since=timezone.localdate(referral.sent_at) if referral.sent_at else None,
            )
        )
    return result


# Where a person attends, for the case's ecomap: 見学 is a weak tie, 体験 a normal one, 定着 a strong one.
ECOMAP_STRENGTH = {"visit": "weak", "trial": "normal", "regular": "strong"}
ECOMAP_STATES = (ReferralState.ACCEPTED, ReferralState.IN_PROGRESS, ReferralState.COMPLETED)


def ecomap_places(case, viewer: Viewer) -> list[EcoTie]:
    """Return the places the case's persons go to through 参加支援 referrals (the case page shows them too)."""
    if not viewer.works_cases:
        return []
    ties: dict[int, EcoTie] = {}
    for referral in case_referrals(case):
        if referral.kind != ReferralKind.PARTICIPATION or referral.place is None or referral.state not in ECOMAP_STATES:
            continue
        ties[referral.place_id] = EcoTie(
            label=referral.place.name,
            kind="place",
            strength=ECOMAP_STRENGTH.get(referral.stage, "weak"),
            note=str(referral.get_stage_display() or referral.get_state_display()),
        )
    return list(ties.values())


def disclosure_items(person, names: list[str]) -> list:
    """The referral cards about a person, for their 開示請求 package (casework.disclosure_package)."""
    from casework.disclosure_package import Item, text_item

    items = []
    referrals = (
        Referral.objects.filter(person=person)
        .select_related("sender_organization", "receiver_organization")
        .order_by("created_at", "id")
    )
    for r in referrals:
        record = f"紹介 #{r.pk}（{r.get_kind_display()}・{r.sender_organization} → {r.receiver_organization}）"
        items += [
            Item("紹介", record, "状態", r.get_state_display()),
            Item("紹介", record, "送付日時", f"{r.sent_at:%Y-%m-%d %H:%M}" if r.sent_at else ""),
            text_item("紹介", record, "依頼内容", r.request_text, f"referral:{r.pk}:request_text", names),
            Item("紹介", record, "呼び名", r.card_preferred_name),
            Item("紹介", record, "年代", r.card_age_band),
            text_item("紹介", record, "本人のやりたいこと・希望", r.card_wishes, f"referral:{r.pk}:card_wishes", names),
            text_item(
                "紹介",
                record,
                "配慮してほしいこと",
                r.card_accommodations,
                f"referral:{r.pk}:card_accommodations",
                names,
            ),
            Item("紹介", record, "参加しやすい日時", r.card_schedule),
            text_item("紹介", record, "結果", r.outcome, f"referral:{r.pk}:outcome", names),
        ]
    return [i for i in items if i.value]


def dated_items(viewer, start, end, mine: bool) -> list:
    """Referral response dates for やること and the calendar (registered in casework.calendar).

    The receiver has to answer (a to-do); the sender waits for the answer (on the calendar only).
    Titles carry the referral number and kind only.
    """
    from casework.calendar import DatedItem

    orgs = acting_organization_ids(viewer)
    if not orgs:
        return []
    rows = referrals_for_user(viewer).filter(state=ReferralState.REQUESTED, due_on__range=(start, end))
    items = []
    for referral in rows.order_by("due_on", "id"):
        receiving = referral.receiver_organization_id in orgs
        if mine and not receiving and referral.sender_user_id != viewer.user.pk:
            continue
        title = (_("%(kind)s #%(id)s への回答") if receiving else _("%(kind)s #%(id)s の回答待ち")) % {
            "kind": referral.get_kind_display(),
            "id": referral.pk,
        }
        items.append(
            DatedItem(
                on=referral.due_on,
                kind=_("回答期限"),
                title=title,
                feed_title=title,
                case_id=referral.case_id,
                url=referral.get_absolute_url(),
                todo=receiving,
                mine=referral.sender_user_id == viewer.user.pk,
            )
        )
    return items
