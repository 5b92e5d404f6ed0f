"""Writes of the referral workflow; each checks the actor's side and writes the access log."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from casework import audit, disclosure
from casework.access import can_change_case, person_ids_for_case
from casework.disclosure import Basis, consent_check, share_basis
from casework.models import AccessLog, Case, Consent, IntakeRoute, NotificationKind, Organization, Person
from casework.notifications.services import notify
from casework.services.cases import case_open, case_team_add, case_team_remove
from casework.services.persons import household_add_member, household_create, person_create
from casework.viewers import viewer_of
from core.japanese import format_wareki, with_honorific
from referrals import integration
from referrals.access import (
    RECEIVER,
    SENDER,
    ReferralAccess,
    acting_organization_ids,
    consent_purpose_for,
    receiver_basis,
    referral_access,
)
from referrals.models import (
    ENDED_STATES,
    PLACE_ACCESS_DAYS,
    LegalBasis,
    ParticipationStage,
    Referral,
    ReferralKind,
    ReferralNote,
    ReferralStage,
    ReferralState,
    ReferralTransition,
)

logger = logging.getLogger(__name__)

VIEW_PERMISSION = "referrals.view_referral"
CARD_FIELDS = (
    "card_name",
    "card_preferred_name",
    "card_age_band",
    "card_wishes",
    "card_accommodations",
    "card_schedule",
    "card_contact",
)
EDITABLE_FIELDS = {"request_text", "due_on", *CARD_FIELDS}
RECEIVER_KINDS = {Organization.Kind.WINDOW, Organization.Kind.COORDINATOR, Organization.Kind.MUNICIPAL}

# Words that point at diagnoses, benefits, debts, history or family trouble: a place's card must
# describe practical accommodations instead (「大人数が苦手」「筆談希望」「午前のみ」).
WITHHELD_WORDS = (
    "障害",
    "障がい",
    "診断",
    "病",
    "症",
    "手帳",
    "精神",
    "発達",
    "認知",
    "うつ",
    "統合失調",
    "服薬",
    "生活保護",
    "保護費",
    "年金",
    "借金",
    "債務",
    "滞納",
    "虐待",
    "DV",
    "ＤＶ",
    "前科",
    "逮捕",
    "非行",
    "離婚",
)


# ---------------------------------------------------------------------------
# Errors the screens turn into messages
# ---------------------------------------------------------------------------


class ReferralChanged(Exception):
    """Someone else moved the referral since the page was shown."""

    message = "この紹介は他の職員により更新されました。最新の状態を確認してください。"

    def __str__(self) -> str:
        return self.message


class ReferralBlocked(Exception):
    """Sending is not allowed: no valid consent and no recorded legal basis; the message is Japanese."""


class InvalidMove(Exception):
    """A move the workflow or the viewer's side does not allow, or one missing its reason."""


# ---------------------------------------------------------------------------
# Moves: which side makes each one, and what it needs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One move of the workflow as the screens offer it."""

    name: str
    method: str
    label: str
    side: str
    needs_reason: bool = False
    needs_outcome: bool = False
    danger: bool = False


MOVES = {
    m.name: m
    for m in [
        Move("send", "send", "送付する", SENDER),
        Move("resend", "resend", "再送付する", SENDER),
        Move("accept", "accept", "受諾する", RECEIVER),
        Move("reject", "reject", "辞退する", RECEIVER, needs_reason=True, danger=True),
        Move("return", "return_for_information", "差し戻す（情報不足）", RECEIVER, needs_reason=True),
        Move("cancel", "cancel", "取り下げる", SENDER, needs_reason=True, danger=True),
        Move("start", "start", "対応を開始する", RECEIVER),
        Move("hold", "hold", "保留にする", RECEIVER, needs_reason=True),
        Move("resume", "resume", "保留を解除する", RECEIVER),
        Move("complete", "complete", "完了にする", RECEIVER, needs_outcome=True),
        Move("fail", "fail", "不成立として終える", RECEIVER, needs_reason=True, danger=True),
    ]
}


# What the screen says after a move: what happened, not the button's label (「受諾しました」).
MOVE_DONE = {
    "accept": "受諾しました。",
    "reject": "辞退しました。",
    "return": "差し戻しました（情報不足）。",
    "cancel": "取り下げました。",
    "start": "対応を開始しました。",
    "hold": "保留にしました。",
    "resume": "保留を解除しました。",
    "complete": "完了にしました。",
    "fail": "不成立として終えました。",
}


def move_side(referral: Referral, move: Move) -> str:
    """Return which side makes the move; a 参加支援 is closed by the referrer, who sees the feedback."""
    if move.name in {"complete", "fail"} and referral.kind == ReferralKind.PARTICIPATION:
        return SENDER
    return move.side


