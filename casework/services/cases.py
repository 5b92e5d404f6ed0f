"""Cases: opening, details, lead hand-over, subjects, the team and state transitions."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import disclosure
from casework.choices import Domain
from casework.closure import OpenThing, open_things
from casework.disclosure import Basis
from casework.models import (
    AccessLog,
    Case,
    CaseDomain,
    CaseGroupObjectPermission,
    CaseLeadChange,
    CaseNumberSequence,
    CaseState,
    CaseSubject,
    CaseTeamMembership,
    CaseTransition,
    Consent,
    ConsultationCategory,
    Household,
    IntakeRoute,
    NotificationKind,
    Organization,
    Person,
    SupportPlan,
)
from casework.notifications.services import notify
from casework.selectors import lead_worker_candidates
from casework.services.common import (
    CaseChanged,
    InvalidTransition,
    case_person_ids,
    decision_basis,
    log_change,
    require_lead,
)
from core.japanese import era_short_prefix, fiscal_year, format_wareki

# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

CASE_PERMISSIONS = ("casework.view_case", "casework.change_case")
CASE_CODENAMES = [perm.split(".", 1)[1] for perm in CASE_PERMISSIONS]


def _allocate_case_number(opened_on: date) -> str:
    """Hand out the next number of the 年度, e.g. R7-000123; the counter row lock serialises callers."""
    fy = fiscal_year(opened_on)
    # get_or_create copes with two first-of-the-year callers; the lock then orders them.
    CaseNumberSequence.objects.get_or_create(fiscal_year=fy)
    counter = CaseNumberSequence.objects.select_for_update().get(fiscal_year=fy)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{era_short_prefix(fy)}-{counter.last:06d}"


def _case_permissions() -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="casework", codename__in=CASE_CODENAMES))


def _grant(case: Case, organization: Organization) -> None:
    # The same rows guardian's assign_perm writes, in one INSERT (it took nine statements per grant).
    CaseGroupObjectPermission.objects.bulk_create(
        [
            CaseGroupObjectPermission(permission=perm, group_id=organization.group_id, content_object=case)
            for perm in _case_permissions()
        ],
        ignore_conflicts=True,
    )


def _revoke(case: Case, organization: Organization) -> None:
    CaseGroupObjectPermission.objects.filter(
        content_object=case,
        group_id=organization.group_id,
        permission__content_type__app_label="casework",
        permission__codename__in=CASE_CODENAMES,
    ).delete()


@transaction.atomic
def case_open(
    *,
    household: Household,
    subjects: list[Person],
    domains: list[str],
    categories: list[str],
    main_category: str,
    intake_route: str,
    lead_organization: Organization,
    lead_worker,
    summary: str,
    by,
    opened_on: date | None = None,
) -> Case:
    """Open a case for a household and grant the lead organization access to it."""
    opened_on = opened_on or timezone.localdate()
    errors = {}
    if not subjects:
        errors["subjects"] = _("対象者を一人以上選んでください。")
    if not domains or any(d not in Domain.values for d in domains):
        errors["domains"] = _("分野を一つ以上選んでください。")
    categories = list(dict.fromkeys(categories or []))
    if main_category and main_category not in categories:
        categories.insert(0, main_category)
    if not main_category or any(c not in ConsultationCategory.values for c in categories):
        errors["main_category"] = _("主な相談内容を選んでください。")
    if intake_route not in IntakeRoute.values:
        errors["intake_route"] = _("相談経路を選んでください。")
    if errors:
        raise ValidationError(errors)
    case = Case(
        number=_allocate_case_number(opened_on),
        household=household,
        categories=categories,
        main_category=main_category,
        intake_route=intake_route,
        lead_organization=lead_organization,
        lead_worker=lead_worker,
        summary=summary,
        opened_on=opened_on,
        created_by=by,
    )
    case.full_clean(exclude=["number", "state"])
    case.save()
    CaseSubject.objects.bulk_create([CaseSubject(case=case, person=p) for p in dict.fromkeys(subjects)])
    CaseDomain.objects.bulk_create([CaseDomain(case=case, domain=d) for d in dict.fromkeys(domains)])
    CaseTeamMembership.objects.create(
        case=case,
        organization=lead_organization,
        role_note=_("主担当"),
        added_by=by,
        basis_kind=AccessLog.Basis.OWN_ORGANIZATION,
    )
    _grant(case, lead_organization)
    log_change(by, action=AccessLog.Action.CREATE, obj=case, person_ids=case_person_ids(case), case=case)
    return case


_UNCHANGED = object()


def _check_lead_worker(worker, organization_id: int) -> None:
    """Refuse a lead worker who is not an active caseworker or supervisor of the lead organization."""

    if worker is not None and not lead_worker_candidates(organization_id).filter(pk=worker.pk).exists():
        raise ValidationError({"lead_worker": _("主担当者は主担当機関の職員から選んでください。")})


@transaction.atomic()
def case_update(
    *,
    case: Case,
    by,
    domains: list[str] | None = None,
    categories: list[str] | None = None,
    main_category: str | None = None,
    intake_route: str | None = None,
    lead_worker=_UNCHANGED,
    summary: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """Change a case's domains, categories, route, lead worker or summary; raise CaseChanged when stale.

    The state, number, lead organization and version are not parameters: they change only through
    case_transition, case_change_lead and this function's own version bump.
    """
    locked = Case.objects.select_for_update().select_related("lead_organization").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise CaseChanged()
    require_lead(by, locked)
    if domains is not None:
        domains = list(dict.fromkeys(domains))
        if not domains or any(d not in Domain.values for d in domains):
            raise ValidationError({"domains": _("分野を一つ以上選んでください。")})
        locked.domain_rows.exclude(domain__in=domains).delete()
        existing = set(locked.domain_rows.values_list("domain", flat=True))
        CaseDomain.objects.bulk_create([CaseDomain(case=locked, domain=d) for d in domains if d not in existing])
    if main_category is not None:
        locked.main_category = main_category
    if categories is not None:
        if any(c not in ConsultationCategory.values for c in categories):
            raise ValidationError({"categories": _("不明な相談内容があります。")})
        locked.categories = list(dict.fromkeys([locked.main_category, *categories]))
    elif main_category is not None and main_category not in (locked.categories or []):
        locked.categories = [main_category, *(locked.categories or [])]
    if intake_route is not None:
        locked.intake_route = intake_route
    if lead_worker is not _UNCHANGED:
        _check_lead_worker(lead_worker, locked.lead_organization_id)
        locked.lead_worker = lead_worker
    if summary is not None:
        locked.summary = summary
    locked.version += 1
    locked.full_clean(exclude=["state"])
    locked.save()
    log_change(by, action=AccessLog.Action.CHANGE, obj=locked, person_ids=case_person_ids(locked), case=locked)
    return locked


LEAD_KINDS = (Organization.Kind.WINDOW, Organization.Kind.COORDINATOR)


@transaction.atomic
def case_change_lead(
    *,
    case: Case,
    organization: Organization,
    lead_worker,
    reason: str,
    by,
    expected_version: int | None = None,
) -> CaseLeadChange:
    """Hand the case's lead to another window or coordinator, keeping the old lead on the team.

    The old lead keeps its grants (it stays on the case team) so nobody loses access silently;
    taking it off the team later is an explicit case_team_remove. The new lead is granted access
    at once (effective on its next request) and a history row records from, to, why, who and when.
    """
    locked = Case.objects.select_for_update().select_related("lead_organization").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise CaseChanged()
    require_lead(by, locked)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("主担当を変更する理由を入力してください。")
    if organization is None or organization.kind not in LEAD_KINDS or not organization.is_active:
        errors["organization"] = _("新しい主担当は相談支援機関または多機関協働事業者から選んでください。")
    elif organization.pk == locked.lead_organization_id:
        errors["organization"] = _("この機関はすでに主担当です。別の機関を選んでください。")
    if errors:
        raise ValidationError(errors)
    _check_lead_worker(lead_worker, organization.pk)
    old_organization, old_worker = locked.lead_organization, locked.lead_worker
    # The outgoing lead stays on the team under a note saying what it was; the incoming one joins as lead.
    # The former lead collected the data itself: its row rests on its own organization.
    CaseTeamMembership.objects.filter(case=locked, organization=old_organization, ended_at__isnull=True).update(
        basis_kind=AccessLog.Basis.OWN_ORGANIZATION, basis_ref=""
    )
    CaseTeamMembership.objects.filter(
        case=locked, organization=old_organization, ended_at__isnull=True, role_note=_("主担当")
    ).update(role_note=_("前主担当"))
    incoming = CaseTeamMembership.objects.filter(case=locked, organization=organization, ended_at__isnull=True).first()
    if incoming is None:
        CaseTeamMembership.objects.create(
            case=locked,
            organization=organization,
            role_note=_("主担当"),
            added_by=by,
            basis_kind=AccessLog.Basis.OWN_ORGANIZATION,
        )
    else:
        incoming.role_note = _("主担当")
        incoming.basis_kind, incoming.basis_ref = AccessLog.Basis.OWN_ORGANIZATION, ""
        incoming.save(update_fields=["role_note", "basis_kind", "basis_ref"])
    _grant(locked, organization)
    _grant(locked, old_organization)
    locked.lead_organization = organization
    locked.lead_worker = lead_worker
    locked.version += 1
    locked.save(update_fields=["lead_organization", "lead_worker", "version", "updated_at"])
    change = CaseLeadChange.objects.create(
        case=locked,
        from_organization=old_organization,
        to_organization=organization,
        from_worker=old_worker,
        to_worker=lead_worker,
        reason=reason,
        by=by,
    )
    log_change(by, action=AccessLog.Action.CHANGE, obj=locked, person_ids=case_person_ids(locked), case=locked)
    case.lead_organization, case.lead_worker, case.version = organization, lead_worker, locked.version
    return change


@transaction.atomic
def case_add_subject(*, case: Case, person: Person, by) -> None:
    """Name one more person as a subject of the case."""
    require_lead(by, case)
    CaseSubject.objects.get_or_create(case=case, person=person)
    log_change(by, action=AccessLog.Action.CHANGE, obj=case, person_ids=[person.pk], case=case)


@transaction.atomic
def case_team_add(
    *, case: Case, organization: Organization, by, note: str = "", basis: Basis | None = None
) -> CaseTeamMembership:
    """Put an organization on the case team on a recorded basis and grant its group access.

    Adding an organization is a share: the lead organization adds it only on a current basis for
    that organization (every subject's consent naming it or the case team, or a recorded 支援会議
    decision), found by the disclosure module and recorded on the team row, which is checked again
    at every read. A referral accepted by its receiver passes the basis the referral was sent on
    (basis); it must still hold. Effective on the next request.
    """
    case = Case.objects.select_related("lead_organization").get(pk=case.pk)
    if basis is None:
        require_lead(by, case)
        basis = disclosure.share_basis(case, organization)
        if basis is None:
            raise ValidationError(
                _(
                    "%(org)sをケースチームに加える根拠がありません。対象者全員の本人同意（この機関または"
                    "ケースチームへの提供）を記録するか、支援会議の決定を記録してください。"
                )
                % {"org": organization.name}
            )
    elif organization.pk != case.lead_organization_id and (
        disclosure.recorded_basis_holds(case, organization.pk, basis.kind, basis.ref) is None
    ):
        raise ValidationError(_("%(org)sと共有する根拠（同意）が失われています。") % {"org": organization.name})
    membership = CaseTeamMembership.objects.filter(case=case, organization=organization, ended_at__isnull=True).first()
    if membership is None:
        if organization.pk != case.lead_organization_id:
            notify(
                kind=NotificationKind.TEAM_ADDED,
                summary=_("%(lead)sのケース %(number)s のケースチームに%(org)sが加わりました。")
                % {"lead": case.lead_organization.name, "number": case.number, "org": organization.name},
                by=by,
                organizations=[organization],
                users=[case.lead_worker],
                case=case,
                url=case.get_absolute_url(),
            )
        membership = CaseTeamMembership.objects.create(
            case=case,
            organization=organization,
            role_note=note,
            added_by=by,
            basis_kind=basis.kind,
            basis_ref=basis.ref[:60],
        )
    elif organization.pk != case.lead_organization_id:
        membership.basis_kind, membership.basis_ref = basis.kind, basis.ref[:60]
        membership.save(update_fields=["basis_kind", "basis_ref"])
    _grant(case, organization)
    log_change(by, action=AccessLog.Action.CHANGE, obj=case, person_ids=[], case=case)
    return membership


@transaction.atomic
def case_team_remove(
    *, case: Case, organization: Organization, by, reason: str = "", undoing_share: bool = False
) -> None:
    """Take an organization off the case team and revoke its access (effective on the next request).

    The lead organization changes the team; an organization may also leave on its own, and a
    share that put it there may be taken back by whoever made it (undoing_share: a referral
    cancelled after acceptance). The lead itself is never removed.
    """
    case = Case.objects.select_related("lead_organization").get(pk=case.pk)
    if organization.pk == case.lead_organization_id:
        raise ValidationError(_("主担当機関はケースチームから外せません。"))
    leaving = organization.pk in disclosure.case_organization_ids(by)
    if not (undoing_share or leaving):
        require_lead(by, case)
    # Log before revoking so the remover's own basis is still known if they leave with it.
    log_change(by, action=AccessLog.Action.CHANGE, obj=case, person_ids=[], case=case)
    if CaseTeamMembership.objects.filter(case=case, organization=organization, ended_at__isnull=True).exists():
        # No case number: the organization can no longer see the case.
        notify(
            kind=NotificationKind.TEAM_REMOVED,
            summary=_("%(org)sは%(lead)sのケースのケースチームから外れました。")
            % {"org": organization.name, "lead": case.lead_organization.name},
            by=by,
            organizations=[organization],
        )
        if case.lead_worker is not None:
            notify(
                kind=NotificationKind.TEAM_REMOVED,
                summary=_("ケース %(number)s のケースチームから%(org)sが外れました。")
                % {"number": case.number, "org": organization.name},
                by=by,
                users=[case.lead_worker],
                case=case,
                url=case.get_absolute_url(),
            )
    _end_team_rows(case, organization, by=by, reason=reason)


def _end_team_rows(case: Case, organization: Organization, *, by, reason: str) -> None:
    CaseTeamMembership.objects.filter(case=case, organization=organization, ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_by=by, end_reason=(reason or "")[:200]
    )
    _revoke(case, organization)


def case_team_end_lapsed(consent: Consent, *, by) -> None:
    """End the team grants that rested on a consent just withdrawn (the lead keeps its own).

    Registered first in disclosure.CONSENT_LAPSED_HANDLERS; runs inside the withdrawal's transaction.
    """
    reason = _("同意の撤回（同意 #%(id)s）により共有の根拠がなくなりました。") % {"id": consent.pk}
    for row in disclosure.team_grants_lapsed(consent):
        log_change(by, action=AccessLog.Action.CHANGE, obj=row.case, person_ids=[], case=row.case)
        _end_team_rows(row.case, row.organization, by=by, reason=reason)


REASON_REQUIRED = {CaseState.CLOSED, CaseState.SUSPENDED}


@transaction.atomic
def case_transition(
    *,
    case: Case,
    to_state: str,
    by,
    reason: str = "",
    expected_version: int | None = None,
    decided_by_label: str = "",
    decided_by_ref: str = "",
    decided_in=None,
    approval=None,
) -> Case:
    """Move the case to another state, logging who, when and why; raise CaseChanged when stale.

    `decided_in` (a disclosure Basis of a meeting decision) lets a meeting's chair apply its decision;
    it is checked again here. Otherwise only the lead organization moves its case (reopening included).
    `approval` is the 決裁 being applied (casework.services.approvals), kept on the history row.
    """
    locked = Case.objects.select_for_update().select_related("lead_organization").get(pk=case.pk)
    decided_in = decision_basis(by, locked, decided_in)
    if expected_version is not None and locked.version != expected_version:
        raise CaseChanged()
    require_lead(by, locked, decision=decided_in)
    from_state = locked.state
    label = dict(CaseState.choices)
    if to_state not in label:
        raise InvalidTransition(_("不明な状態です: %(s)s") % {"s": to_state})
    allowed = {t.target: t.name for t in locked.get_available_state_transitions()}
    if to_state not in allowed:
        raise InvalidTransition(
            _("「%(from)s」から「%(to)s」へは変更できません。") % {"from": label[from_state], "to": label[to_state]}
        )
    reason = (reason or "").strip()
    if to_state in REASON_REQUIRED and not reason:
        raise InvalidTransition(_("「%(to)s」にするには理由が必要です。") % {"to": label[to_state]})
    getattr(locked, allowed[to_state])()
    today = timezone.localdate()
    if to_state in REASON_REQUIRED:
        locked.closed_on = today
    elif from_state in REASON_REQUIRED:
        locked.closed_on = None
    locked.version += 1
    locked.save()
    CaseTransition.objects.create(
        case=locked,
        from_state=from_state,
        to_state=to_state,
        by=by,
        reason=reason,
        decided_by_label=decided_by_label,
        decided_by_ref=decided_by_ref,
        approval=approval,
    )
    log_change(
        by,
        action=AccessLog.Action.TRANSITION,
        obj=locked,
        person_ids=case_person_ids(locked),
        case=locked,
        decided_in=decided_in,
    )
    return locked


# ---------------------------------------------------------------------------
# Closing with what is still open
# ---------------------------------------------------------------------------


def _own_open_things(case: Case, by) -> list[OpenThing]:
    """The approved plan and the review date: casework's own open things on a case being closed."""
    things = []
    plan = SupportPlan.objects.filter(case=case, status=SupportPlan.Status.APPROVED).first()
    if plan is not None:

        def end_plan(choice: str, reason: str, by, plan=plan) -> str:
            if choice != "end":
                return ""
            today = timezone.localdate()
            end = max(today, plan.period_start) if plan.period_start else today
            SupportPlan.objects.filter(pk=plan.pk).update(period_end=end, next_review_on=None)
            log_change(by, action=AccessLog.Action.CHANGE, obj=plan, person_ids=[], case=case)
            return _("支援プランの期間を%(d)sまでとしました。") % {"d": format_wareki(end)}

        period = ""
        if plan.period_start or plan.period_end:
            period = _("期間 %(s)s〜%(e)s") % {
                "s": format_wareki(plan.period_start) if plan.period_start else "",
                "e": format_wareki(plan.period_end) if plan.period_end else "",
            }
        approved = _("%(d)s承認") % {"d": format_wareki(plan.approved_on)} if plan.approved_on else ""
        things.append(
            OpenThing(
                key=f"plan:{plan.pk}",
                kind_label=_("承認済みの支援プラン"),
                text="・".join(p for p in [approved, period, plan.goals[:60]] if p),
                choices=[("end", _("今日で期間を終える")), ("keep", _("そのまま記録として残す"))],
                apply=end_plan,
            )
        )
    if case.next_review_on:

        def clear_review(choice: str, reason: str, by) -> str:
            if choice != "clear":
                return ""
            Case.objects.filter(pk=case.pk).update(next_review_on=None)
            SupportPlan.objects.filter(case=case, status=SupportPlan.Status.APPROVED).update(next_review_on=None)
            return _("次回見直し日（%(d)s）を取り消しました。") % {"d": format_wareki(case.next_review_on)}

        things.append(
            OpenThing(
                key="review",
                kind_label=_("次回見直し日"),
                text=format_wareki(case.next_review_on),
                choices=[("clear", _("取り消す（見直し予定の一覧から外す）")), ("keep", _("残す"))],
                apply=clear_review,
            )
        )
    return things


