"""Thin views for meetings: one access helper, one service or selector, one template."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework.access import get_case_for_user
from casework.models import AccessLog
from casework.paper import imprint_for, render_document
from casework.viewers import viewer_for
from core.refusals import refuse, refused_form
from meetings import selectors, services
from meetings.access import (
    PledgeRequired,
    get_action_for_user,
    get_item_for_user,
    get_meeting_for_user,
    get_proposal_for_user,
    item_basis,
    log_material_open,
)
from meetings.forms import (
    ActionUpdateForm,
    AgendaAddForm,
    AgendaItemEditForm,
    DecisionForm,
    MeetingCancelForm,
    MeetingForm,
    MeetingScheduleForm,
    NoteForm,
    ParticipantAddForm,
    ProposalForm,
)
from meetings.models import MeetingParticipant, MeetingStatus


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


EARLY_ACTIONS = {
    "start": gettext_lazy("会議の開始"),
    "conclude": gettext_lazy("会議の終了"),
    "lock": gettext_lazy("議事録の確定"),
    "decide": gettext_lazy("決定の記録"),
}


# Decisions that change the case itself (its plan, review date or state).
CASE_CHANGING_DECISIONS = {"approve_plan", "next_review", "close", "suspend"}


def _ask_if_early(request, meeting, what: str):
    """Return a confirmation page when the meeting is scheduled for a later day and the chair has not confirmed.

    Starting, deciding or locking a meeting on the wrong day records the wrong meeting as the deciding
    body; the chair confirms on a page of its own (the same POST again, with confirm_early).
    """
    today = timezone.localdate()
    if meeting.meeting_date <= today or request.POST.get("confirm_early") == "1":
        return None
    fields = [(k, v) for k in request.POST for v in request.POST.getlist(k) if k not in {"csrfmiddlewaretoken"}]
    return render(
        request,
        "meetings/confirm_early.html",
        {
            "meeting": meeting,
            "today": today,
            "what": EARLY_ACTIONS[what],
            "fields": fields,
            "action_url": request.path,
        },
    )


def meeting_view(func):
    """Turn the pledge gate into the pledge page, a refused service into a message, no log into 503."""

    @wraps(func)
    def wrapper(request, *args, **kwargs):
        try:
            return func(request, *args, **kwargs)
        except PledgeRequired as exc:
            return redirect("meetings:pledge", exc.meeting.pk)
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from exc

    return wrapper


@require_GET
def meeting_list(request):
    """List the meetings the user takes part in."""
    viewer = viewer_for(request)
    meetings = list(selectors.meetings_for_user(request.user)[:200])
    return render(request, "meetings/list.html", {"meetings": meetings, "can_convene": selectors.can_convene(viewer)})


@require_http_methods(["GET", "POST"])
def meeting_create(request):
    """Schedule a meeting (case workers of a municipality or coordinator)."""
    viewer = viewer_for(request)
    organizations = selectors.convening_organizations(viewer)
    if not organizations:
        raise Http404
    form = MeetingForm(request.POST or None, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_create(
                kind=data["kind"],
                title=data["title"],
                starts_at=data["starts_at"],
                convened_by=data["convened_by"],
                chair=request.user,
                secretary=data["secretary"],
                place=data["place"],
                online_url=data["online_url"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("会議を登録しました。参加者と議題を追加してください。"))
            return redirect(meeting)
    return render(request, "meetings/create.html", {"form": form})


def _live_context(request, meeting) -> dict:
    items = selectors.agenda(meeting)
    log_material_open(request, meeting, selectors.item_bases(items))
    selectors.mark_action_permissions(items, request.user, viewer_for(request))
    current = next((i for i in items if i.pk == meeting.current_item_id), None)
    blank = DecisionForm()
    for item in items:
        # A refused decision comes back into its own item's form, as typed, with its errors.
        item.decision_form = refused_form(request, _decision_key(item), DecisionForm) or blank
    return {
        "meeting": meeting,
        "items": items,
        "current": current,
        "next_item": services.agenda_next_item(meeting, items),
        "connected": selectors.connected_users(meeting.pk),
        "editable": meeting.status in {MeetingStatus.SCHEDULED, MeetingStatus.IN_SESSION},
        "can_decide": meeting.status != MeetingStatus.MINUTES_LOCKED and (meeting.is_chair or meeting.is_secretary),
    }


def _decision_key(item) -> str:
    return f"meeting:{item.meeting_id}:decide:{item.pk}"


@require_GET
@meeting_view
def meeting_detail(request, pk):
    """Show the live agenda page."""
    meeting = get_meeting_for_user(request, pk)
    context = _live_context(request, meeting)
    context["participants"] = selectors.active_participants(meeting)
    return render(request, "meetings/detail.html", context)


@require_GET
@meeting_view
def meeting_live(request, pk):
    """Return the live agenda fragment the page re-fetches after every event."""
    meeting = get_meeting_for_user(request, pk)
    return render(request, "meetings/detail.html#live", _live_context(request, meeting))


@require_http_methods(["GET", "POST"])
@meeting_view
def meeting_pledge(request, pk):
    """Ask a 支援会議 participant to confirm the 守秘義務 pledge before anything of the meeting opens."""
    meeting = get_meeting_for_user(request, pk, need_pledge=False)
    participant = meeting.participant
    if request.method == "POST":
        if request.POST.get("agree") != "yes":
            messages.error(request, _("誓約の内容を確認し、同意にチェックを入れてください。"))
        else:
            services.pledge_record(participant=participant, by=request.user)
            messages.success(request, _("守秘義務の誓約を記録しました。"))
            return redirect(meeting)
    return render(request, "meetings/pledge.html", {"meeting": meeting, "participant": participant})


@require_http_methods(["GET", "POST"])
@meeting_view
def meeting_participants(request, pk):
    """Show the participants and their pledges; the chair and secretary add, remove and record pledges."""
    meeting = get_meeting_for_user(request, pk)
    manage = meeting.is_chair or meeting.is_secretary
    form = ParticipantAddForm(request.POST or None, meeting=meeting)
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "add":
                if form.is_valid():
                    services.meeting_participant_add(
                        meeting=meeting,
                        user=form.cleaned_data["user"],
                        organization=form.cleaned_data.get("organization"),
                        by=request.user,
                    )
                    messages.success(request, _("参加者を追加しました。"))
                    return redirect("meetings:participants", meeting.pk)
            else:
                participant = (
                    meeting.participants.filter(pk=request.POST.get("participant"), removed_at__isnull=True).first()
                    if str(request.POST.get("participant", "")).isdigit()
                    else None
                )
                if participant is None:
                    raise Http404
                if action == "remove":
                    services.meeting_participant_remove(participant=participant, by=request.user)
                    messages.success(request, _("参加者を外しました。"))
                elif action in {"attend", "absent"}:
                    services.participant_attendance_record(
                        participant=participant, attended=action == "attend", by=request.user
                    )
                    messages.success(
                        request, _("出席を記録しました。") if action == "attend" else _("出席の記録を取り消しました。")
                    )
                elif action == "pledge":
                    services.pledge_record(participant=participant, by=request.user)
                    messages.success(request, _("守秘義務の誓約を記録しました。"))
                return redirect("meetings:participants", meeting.pk)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
    return render(
        request,
        "meetings/participants.html",
        {"meeting": meeting, "participants": selectors.active_participants(meeting), "form": form, "manage": manage},
    )


@require_http_methods(["GET", "POST"])
@meeting_view
def agenda_edit(request, pk):
    """Let the chair add cases (with the legal gate), build from due reviews, reorder and pick the current item."""
    meeting = get_meeting_for_user(request, pk)
    if not meeting.is_chair:
        raise PermissionDenied
    queue = selectors.agenda_queue(meeting)
    adding = request.method == "POST" and request.POST.get("action", "add") == "add"
    form = AgendaAddForm(request.POST if adding else None, queue=queue)
    if request.method == "POST":
        action = request.POST.get("action", "add")
        try:
            if action == "add":
                if form.is_valid():
                    services.agenda_item_add(
                        meeting=meeting,
                        case=form.cleaned_data["case"].case,
                        purpose=form.cleaned_data["purpose"],
                        summary=form.cleaned_data["summary"] or None,
                        by=request.user,
                    )
                    messages.success(request, _("議題を追加しました。"))
                    return redirect("meetings:agenda", meeting.pk)
            elif action == "from_due":
                added, skipped = services.agenda_from_due_reviews(meeting=meeting, by=request.user)
                messages.success(request, _("見直し期限のケースを%(n)s件追加しました。") % {"n": len(added)})
                for reason in skipped:
                    messages.warning(request, reason)
                return redirect("meetings:agenda", meeting.pk)
            elif action in {"up", "down", "current", "remove"}:
                raw = str(request.POST.get("item", ""))
                item = meeting.items.filter(pk=raw).first() if raw.isdigit() else None
                if item is None:
                    raise Http404
                if action == "current":
                    services.agenda_set_current(meeting=meeting, item=item, by=request.user)
                elif action == "remove":
                    services.agenda_item_remove(item=item, by=request.user)
                    messages.success(request, _("議題「%(n)s」を削除しました。") % {"n": item.case.number})
                else:
                    services.agenda_move(item=item, direction=-1 if action == "up" else 1, by=request.user)
                if request.POST.get("back") == "detail":
                    return redirect(meeting)
                return redirect("meetings:agenda", meeting.pk)
        except ValidationError as exc:
            if action == "add":
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.error(request, _messages(exc))
    items = selectors.agenda(meeting)
    log_material_open(request, meeting, selectors.item_bases(items))
    return render(
        request,
        "meetings/agenda.html",
        {
            "meeting": meeting,
            "items": items,
            "form": form,
            "queue": queue,
            "due": services.cases_due_for_review(meeting),
        },
    )


@require_http_methods(["GET", "POST"])
@meeting_view
def meeting_schedule(request, pk):
    """Change a scheduled meeting's date and place (chair or secretary) or cancel it (chair); participants are told."""
    meeting = get_meeting_for_user(request, pk)
    if not (meeting.is_chair or meeting.is_secretary):
        raise PermissionDenied
    local = timezone.localtime(meeting.starts_at)
    schedule_form = MeetingScheduleForm(
        request.POST if request.POST.get("action") == "reschedule" else None,
        initial={"starts_at": local.strftime("%Y-%m-%dT%H:%M"), "place": meeting.place},
    )
    cancel_form = MeetingCancelForm(request.POST if request.POST.get("action") == "cancel" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "cancel" and not meeting.is_chair:
            raise PermissionDenied
        form = {"reschedule": schedule_form, "cancel": cancel_form}.get(action)
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                if action == "reschedule":
                    services.meeting_reschedule(
                        meeting=meeting,
                        starts_at=form.cleaned_data["starts_at"],
                        place=form.cleaned_data["place"],
                        by=request.user,
                    )
                    messages.success(request, _("日時・会場を変更し、参加者にお知らせしました。"))
                else:
                    services.meeting_cancel(meeting=meeting, reason=form.cleaned_data["reason"], by=request.user)
                    messages.success(request, _("会議を中止し、参加者にお知らせしました。"))
            except ValidationError as exc:
                form.add_error(None, _messages(exc))
            else:
                return redirect(meeting)
    return render(
        request,
        "meetings/schedule.html",
        {"meeting": meeting, "schedule_form": schedule_form, "cancel_form": cancel_form},
    )


@require_POST
@meeting_view
def meeting_next(request, pk):
    """Move the meeting to the next item (chair)."""
    meeting = get_meeting_for_user(request, pk)
    item = services.agenda_next_item(meeting)
    if item is None:
        messages.info(request, _("これが最後の議題です。"))
    else:
        try:
            services.agenda_set_current(meeting=meeting, item=item, by=request.user)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
    return redirect(meeting)


@require_POST
@meeting_view
def meeting_status(request, pk):
    """Start or conclude the meeting, or approve and lock its minutes (chair)."""
    meeting = get_meeting_for_user(request, pk)
    action = request.POST.get("action")
    service = {
        "start": services.meeting_start,
        "conclude": services.meeting_conclude,
        "lock": services.minutes_approve,
    }.get(action)
    if service is None:
        raise Http404
    if meeting.is_chair and (confirm := _ask_if_early(request, meeting, action)):
        return confirm
    try:
        service(meeting=meeting, by=request.user)
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(request, _("会議の状態を更新しました。"))
    if action == "lock":
        return redirect("meetings:minutes", meeting.pk)
    return redirect(meeting)


@require_GET
@meeting_view
def item_detail(request, pk, item_pk):
    """Show one item's case summary prepared for the meeting, within what the meeting's basis allows."""
    meeting, item = get_item_for_user(request, pk, item_pk)
    item.meeting = meeting
    items = [i for i in selectors.agenda(meeting) if i.pk == item.pk]
    item = items[0]
    log_material_open(request, meeting, [item.basis], obj=item)
    plan = item.case.plans.order_by("-version").first() if item.basis.allowed else None
    return render(request, "meetings/item.html", {"meeting": meeting, "item": item, "plan": plan})


def _without_basis(request, meeting, basis):
    """Send the user back to the meeting without showing an item the meeting may no longer show."""
    messages.error(
        request, " ".join([_("本人同意が確認できないため、この議題の内容は表示・変更できません。"), *basis.problems])
    )
    return redirect(meeting)


@require_http_methods(["GET", "POST"])
@meeting_view
def item_notes(request, pk, item_pk):
    """Let the secretary (or chair) write an item's notes; a stale edit is refused and shown side by side."""
    meeting, item = get_item_for_user(request, pk, item_pk)
    if not (meeting.is_chair or meeting.is_secretary):
        raise PermissionDenied
    item.meeting = meeting
    basis = item_basis(item)
    if not basis.allowed:
        return _without_basis(request, meeting, basis)
    form = NoteForm(request.POST or None, initial={"notes": item.notes, "based_on_version": item.version})
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.agenda_item_note(
                item=item,
                notes=form.cleaned_data["notes"],
                based_on_version=form.cleaned_data["based_on_version"],
                by=request.user,
            )
        except services.StaleEdit as exc:
            conflict = exc
            form = NoteForm(initial={"notes": form.cleaned_data["notes"], "based_on_version": exc.version})
            messages.error(request, exc.message)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, _("記録を保存しました。"))
            return redirect(meeting)
    log_material_open(request, meeting, [basis], obj=item, action=AccessLog.Action.VIEW)
    return render(
        request,
        "meetings/notes.html",
        {"meeting": meeting, "item": item, "form": form, "conflict": conflict},
        status=409 if conflict else 200,
    )