def available_moves(referral: Referral, access: ReferralAccess | None) -> list[Move]:
    """Return the moves the viewer may make now (send/resend are offered by the send form)."""
    if access is None:
        return []
    methods = {t.name for t in referral.get_available_state_transitions()}
    return [
        m
        for m in MOVES.values()
        if m.method in methods and move_side(referral, m) == access.side and m.name not in {"send", "resend"}
    ]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _log(by, referral: Referral, *, action: str, organization_id: int, basis: str, basis_ref="", reason="") -> None:
    audit.log_access(
        actor=by,
        action=action,
        object_type="referral",
        object_id=referral.pk,
        person_ids=[referral.person_id] if referral.person_id else [],
        basis=basis,
        basis_ref=basis_ref,
        organization_id=organization_id,
        reason=reason,
    )


def _grant(referral: Referral, organization: Organization) -> None:
    assign_perm(VIEW_PERMISSION, organization.group, referral)


def _lock(referral: Referral, expected_version: int | None) -> Referral:
    locked = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("sender_organization", "receiver_organization", "case", "place")
        .get(pk=referral.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ReferralChanged()
    return locked


def _side_access(by, referral: Referral, side: str | None) -> ReferralAccess:
    access = referral_access(by, referral)
    if access is None and referral.receiver_organization_id in acting_organization_ids(_viewer(by)):
        if referral.state != ReferralState.DRAFT and receiver_basis(referral) is None:
            raise InvalidMove(
                _("この紹介の根拠（本人同意または支援会議の決定）が失われたため、受け取った側では扱えません。")
            )
    if access is None or (side is not None and access.side != side):
        raise InvalidMove(_("この紹介でこの操作をする権限がありません。"))
    return access


def withheld_words(text: str) -> list[str]:
    """Return the words in text that a place's card must not carry."""
    return [w for w in WITHHELD_WORDS if w in (text or "")]


def withheld_message(found: list[str], *, what: str = "") -> str:
    """Return the Japanese explanation for text a place would read that carries withheld words."""
    if what == "reason":
        hint = _("「本人の都合により」「日程が合わないため」のように、事情に触れずに書いてください。")
    else:
        hint = _("「大人数が苦手」「筆談希望」「午前のみ」のように配慮の内容で書いてください。")
    return _("居場所には診断名や制度・家計・家族の事情を伝えません（「%(w)s」）。") % {"w": "」「".join(found)} + hint


def _check_text_for_place(text: str, *, what: str = "") -> None:
    """Refuse text a place will read (InvalidMove) when it carries a withheld word."""
    found = withheld_words(text)
    if found:
        raise InvalidMove(withheld_message(found, what=what))


def _validate_card(kind: str, fields: dict) -> None:
    errors = {}
    if kind != ReferralKind.INTER_AGENCY and fields.get("card_name"):
        errors["card_name"] = _("氏名を伝えられるのは機関間の紹介だけです。呼び名を使ってください。")
    if kind == ReferralKind.PARTICIPATION:
        # The request text goes to the place with the card, so it follows the card's rule.
        for name in ("request_text", *CARD_FIELDS):
            found = withheld_words(fields.get(name, ""))
            if found:
                errors[name] = withheld_message(found)
    if not (fields.get("request_text") or "").strip():
        errors["request_text"] = _("依頼内容を入力してください。")
    if errors:
        raise ValidationError(errors)


def _record(locked: Referral, *, from_state: str, by, access: ReferralAccess, reason: str = "") -> None:
    """Save a move: bump the version, add the timeline row and the access-log row."""
    locked.version += 1
    locked.save()
    ReferralTransition.objects.create(
        referral=locked,
        from_state=from_state,
        to_state=locked.state,
        by=by,
        organization_id=access.organization_id,
        reason=reason,
    )
    _log(
        by,
        locked,
        action=AccessLog.Action.TRANSITION,
        organization_id=access.organization_id,
        basis=access.basis,
        basis_ref=access.basis_ref,
        reason=f"{from_state}→{locked.state}",
    )


def person_card(*, kind: str, person: Person) -> dict:
    """Return the card fields that come from the person: preferred name, age band (and 氏名 between agencies)."""
    card = {
        "card_preferred_name": person.preferred_name or person.alias or person.given_name,
        "card_age_band": person.age_band,
    }
    if kind == ReferralKind.INTER_AGENCY:
        card["card_name"] = person.full_name
    return card


def _notify(referral: Referral, *, kind: str, summary: str, by, to_sender: bool) -> None:
    """Tell the other side (in this transaction): the sender's organization and worker, or the receiver's."""
    if to_sender:
        notify(
            kind=kind,
            summary=summary,
            by=by,
            organizations=[referral.sender_organization],
            users=[referral.sender_user],
            case=referral.case,
            target_type="referral",
            target_id=referral.pk,
            url=referral.get_absolute_url(),
        )
    else:
        notify(
            kind=kind,
            summary=summary,
            by=by,
            organizations=[referral.receiver_organization],
            target_type="referral",
            target_id=referral.pk,
            url=referral.get_absolute_url(),
        )


def default_card(*, kind: str, person: Person | None, by, organization: Organization) -> dict:
    """Return the safe defaults of a card: preferred name, age band and the worker's contact only."""
    card = {name: "" for name in CARD_FIELDS}
    if person is not None:
        card |= person_card(kind=kind, person=person)
    worker = by.get_full_name() or by.username
    card["card_contact"] = " ".join(p for p in [str(organization), worker, organization.phone] if p)
    return card


# ---------------------------------------------------------------------------
# Create, edit, send
# ---------------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    kind: str,
    by,
    sender_organization: Organization,
    request_text: str,
    receiver_organization: Organization | None = None,
    case: Case | None = None,
    person: Person | None = None,
    place=None,
    due_on: date | None = None,
    **card,
) -> Referral:
    """Create a draft referral with its card; only the sender's organization can see it."""
    unknown = set(card) - set(CARD_FIELDS)
    if unknown:
        raise TypeError(f"unknown card fields: {sorted(unknown)}")
    if kind not in ReferralKind.values:
        raise ValidationError({"kind": _("紹介の種別を選んでください。")})
    if sender_organization.pk not in acting_organization_ids(_viewer(by)):
        raise InvalidMove(_("この機関として紹介を作成する権限がありません。"))
    errors = {}
    if kind == ReferralKind.TSUNAGI:
        if sender_organization.kind != Organization.Kind.PLACE_OPERATOR:
            raise InvalidMove(_("つなぎは居場所の運営団体から送ります。"))
        case = person = None
    else:
        if case is None or person is None or person.pk not in person_ids_for_case(case):
            errors["person"] = _("ケースの対象者・世帯員を選んでください。")
        elif not can_change_case(by, case):
            raise InvalidMove(_("このケースから紹介する権限がありません。"))
    if kind == ReferralKind.PARTICIPATION:
        if place is None or not place.is_active or not place.accepts_referrals:
            errors["place"] = _("参加支援を受け入れている居場所を選んでください。")
        else:
            receiver_organization = place.operator
    elif place is not None and kind == ReferralKind.INTER_AGENCY:
        place = None
    if "place" not in errors:
        if receiver_organization is None:
            errors["receiver_organization"] = _("紹介先を選んでください。")
        elif receiver_organization.pk == sender_organization.pk:
            errors["receiver_organization"] = _("自機関には紹介できません。")
        elif kind != ReferralKind.PARTICIPATION and receiver_organization.kind not in RECEIVER_KINDS:
            errors["receiver_organization"] = _("紹介先は相談支援機関・多機関協働事業者・市町村から選んでください。")
    if due_on is not None and due_on < timezone.localdate():
        errors["due_on"] = _("回答期限は今日以降の日付にしてください。")
    fields = {"request_text": request_text, **card}
    try:
        _validate_card(kind, fields)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    referral = Referral(
        kind=kind,
        case=case,
        person=person,
        sender_organization=sender_organization,
        sender_user=by,
        receiver_organization=receiver_organization,
        place=place,
        request_text=request_text.strip(),
        due_on=due_on,
        **{k: (v or "").strip() for k, v in card.items()},
    )
    referral.full_clean()
    referral.save()
    _grant(referral, sender_organization)
    _log(
        by,
        referral,
        action=AccessLog.Action.CREATE,
        organization_id=sender_organization.pk,
        basis=AccessLog.Basis.OWN_ORGANIZATION,
    )
    return referral