def case_open_things(case: Case, by) -> list[OpenThing]:
    """Return what is still open on the case (its plan and review date, then every app's), for the closing form."""
    return _own_open_things(case, by) + open_things(case, by)


@transaction.atomic
def case_close(
    *,
    case: Case,
    to_state: str,
    by,
    reason: str,
    choices: dict[str, str],
    expected_version: int | None = None,
    decided_by_label: str = "",
    decided_by_ref: str = "",
    approval=None,
) -> tuple[Case, list[str]]:
    """Close or suspend the case and apply the lead's choice for each open thing; all or nothing.

    Returns the case and one sentence per thing that changed. Every open thing needs a choice:
    nothing is left as it was without the lead having said so.
    """
    things = case_open_things(case, by)
    closed = case_transition(
        case=case,
        to_state=to_state,
        by=by,
        reason=reason,
        expected_version=expected_version,
        decided_by_label=decided_by_label,
        decided_by_ref=decided_by_ref,
        approval=approval,
    )
    # Checked after the move so a move that is not allowed says so first; raising rolls the move back.
    missing = [t for t in things if choices.get(t.key) not in {value for value, _label in t.choices}]
    if missing:
        raise InvalidTransition(
            _("終結・中断の前に、残っている次のものの扱いを選んでください: %(things)s")
            % {"things": "、".join(f"{t.kind_label}（{t.text}）" for t in missing)}
        )
    done = [thing.apply(choices[thing.key], reason, by) for thing in things]
    return closed, [sentence for sentence in done if sentence]