@require_http_methods(["GET", "POST"])
@meeting_view
def item_edit(request, pk, item_pk):
    """Let the chair or secretary change an item's summary and purpose; a stale edit is refused and shown."""
    meeting, item = get_item_for_user(request, pk, item_pk)
    if not (meeting.is_chair or meeting.is_secretary):
        raise PermissionDenied
    if meeting.is_locked:
        messages.error(request, _("議事録が確定しているため、この会議は変更できません。"))
        return redirect(meeting)
    item.meeting = meeting
    basis = item_basis(item)
    if not basis.allowed:
        return _without_basis(request, meeting, basis)
    initial = {"purpose": item.purpose, "summary": item.summary, "based_on_version": item.version}
    form = AgendaItemEditForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.agenda_item_edit(
                item=item,
                summary=data["summary"],
                purpose=data["purpose"],
                based_on_version=data["based_on_version"],
                by=request.user,
            )
        except services.StaleEdit as exc:
            conflict = exc
            form = AgendaItemEditForm(
                initial={"purpose": data["purpose"], "summary": data["summary"], "based_on_version": exc.version}
            )
            messages.error(request, exc.message)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.error(request, _messages(exc))
        else:
            messages.success(request, _("議題を更新しました。"))
            return redirect(meeting)
    log_material_open(request, meeting, [basis], obj=item, action=AccessLog.Action.VIEW)
    return render(
        request,
        "meetings/item_edit.html",
        {"meeting": meeting, "item": item, "form": form, "conflict": conflict},
        status=409 if conflict else 200,
    )