def _viewer(by):
    """The hat `by` acts in: the one chosen in the header when `by` is the signed-in user."""
    return viewer_of(by)


@transaction.atomic
def referral_update(*, referral: Referral, by, expected_version: int | None = None, **fields) -> Referral:
    """Change a draft or returned referral's request and card (the sender edits before sending again)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unknown referral fields: {sorted(unknown)}")
    locked = _lock(referral, expected_version)
    access = _side_access(by, locked, SENDER)
    if locked.state not in {ReferralState.DRAFT, ReferralState.RETURNED}:
        raise InvalidMove(_("下書きか差戻しの紹介だけを編集できます。"))
    merged = {name: getattr(locked, name) for name in EDITABLE_FIELDS} | fields
    _validate_card(locked.kind, merged)
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.full_clean()
    locked.version += 1
    locked.save()
    _log(by, locked, action=AccessLog.Action.CHANGE, organization_id=access.organization_id, basis=access.basis)
    return locked


def support_meeting_choices(referral: Referral) -> list[str]:
    """Return the recorded 支援会議 decisions the sender may cite to share this case with the receiver."""
    if referral.kind != ReferralKind.INTER_AGENCY or referral.case_id is None:
        return []
    ref = disclosure.support_meeting_decision(referral.case, referral.receiver_organization)
    return [ref] if ref else []


def send_check(referral: Referral, *, on: date | None = None):
    """Return casework's consent answer for sending this referral now (None for a つなぎ)."""
    if referral.kind == ReferralKind.TSUNAGI:
        return None
    return consent_check(
        person=referral.person,
        organization=referral.receiver_organization,
        purpose=consent_purpose_for(referral),
        on=on or timezone.localdate(),
        case=referral.case,
    )


