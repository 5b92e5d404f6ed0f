"""Referral screens: thin views over the access helpers, services and selectors."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework.access import get_case_for_user, person_ids_for_case
from casework.models import AccessLog, Organization, Person
from casework.paper import imprint_for, render_document
from casework.viewers import viewer_for
from core.refusals import refuse, refused_form
from core.spreadsheets import encode_csv
from referrals import integration, selectors, services
from referrals.access import (
    RECEIVER,
    SENDER,
    acting_organization_ids,
    get_referral_for_user,
    log_received,
    log_sent,
    may_still_see_referral,
)
from referrals.forms import AttendanceForm, MoveForm, NoteForm, OpenCaseForm, ReferralForm, SendForm, StageForm
from referrals.models import ReferralKind, ReferralState


def referral_view(view):
    """Referral screens need a referral-acting membership (404 otherwise) (a refused access-log row answers 503 through core.guards)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not acting_organization_ids(viewer_for(request)):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _form_errors_to(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# ---------------------------------------------------------------------------
# Inbox and outbox
# ---------------------------------------------------------------------------


def _box_page(request, *, which: str):
    viewer = viewer_for(request)
    state = request.GET.get("state", "")
    overdue = request.GET.get("overdue") == "1"
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1  # a hand-edited page number shows the first page rather than an error
    box = (selectors.inbox if which == "inbox" else selectors.outbox)(
        viewer, state=state, overdue=overdue, page=page, size=selectors.PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("page", None)
    if which == "inbox":
        log_received(
            request.user, action=AccessLog.Action.LIST, object_type="referral_inbox", rows=box.rows, bases=box.bases
        )
    else:
        log_sent(request.user, rows=box.rows)
    return render(
        request,
        "referrals/box.html",
        {
            "box": box,
            "which": which,
            "overdue_only": overdue,
            "today": timezone.localdate(),
            "querystring": query.urlencode(),
        },
    )


@referral_view
@require_http_methods(["GET"])
def inbox(request):
    """Referrals sent to the viewer's organizations, with counts by state and overdue."""
    return _box_page(request, which="inbox")


@referral_view
@require_http_methods(["GET"])
def outbox(request):
    """Referrals the viewer's organizations sent or drafted."""
    return _box_page(request, which="outbox")


@referral_view
@require_http_methods(["GET"])
def inbox_csv(request):
    """Download the inbox cards as CSV for Excel (formula-escaped; only what the cards show)."""
    box = selectors.inbox(viewer_for(request), size=None)
    log_received(
        request.user, action=AccessLog.Action.EXPORT, object_type="referral_inbox", rows=box.rows, bases=box.bases
    )
    header = [
        _("番号"),
        _("種別"),
        _("状態"),
        _("紹介元"),
        _("呼び名"),
        _("年代"),
        _("希望"),
        _("配慮"),
        _("日時"),
        _("連絡先"),
        _("回答期限"),
    ]
    rows = [
        [
            r.pk,
            r.get_kind_display(),
            r.get_state_display(),
            str(r.sender_organization),
            r.card_preferred_name,
            r.card_age_band,
            r.card_wishes,
            r.card_accommodations,
            r.card_schedule,
            r.card_contact,
            r.due_on.isoformat() if r.due_on else "",
        ]
        for r in box.rows
    ]
    data, _replaced = encode_csv(header, rows)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="referrals_inbox.csv"'
    return response


# ---------------------------------------------------------------------------
# Create and edit
# ---------------------------------------------------------------------------


def _sender_for(viewer, kind: str, case=None) -> Organization | None:
    """Return the organization the viewer sends this kind for (the case's team org if possible)."""
    orgs = [o for o in viewer.organizations() if o.pk in acting_organization_ids(viewer)]
    if kind == ReferralKind.TSUNAGI:
        orgs = [o for o in orgs if o.kind == Organization.Kind.PLACE_OPERATOR]
    else:
        orgs = [o for o in orgs if o.kind != Organization.Kind.PLACE_OPERATOR]
        if case is not None and getattr(case, "access", None) and case.access.organization_id:
            orgs = [o for o in orgs if o.pk == case.access.organization_id] or orgs
    return orgs[0] if orgs else None


@referral_view
@require_http_methods(["GET", "POST"])
def referral_new(request, kind: str):
    """Create a draft: 機関間 and 参加支援 from a case, つなぎ from a place."""
    if kind not in ReferralKind.values:
        raise Http404
    viewer = viewer_for(request)
    case = persons = None
    places = []
    if kind != ReferralKind.TSUNAGI:
        if not viewer.works_cases:
            raise Http404
        case = get_case_for_user(request, request.GET.get("case", ""), for_change=True)
        persons = list(Person.objects.filter(pk__in=person_ids_for_case(case)).order_by("id"))
    sender = _sender_for(viewer, kind, case)
    if sender is None:
        raise Http404
    if kind == ReferralKind.PARTICIPATION:
        places = integration.places_accepting_referrals(wishes=request.POST.get("card_wishes", ""), limit=100)
    person = None
    if request.method == "GET" and persons:
        chosen = request.GET.get("person", "")
        person = next((p for p in persons if str(p.pk) == chosen), persons[0])
    initial = services.default_card(kind=kind, person=person, by=request.user, organization=sender)
    if person is not None:
        initial["person"] = person.pk
    # Each member's default card, so the card follows the chosen 対象者 (app.js swaps it; the form refuses
    # a card left with another member's name or age band).
    person_cards = {p.pk: services.person_card(kind=kind, person=p) for p in persons or []}
    form = ReferralForm(
        request.POST or None,
        kind=kind,
        sender=sender,
        persons=persons or [],
        places=places,
        initial=initial,
        person_cards=person_cards,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        # Popped once, before the search: popping inside the generator compared every member after the
        # first with None, so only the lowest-id member of a household could ever be referred.
        chosen_pk = data.pop("person", None)
        person_obj = next((p for p in persons or [] if p.pk == chosen_pk), None)
        place = integration.place_accepting(data.pop("place", "")) if kind == ReferralKind.PARTICIPATION else None
        data.pop("place", None)
        try:
            referral = services.referral_create(
                kind=kind,
                by=request.user,
                sender_organization=sender,
                case=case,
                person=person_obj,
                place=place,
                **data,
            )
        except ValidationError as exc:
            _form_errors_to(form, exc)
        except services.InvalidMove as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("下書きを保存しました。内容を確認して送付してください。"))
            return redirect(referral)
    return render(
        request,
        "referrals/form.html",
        {
            "form": form,
            "kind": kind,
            "kind_label": ReferralKind(kind).label,
            "case": case,
            "sender": sender,
            "places": places,
            "person_cards": {str(pk): card for pk, card in person_cards.items()},
        },
    )


@referral_view
@require_http_methods(["GET", "POST"])
def referral_edit(request, pk: int):
    """Edit a draft or returned referral's request and card (sender only)."""
    referral = get_referral_for_user(request, pk, side=SENDER)
    if referral.state not in {ReferralState.DRAFT, ReferralState.RETURNED}:
        raise Http404
    initial = {name: getattr(referral, name) for name in services.EDITABLE_FIELDS}
    form = ReferralForm(
        request.POST or None, kind=referral.kind, sender=referral.sender_organization, editing=True, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_update(referral=referral, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_to(form, exc)
        except (services.InvalidMove, services.ReferralChanged) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("紹介を更新しました。"))
            return redirect(referral)
    return render(
        request,
        "referrals/form.html",
        {"form": form, "kind": referral.kind, "kind_label": referral.get_kind_display(), "referral": referral},
    )


# ---------------------------------------------------------------------------
# Detail and moves
# ---------------------------------------------------------------------------


def _refused_key(referral, form_name: str) -> str:
    return f"referral:{referral.pk}:{form_name}"


def _refuse(request, referral, form, form_name: str, errors=None):
    """Send a refused detail-page form back to the detail page with what was typed and its errors."""
    return refuse(request, form, key=_refused_key(referral, form_name), to=referral, errors=errors)


def _detail(request, referral):
    access = referral.access
    consent_answer, decisions = None, []
    if access.is_sender and referral.state in {ReferralState.DRAFT, ReferralState.RETURNED}:
        consent_answer = services.send_check(referral)
        decisions = services.support_meeting_choices(referral)
    status_choices = integration.attendance_status_choices()
    forms = {
        "send_form": refused_form(request, _refused_key(referral, "send"), SendForm, decisions=decisions),
        "stage_form": refused_form(request, _refused_key(referral, "stage"), StageForm),
        "attendance_form": refused_form(
            request, _refused_key(referral, "attendance"), AttendanceForm, status_choices=status_choices
        ),
        "note_form": refused_form(request, _refused_key(referral, "note"), NoteForm),
    }
    moves = services.available_moves(referral, access)
    refused_move, move_form, page_errors = "", None, []
    for name in services.MOVES:
        refused = refused_form(request, _refused_key(referral, f"move:{name}"), MoveForm)
        if refused is None:
            continue
        if any(m.name == name for m in moves):
            refused_move, move_form = name, refused
        else:
            # The move is no longer offered (someone else moved the referral first): say why at the top.
            page_errors += [e for errors in refused.errors.values() for e in errors]
    is_place_side = (
        access.is_receiver and referral.receiver_organization.kind == Organization.Kind.PLACE_OPERATOR
    ) or (access.is_sender and referral.sender_organization.kind == Organization.Kind.PLACE_OPERATOR)
    context = {
        "referral": referral,
        "access": access,
        "moves": moves,
        "refused_move": refused_move,
        "page_errors": page_errors,
        "transitions": list(referral.transitions.select_related("by", "organization")),
        "stages": list(referral.stages.select_related("recorded_by")),
        "notes": list(referral.notes.select_related("by", "organization")),
        "attendance": integration.attendance_for(referral.participant_ref)
        if referral.kind == ReferralKind.PARTICIPATION
        else [],
        "consent_answer": consent_answer,
        "is_place_side": is_place_side,
        "move_form": move_form or MoveForm(initial={"version": referral.version}),
        "send_form": forms.get("send_form") or SendForm(initial={"version": referral.version}, decisions=decisions),
        "stage_form": forms.get("stage_form") or StageForm(initial={"on": timezone.localdate()}),
        "attendance_form": forms.get("attendance_form")
        or AttendanceForm(initial={"on": timezone.localdate()}, status_choices=status_choices),
        "note_form": forms.get("note_form") or NoteForm(),
        "can_record": referral.kind == ReferralKind.PARTICIPATION
        and referral.state in {ReferralState.ACCEPTED, ReferralState.IN_PROGRESS},
        "can_open_case": referral.kind == ReferralKind.TSUNAGI
        and access.is_receiver
        and not referral.linked_case_id
        and referral.state in {ReferralState.ACCEPTED, ReferralState.IN_PROGRESS},
    }
    return render(request, "referrals/detail.html", context)


@referral_view
@require_http_methods(["GET"])
def referral_detail(request, pk: int):
    """Show the card, the timeline, stages, attendance and feedback, and only the viewer's moves."""
    return _detail(request, get_referral_for_user(request, pk))


@referral_view
@require_POST
def referral_send(request, pk: int):
    """Send through the consent gate (or with a recorded 支援会議 decision)."""
    referral = get_referral_for_user(request, pk, side=SENDER)
    form = SendForm(request.POST, decisions=services.support_meeting_choices(referral))
    if not form.is_valid():
        return _refuse(request, referral, form, "send")
    try:
        services.referral_send(
            referral=referral,
            by=request.user,
            expected_version=form.cleaned_data["version"],
            support_meeting_ref=form.cleaned_data["support_meeting_ref"],
            tsunagi_basis=form.cleaned_data["tsunagi_basis"],
        )
    except (services.ReferralChanged, services.ReferralBlocked, services.InvalidMove) as exc:
        return _refuse(request, referral, form, "send", errors=[str(exc)])
    messages.success(request, _("紹介を送付しました。"))
    return redirect(referral)


@referral_view
@require_POST
def referral_move(request, pk: int, move: str):
    """Make one move; a stale page gets 409 with the latest state, never a 500."""
    if move not in services.MOVES:
        raise Http404
    referral = get_referral_for_user(request, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _refuse(request, referral, form, f"move:{move}")
    try:
        services.referral_move(
            referral=referral,
            move=move,
            by=request.user,
            reason=form.cleaned_data["reason"],
            outcome=form.cleaned_data["outcome"],
            expected_version=form.cleaned_data["version"],
        )
    except (services.ReferralChanged, services.InvalidMove) as exc:
        return _refuse(request, referral, form, f"move:{move}", errors=[str(exc)])
    messages.success(request, _(services.MOVE_DONE[move]))
    if may_still_see_referral(request, pk):
        return redirect(referral)
    # Some moves end the viewer's access (a place's card after its time); go back to the list.
    return redirect("referrals:inbox")


def _record_on_referral(request, referral, form, *, record, done: str, form_name: str):
    """Run one recording service from a detail-page form; a refusal goes back to the page with its errors."""
    if form.is_valid():
        try:
            record(form.cleaned_data)
        except ValidationError as exc:
            _form_errors_to(form, exc)
        except services.InvalidMove as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect(referral)
    return _refuse(request, referral, form, form_name)


@referral_view
@require_POST
def referral_stage(request, pk: int):
    """Record 見学・体験・定着."""
    referral = get_referral_for_user(request, pk)
    return _record_on_referral(
        request,
        referral,
        StageForm(request.POST),
        record=lambda data: services.participation_stage_record(referral=referral, by=request.user, **data),
        done=_("段階を記録しました。"),
        form_name="stage",
    )


@referral_view
@require_POST
def referral_attendance(request, pk: int):
    """Record one day's attendance at the place (place staff)."""
    referral = get_referral_for_user(request, pk, side=RECEIVER)
    return _record_on_referral(
        request,
        referral,
        AttendanceForm(request.POST, status_choices=integration.attendance_status_choices()),
        record=lambda data: services.referral_attendance_record(referral=referral, by=request.user, **data),
        done=_("出欠を記録しました。"),
        form_name="attendance",
    )


@referral_view
@require_POST
def referral_note(request, pk: int):
    """Add a short note for the other side."""
    referral = get_referral_for_user(request, pk)
    return _record_on_referral(
        request,
        referral,
        NoteForm(request.POST),
        record=lambda data: services.referral_note_add(referral=referral, by=request.user, text=data["text"]),
        done=_("ひとことを記録しました。"),
        form_name="note",
    )


@referral_view
@require_http_methods(["GET", "POST"])
def tsunagi_open_case(request, pk: int):
    """Open a case at the receiving window from a つなぎ; both stay linked."""
    referral = get_referral_for_user(request, pk, side=RECEIVER)
    if referral.kind != ReferralKind.TSUNAGI or not viewer_for(request).works_cases:
        raise Http404
    form = OpenCaseForm(request.POST or None, initial={"summary": referral.request_text})
    if request.method == "POST" and form.is_valid():
        try:
            case = services.tsunagi_open_case(referral=referral, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_to(form, exc)
        except services.InvalidMove as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("ケース %(n)s を開始しました。") % {"n": case.number})
            return redirect(case)
    return render(request, "referrals/open_case.html", {"form": form, "referral": referral})


SHEET_TITLES = {
    ReferralKind.PARTICIPATION: (_("つなぎシート"), _("参加支援の紹介状")),
    ReferralKind.INTER_AGENCY: (_("紹介状"), _("関係機関への紹介")),
    ReferralKind.TSUNAGI: (_("つなぎシート"), _("居場所から相談窓口へ")),
}


@referral_view
@require_http_methods(["GET"])
def referral_sheet(request, pk: int, pdf: bool = False):
    """つなぎシート (紹介状): exactly the need-to-know card the receiver sees, as an A4 form or PDF."""
    referral = get_referral_for_user(request, pk, action=AccessLog.Action.EXPORT if pdf else AccessLog.Action.PRINT)
    title, subtitle = SHEET_TITLES.get(referral.kind, (_("紹介状"), ""))
    context = {
        "referral": referral,
        "title": title,
        "subtitle": subtitle,
        "imprint": imprint_for(request, viewer_for(request)),
    }
    return render_document(
        request, "referrals/print/sheet.html", context, pdf=pdf, filename=f"{title}_{referral.pk}.pdf"
    )