@require_POST
@meeting_view
def item_decide(request, pk, item_pk):
    """Record a decision on an item; approving a plan or closing a case changes the case."""
    meeting, item = get_item_for_user(request, pk, item_pk)
    if not (meeting.is_chair or meeting.is_secretary):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if form.is_valid():
        # A decision that changes the case, in a not yet started meeting of a later day: asked first (a
        # started meeting was confirmed when it started).
        if (
            form.cleaned_data["kind"] in CASE_CHANGING_DECISIONS
            and meeting.status == MeetingStatus.SCHEDULED
            and (confirm := _ask_if_early(request, meeting, "decide"))
        ):
            return confirm
        data = form.cleaned_data
        try:
            decision = services.meeting_decide(
                item=item,
                kind=data["kind"],
                text=data["text"],
                next_review_on=data["next_review_on"],
                actions=form.actions(),
                by=request.user,
            )
        except ValidationError as exc:
            return refuse(request, form, key=_decision_key(item), to=_item_anchor(meeting, item), errors=exc.messages)
        messages.success(
            request, _("決定を記録しました。") + (f" {decision.result_note}" if decision.result_note else "")
        )
        return redirect(meeting)
    return refuse(request, form, key=_decision_key(item), to=_item_anchor(meeting, item))


def _item_anchor(meeting, item) -> str:
    return f"{meeting.get_absolute_url()}#decide-box-{item.pk}"