@transaction.atomic
def referral_send(
    *,
    referral: Referral,
    by,
    expected_version: int | None = None,
    support_meeting_ref: str = "",
    tsunagi_basis: str = "",
) -> Referral:
    """Send (or send again after 差戻し) through the consent gate, recording the basis; no silent override."""
    locked = _lock(referral, expected_version)
    access = _side_access(by, locked, SENDER)
    if locked.state not in {ReferralState.DRAFT, ReferralState.RETURNED}:
        raise InvalidMove(_("この紹介はすでに送付されています。"))
    support_meeting_ref = (support_meeting_ref or "").strip()
    # Checked again here: a draft saved before the rule covered the request text must not reach a place.
    try:
        _validate_card(locked.kind, {name: getattr(locked, name) for name in EDITABLE_FIELDS})
    except ValidationError as exc:
        raise InvalidMove(" ".join(exc.messages)) from None
    if locked.kind == ReferralKind.TSUNAGI:
        if tsunagi_basis not in {LegalBasis.PERSON_AGREED, LegalBasis.VITAL_INTEREST}:
            raise ReferralBlocked(_("つなぎの根拠（本人の了解、または生命・身体の保護のため）を選んでください。"))
        locked.consent = None
        locked.legal_basis = tsunagi_basis
        locked.legal_basis_ref = ""
        locked.legal_basis_note = str(LegalBasis(tsunagi_basis).label)
        log_basis = AccessLog.Basis.CONSENT if tsunagi_basis == LegalBasis.PERSON_AGREED else AccessLog.Basis.NONE
        log_ref = tsunagi_basis
    else:
        answer = send_check(locked)
        if answer.allowed:
            locked.consent_id = answer.consent_id
            locked.legal_basis = LegalBasis.CONSENT
            locked.legal_basis_ref = ""
            locked.legal_basis_note = answer.reason[:500]
            log_basis, log_ref = AccessLog.Basis.CONSENT, answer.consent_id
        elif support_meeting_ref and locked.kind == ReferralKind.INTER_AGENCY:
            # 支援会議 (art. 106-6) may share without consent; its members carry statutory secrecy. The
            # basis must be a decision recorded in this system that the disclosure module finds, never free text.
            if support_meeting_ref not in support_meeting_choices(locked):
                raise ReferralBlocked(
                    _(
                        "支援会議の決定は、この紹介先との共有を決めた記録済みの決定から選んでください"
                        "（自由記述は根拠になりません）。"
                    )
                )
            locked.consent = None
            locked.legal_basis = LegalBasis.SUPPORT_MEETING
            locked.legal_basis_ref = support_meeting_ref[:200]
            locked.legal_basis_note = answer.reason[:500]
            log_basis, log_ref = AccessLog.Basis.SUPPORT_MEETING, support_meeting_ref[:60]
        else:
            hint = (
                _("本人同意を記録するか、支援会議の決定を根拠として記録してください。")
                if locked.kind == ReferralKind.INTER_AGENCY
                else _("居場所への紹介には本人同意（参加支援先への紹介）が必要です。")
            )
            raise ReferralBlocked(f"{answer.reason} {hint}")
    from_state = locked.state
    (locked.resend if from_state == ReferralState.RETURNED else locked.send)()
    locked.sent_at = timezone.now()
    _grant(locked, locked.receiver_organization)
    _record(locked, from_state=from_state, by=by, access=access)
    _log(
        by,
        locked,
        action=AccessLog.Action.SHARE,
        organization_id=access.organization_id,
        basis=log_basis,
        basis_ref=log_ref or "",
        reason=f"to_org={locked.receiver_organization_id}",
    )
    _notify(
        locked,
        kind=NotificationKind.REFERRAL_RECEIVED,
        summary=_("%(org)sから%(kind)s #%(id)s が届きました。")
        % {"org": locked.sender_organization.name, "kind": locked.get_kind_display(), "id": locked.pk},
        by=by,
        to_sender=False,
    )
    transaction.on_commit(
        lambda: logger.info("referral %s sent to organization %s", locked.pk, locked.receiver_organization_id)
    )
    return locked


# ---------------------------------------------------------------------------
# Moves after sending
# ---------------------------------------------------------------------------


@transaction.atomic
def referral_move(
    *, referral: Referral, move: str, by, reason: str = "", outcome: str = "", expected_version: int | None = None
) -> Referral:
    """Make one move (accept, reject, return, cancel, start, hold, resume, complete, fail) from the right side."""
    if move not in MOVES or move in {"send", "resend"}:
        raise InvalidMove(_("不明な操作です。"))
    spec = MOVES[move]
    locked = _lock(referral, expected_version)
    access = _side_access(by, locked, move_side(locked, spec))
    methods = {t.name for t in locked.get_available_state_transitions()}
    if spec.method not in methods:
        raise InvalidMove(
            _("現在の状態（%(s)s）では「%(m)s」はできません。") % {"s": locked.get_state_display(), "m": spec.label}
        )
    reason, outcome = (reason or "").strip(), (outcome or "").strip()
    if spec.needs_reason and not reason:
        raise InvalidMove(_("「%(m)s」には理由が必要です。") % {"m": spec.label})
    if spec.needs_outcome and not outcome:
        raise InvalidMove(_("完了にするには結果の記入が必要です。"))
    if locked.kind == ReferralKind.PARTICIPATION and access.is_sender:
        # The place reads the referrer's reason (取下げ, 不成立) and outcome on its card and timeline.
        _check_text_for_place(f"{reason}\n{outcome}", what="reason")
    from_state = locked.state
    getattr(locked, spec.method)()
    now = timezone.now()
    if move in {"accept", "reject", "return"}:
        locked.responded_at = now
    if spec.needs_outcome:
        locked.outcome = outcome
    if locked.state in {ReferralState.COMPLETED, ReferralState.FAILED, ReferralState.CANCELLED, ReferralState.REJECTED}:
        locked.ended_at = now
        if locked.receiver_organization.kind == Organization.Kind.PLACE_OPERATOR:
            locked.place_access_until = now + timedelta(days=PLACE_ACCESS_DAYS)
        if move == "fail" and not locked.outcome:
            locked.outcome = reason
    if move == "accept" and locked.kind == ReferralKind.INTER_AGENCY and locked.case_id:
        if not integration.case_team_has(locked.case, locked.receiver_organization):
            try:
                case_team_add(
                    case=locked.case,
                    organization=locked.receiver_organization,
                    by=by,
                    note=_("紹介 #%(id)s の受諾") % {"id": locked.pk},
                    basis=_team_basis(locked),
                )
            except ValidationError as exc:
                raise InvalidMove(" ".join(exc.messages)) from exc
            locked.team_added = True
    if move in {"reject", "cancel"} and locked.team_added and locked.case_id:
        case_team_remove(
            case=locked.case,
            organization=locked.receiver_organization,
            by=by,
            reason=_("紹介 #%(id)s の取下げ") % {"id": locked.pk},
            undoing_share=True,
        )
        locked.team_added = False
    _record(locked, from_state=from_state, by=by, access=access, reason=reason or outcome)
    if move in MOVE_NOTICES:
        _notify(
            locked,
            kind=MOVE_NOTICES[move],
            summary=_("%(org)sが%(kind)s #%(id)s を「%(state)s」にしました。")
            % {
                "org": locked.receiver_organization.name,
                "kind": locked.get_kind_display(),
                "id": locked.pk,
                "state": locked.get_state_display(),
            },
            by=by,
            to_sender=True,
        )
    return locked


# The receiver's answers the sender is told about.
MOVE_NOTICES = {
    "accept": NotificationKind.REFERRAL_ACCEPTED,
    "reject": NotificationKind.REFERRAL_REJECTED,
    "return": NotificationKind.REFERRAL_RETURNED,
}


def _team_basis(referral: Referral) -> Basis:
    """Return the basis the receiver joins the case team on: the case's own now, else the referral's."""
    current = share_basis(referral.case, referral.receiver_organization)
    if current is not None:
        return current
    org_id = referral.receiver_organization_id
    if referral.legal_basis == LegalBasis.SUPPORT_MEETING:
        return Basis(AccessLog.Basis.SUPPORT_MEETING, (referral.legal_basis_ref or "")[:60], organization_id=org_id)
    return Basis(AccessLog.Basis.CONSENT, str(referral.consent_id or ""), organization_id=org_id)


# ---------------------------------------------------------------------------
# 参加支援: stages, attendance and feedback
# ---------------------------------------------------------------------------


def _start_if_accepted(locked: Referral, by, access: ReferralAccess, reason: str) -> None:
    if locked.state == ReferralState.ACCEPTED:
        from_state = locked.state
        locked.start()
        ReferralTransition.objects.create(
            referral=locked,
            from_state=from_state,
            to_state=locked.state,
            by=by,
            organization_id=access.organization_id,
            reason=reason,
        )


def sent_on(referral: Referral) -> date | None:
    """The day the referral was sent (local time), or None for a draft."""
    return timezone.localdate(referral.sent_at) if referral.sent_at else None


def _refuse_before_sent(referral: Referral, on: date) -> None:
    first = sent_on(referral)
    if first is not None and on < first:
        raise ValidationError(
            {"on": _("紹介を送った日（%(d)s）より前の日付は記録できません。") % {"d": format_wareki(first)}}
        )