@require_GET
@meeting_view
def minutes(request, pk):
    """Show the printable minutes: attendees, items, notes and decisions."""
    meeting = get_meeting_for_user(request, pk)
    items = selectors.agenda(meeting)
    log_material_open(request, meeting, selectors.item_bases(items), action=AccessLog.Action.PRINT)
    participants = list(
        MeetingParticipant.objects.filter(meeting=meeting).select_related("user", "organization").order_by("id")
    )
    active = [p for p in participants if p.removed_at is None]
    return render(
        request,
        "meetings/minutes.html",
        {
            "meeting": meeting,
            "items": items,
            "participants": participants,
            "attended": [p for p in active if p.attended],
            "absent": [p for p in active if not p.attended],
            "today": timezone.localdate(),
        },
    )


def _back(request) -> str:
    """Return where to go after updating an action item: the page it was sent from, when on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


def _action_update(request, action_pk, service, done_message: str):
    action = get_action_for_user(request, action_pk)
    form = ActionUpdateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back(request))
    try:
        service(action=action, by=request.user, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(request, done_message)
    return redirect(_back(request))


@require_POST
@meeting_view
def action_done(request, action_pk):
    """Mark an action item done (case workers of the assigned organization, the chair or the secretary)."""
    return _action_update(request, action_pk, services.action_item_mark_done, _("対応事項を完了にしました。"))


@require_POST
@meeting_view
def action_reopen(request, action_pk):
    """Reopen a done action item (case workers of the assigned organization, the chair or the secretary)."""
    return _action_update(request, action_pk, services.action_item_reopen, _("対応事項を未完了に戻しました。"))


# ---------------------------------------------------------------------------
# Proposals: the lead (or a team organization with access) puts a case forward
# ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@meeting_view
def case_propose(request, case_pk):
    """Propose a case for a 支援会議 or 重層的支援会議 (case workers who may write under the case)."""
    action = AccessLog.Action.CHANGE if request.method == "POST" else AccessLog.Action.VIEW
    case = get_case_for_user(request, case_pk, action=action, for_change=True)
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_propose(
                case=case, kind=data["kind"], purpose=data["purpose"], reason=data["reason"], by=request.user
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("会議に提案しました。議長の議題候補の一覧に表示されます。"))
            return redirect(case)
    return render(
        request,
        "meetings/propose.html",
        {"case": case, "form": form, "proposals": selectors.case_proposals(case)},
    )


@require_POST
@meeting_view
def proposal_withdraw(request, proposal_pk):
    """Withdraw an open proposal (the proposing organization or the lead organization)."""
    case, proposal = get_proposal_for_user(request, proposal_pk)
    try:
        services.case_proposal_withdraw(proposal=proposal, by=request.user)
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(request, _("提案を取り下げました。"))
    return redirect(case)


@require_GET
@meeting_view
def minutes_sheet(request, pk, pdf: bool = False):
    """会議録 as an A4 form or PDF: attendance, items, decisions and action items; items without a basis left out."""
    meeting = get_meeting_for_user(request, pk)
    items = selectors.agenda(meeting)
    shown = [item for item in items if item.basis.allowed]
    log_material_open(
        request,
        meeting,
        selectors.item_bases(shown),
        action=AccessLog.Action.EXPORT if pdf else AccessLog.Action.PRINT,
    )
    participants = list(
        MeetingParticipant.objects.filter(meeting=meeting, removed_at__isnull=True)
        .select_related("user", "organization")
        .order_by("id")
    )
    context = {
        "meeting": meeting,
        "items": shown,
        "withheld": len(items) - len(shown),
        "participants": participants,
        "imprint": imprint_for(request, viewer_for(request)),
    }
    return render_document(
        request,
        "meetings/print/minutes.html",
        context,
        pdf=pdf,
        filename=f"会議録_{meeting.starts_at:%Y%m%d}_{meeting.pk}.pdf",
    )