@transaction.atomic
def participation_stage_record(
    *, referral: Referral, stage: str, on: date, by, accompanied_by: str = "", note: str = ""
) -> ReferralStage:
    """Record 見学・体験・定着 with its date and who went along; the first one starts the referral."""
    locked = _lock(referral, None)
    access = _side_access(by, locked, None)
    if locked.kind != ReferralKind.PARTICIPATION:
        raise InvalidMove(_("段階は参加支援の紹介にだけ記録できます。"))
    if locked.state not in {ReferralState.ACCEPTED, ReferralState.IN_PROGRESS}:
        raise InvalidMove(_("受諾後・対応中の紹介にだけ段階を記録できます。"))
    if stage not in ParticipationStage.values:
        raise ValidationError({"stage": _("段階を選んでください。")})
    if on > timezone.localdate():
        raise ValidationError({"on": _("未来の日付は記録できません。")})
    _refuse_before_sent(locked, on)
    row = ReferralStage(
        referral=locked, stage=stage, on=on, accompanied_by=accompanied_by.strip(), note=note.strip(), recorded_by=by
    )
    row.full_clean()
    row.save()
    _start_if_accepted(locked, by, access, _("%(s)sの記録") % {"s": row.get_stage_display()})
    locked.stage = stage
    locked.version += 1
    locked.save()
    _log(by, locked, action=AccessLog.Action.CHANGE, organization_id=access.organization_id, basis=access.basis)
    if not access.is_sender:
        _notify(
            locked,
            kind=NotificationKind.STAGE_RECORDED,
            summary=_("%(org)sが%(kind)s #%(id)s に「%(stage)s」を記録しました。")
            % {
                "org": locked.receiver_organization.name,
                "kind": locked.get_kind_display(),
                "id": locked.pk,
                "stage": row.get_stage_display(),
            },
            by=by,
            to_sender=True,
        )
    return row


@transaction.atomic
def referral_attendance_record(
    *, referral: Referral, on: date, status: str, by, hours=None, note: str = "", replace: bool = False
):
    """Record the person's attendance at the place (place staff); the referrer sees it on the referral."""
    locked = _lock(referral, None)
    access = _side_access(by, locked, RECEIVER)
    if locked.kind != ReferralKind.PARTICIPATION or locked.place_id is None:
        raise InvalidMove(_("出欠は参加支援の紹介にだけ記録できます。"))
    if locked.state not in {ReferralState.ACCEPTED, ReferralState.IN_PROGRESS}:
        raise InvalidMove(_("受諾後・対応中の紹介にだけ出欠を記録できます。"))
    if on > timezone.localdate():
        raise ValidationError({"on": _("未来の日付の出欠は記録できません。")})
    _refuse_before_sent(locked, on)
    row = integration.attendance_record(
        replace=replace,
        place=locked.place,
        participant_ref=locked.participant_ref,
        participant_label=locked.card_preferred_name or str(_("紹介 #%(id)s") % {"id": locked.pk}),
        on=on,
        status=status,
        hours=hours,
        note=(note or "").strip(),
        by=by,
    )
    _start_if_accepted(locked, by, access, _("出欠の記録"))
    locked.version += 1
    locked.save()
    _log(by, locked, action=AccessLog.Action.CHANGE, organization_id=access.organization_id, basis=access.basis)
    _notify(
        locked,
        kind=NotificationKind.ATTENDANCE_RECORDED,
        summary=_("%(org)sが%(kind)s #%(id)s の出欠を記録しました。")
        % {"org": locked.receiver_organization.name, "kind": locked.get_kind_display(), "id": locked.pk},
        by=by,
        to_sender=True,
    )
    return row


@transaction.atomic
def referral_note_add(*, referral: Referral, text: str, by) -> ReferralNote:
    """Add a short note for the other side (feedback from the place, a reply from the worker)."""
    access = _side_access(by, referral, None)
    if referral.state == ReferralState.DRAFT:
        raise InvalidMove(_("送付前の紹介にはひとことを書けません。"))
    if referral.kind == ReferralKind.PARTICIPATION and access.is_sender:
        # The referrer's notes are read by the place.
        _check_text_for_place(text)
    note = ReferralNote(referral=referral, organization_id=access.organization_id, by=by, text=(text or "").strip())
    note.full_clean()
    note.save()
    _log(by, referral, action=AccessLog.Action.CHANGE, organization_id=access.organization_id, basis=access.basis)
    _notify(
        referral,
        kind=NotificationKind.FEEDBACK_RECORDED,
        summary=_("%(org)sが%(kind)s #%(id)s にひとことを書きました。")
        % {"org": note.organization.name, "kind": referral.get_kind_display(), "id": referral.pk},
        by=by,
        to_sender=not access.is_sender,
    )
    return note


# ---------------------------------------------------------------------------
# つなぎ → a linked case
# ---------------------------------------------------------------------------


@transaction.atomic
def tsunagi_open_case(
    *,
    referral: Referral,
    by,
    domains: list[str],
    main_category: str,
    family_name: str = "",
    given_name: str = "",
    family_name_kana: str = "",
    given_name_kana: str = "",
    summary: str = "",
) -> Case:
    """Open a case at the receiving window from a つなぎ and link the two (the place never sees the case)."""

    locked = _lock(referral, None)
    access = _side_access(by, locked, RECEIVER)
    if locked.kind != ReferralKind.TSUNAGI:
        raise InvalidMove(_("ケースを開始できるのはつなぎだけです。"))
    if locked.linked_case_id:
        raise InvalidMove(_("このつなぎからはすでにケースを開始しています。"))
    if locked.state not in {ReferralState.ACCEPTED, ReferralState.IN_PROGRESS}:
        raise InvalidMove(_("受諾したつなぎからケースを開始してください。"))
    organization = Organization.objects.get(pk=access.organization_id)
    named = bool(family_name or given_name)
    person = person_create(
        by=by,
        family_name=family_name.strip(),
        given_name=given_name.strip(),
        family_name_kana=family_name_kana.strip(),
        given_name_kana=given_name_kana.strip(),
        preferred_name=locked.card_preferred_name,
        is_anonymous=not named,
    )
    household = household_create(
        name=_("%(n)sの世帯") % {"n": with_honorific(person.full_name or locked.card_preferred_name or _("氏名不詳"))},
        by=by,
    )
    household_add_member(household=household, person=person, relationship="self", by=by)
    case = case_open(
        household=household,
        subjects=[person],
        domains=domains,
        categories=[main_category],
        main_category=main_category,
        intake_route=IntakeRoute.PLACE,
        lead_organization=organization,
        lead_worker=by,
        summary=(summary or locked.request_text).strip(),
        by=by,
    )
    locked.linked_case = case
    # The timeline is shown to the place too: it says a case began, never which one.
    _start_if_accepted(locked, by, access, _("相談窓口でケースを開始"))
    locked.version += 1
    locked.save()
    _log(
        by,
        locked,
        action=AccessLog.Action.CHANGE,
        organization_id=access.organization_id,
        basis=access.basis,
        basis_ref=access.basis_ref,
        reason=f"linked_case={case.pk}",
    )
    return case


# ---------------------------------------------------------------------------
# A consent lapsed (withdrawn or narrowed): called by casework inside that transaction
# ---------------------------------------------------------------------------

PENDING_STATES = {ReferralState.REQUESTED, ReferralState.RETURNED}


def _cascade_organization_id(by, referral: Referral, consent: Consent) -> int:
    """Return the organization the withdrawing user acts for here (the sender's, else the case's lead)."""
    orgs = acting_organization_ids(_viewer(by))
    lead_id = consent.case.lead_organization_id if consent.case_id else None
    for candidate in (referral.sender_organization_id, lead_id):
        if candidate in orgs:
            return candidate
    return lead_id or referral.sender_organization_id


def referrals_consent_lapsed(consent: Consent, *, by) -> None:
    """Withdraw the unanswered referrals resting on the consent and end places' sight of the others.

    Registered in disclosure.CONSENT_LAPSED_HANDLERS. A withdrawal cancels every referral sent on the
    consent that is not yet accepted (依頼中・差戻し), with its timeline and access-log rows; a narrowed
    consent cancels those it no longer covers. A place's card resting on it ends at once (whatever its
    state). Accepted 機関間 referrals keep their state for the sender to close; the receiver no longer
    sees the card (receiver_basis), and casework ends the team grant.
    """
    withdrawn = consent.status == Consent.Status.WITHDRAWN
    reason = _("本人同意の撤回により取り下げ") if withdrawn else _("本人同意の範囲の変更により取り下げ")
    now = timezone.now()
    rows = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("sender_organization", "receiver_organization", "case")
        .filter(consent=consent)
        .exclude(state=ReferralState.DRAFT)
        .order_by("id")
    )
    for locked in rows:
        if not withdrawn and receiver_basis(locked) is not None:
            continue
        organization_id = _cascade_organization_id(by, locked, consent)
        to_place = locked.receiver_organization.kind == Organization.Kind.PLACE_OPERATOR
        if locked.state in PENDING_STATES:
            from_state = locked.state
            locked.cancel()
            locked.ended_at = now
            if to_place:
                locked.place_access_until = now
            lapsed = ReferralAccess(
                SENDER, organization_id, AccessLog.Basis.OWN_ORGANIZATION, f"consent_lapsed:{consent.pk}"
            )
            _record(locked, from_state=from_state, by=by, access=lapsed, reason=reason)
        elif to_place and (locked.place_access_until is None or locked.place_access_until > now):
            locked.place_access_until = now
            if locked.state not in ENDED_STATES:
                locked.version += 1
            locked.save()
            _log(
                by,
                locked,
                action=AccessLog.Action.CHANGE,
                organization_id=organization_id,
                basis=AccessLog.Basis.OWN_ORGANIZATION,
                basis_ref=f"consent_lapsed:{consent.pk}",
                reason="place_access_ended",
            )


# ---------------------------------------------------------------------------
# A case being closed: its open referrals (registered in casework.closure)
# ---------------------------------------------------------------------------

CLOSURE_OPEN_STATES = {
    ReferralState.DRAFT,
    ReferralState.REQUESTED,
    ReferralState.RETURNED,
    ReferralState.ACCEPTED,
    ReferralState.IN_PROGRESS,
    ReferralState.ON_HOLD,
}


def case_closure_referrals(case: Case, by) -> list:
    """List the case's open referrals for its closing form, with the moves the closing worker may make."""
    from casework.closure import OpenThing

    rows = (
        Referral.objects.filter(case=case, state__in=CLOSURE_OPEN_STATES)
        .select_related("receiver_organization", "sender_organization", "person")
        .order_by("id")
    )
    things = []
    for referral in rows:
        access = referral_access(by, referral)
        moves = {m.name for m in available_moves(referral, access)}
        choices = []
        if referral.state == ReferralState.DRAFT and access is not None and access.is_sender:
            choices.append(("cancel", _("下書きを取り下げる")))
        elif "cancel" in moves:
            choices.append(("cancel", _("取り下げる（紹介先には「ケースの終結に伴う取り下げ」と伝わります）")))
        if "complete" in moves:
            choices.append(("complete", _("完了にする")))
        choices.append(
            ("keep", _("続ける（紹介はそのまま）") if access is not None and access.is_sender else _("紹介元に任せる"))
        )

        def apply(choice: str, reason: str, by, referral=referral) -> str:
            if choice == "keep":
                return ""
            if choice == "cancel":
                referral_move(referral=referral, move="cancel", by=by, reason=_("ケースの終結・中断に伴う取り下げ"))
                return _("紹介 #%(id)s（%(to)s）を取り下げました。") % {
                    "id": referral.pk,
                    "to": referral.receiver_organization,
                }
            referral_move(referral=referral, move="complete", by=by, outcome=_("ケースの終結に伴い終了"))
            return _("紹介 #%(id)s（%(to)s）を完了にしました。") % {
                "id": referral.pk,
                "to": referral.receiver_organization,
            }

        who = referral.person.display_name if referral.person_id else ""
        things.append(
            OpenThing(
                key=f"referral:{referral.pk}",
                kind_label=_("%(kind)sの紹介") % {"kind": referral.get_kind_display()},
                text=_("#%(id)s %(to)s・%(who)s・%(state)s")
                % {
                    "id": referral.pk,
                    "to": referral.receiver_organization,
                    "who": who,
                    "state": referral.get_state_display(),
                },
                choices=choices,
                apply=apply,
            )
        )
    return things


# ---------------------------------------------------------------------------
# 人事異動: the referrals a leaving worker sent and that are still open (casework's hand-over screen)
# ---------------------------------------------------------------------------

HANDOVER_STATES = (
    ReferralState.DRAFT,
    ReferralState.REQUESTED,
    ReferralState.RETURNED,
    ReferralState.ACCEPTED,
    ReferralState.IN_PROGRESS,
    ReferralState.ON_HOLD,
)


def handover_items(organization, worker):
    """The open referrals the worker sent for the organization (numbers, states and receivers; no names)."""
    from casework.services.handover import HandoverItem

    referrals = (
        Referral.objects.filter(sender_organization=organization, sender_user=worker, state__in=HANDOVER_STATES)
        .select_related("case", "receiver_organization", "place")
        .order_by("id")
    )
    items = []
    for referral in referrals:
        to = referral.place.name if referral.place_id else str(referral.receiver_organization or "")
        case = f"{referral.case.number}・" if referral.case_id else ""
        items.append(
            HandoverItem(
                "referral",
                referral.pk,
                referral.case_id,
                _("紹介 #%(id)s") % {"id": referral.pk},
                f"{case}{to}・{referral.get_state_display()}",
            )
        )
    return items


def handover_reassign(item, *, organization, leaving, to, by) -> None:
    """Make `to` the referral's sending worker (the leaving worker's referral, still open)."""
    referral = Referral.objects.select_for_update().get(pk=item.object_id)
    if (
        referral.sender_user_id != leaving.pk
        or referral.sender_organization_id != organization.pk
        or referral.state not in HANDOVER_STATES
    ):
        raise ValidationError(_("%(label)s の担当者はすでに変わっています。") % {"label": item.label})
    referral.sender_user = to
    referral.version += 1
    referral.save(update_fields=["sender_user", "version"])


def referrals_disposed(collected) -> dict[str, int]:
    """When a disposal deletes referrals, delete the places' attendance kept under them (a string, not a key)."""
    from places.services import attendance_dispose

    ids = collected.get(Referral, set())
    count = attendance_dispose(participant_refs=[f"referral:{pk}" for pk in sorted(ids)])
    return {str(_("居場所の出欠")): count} if count else {}
