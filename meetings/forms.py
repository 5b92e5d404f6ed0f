"""Forms of the meeting screens; bad input gets a Japanese message and changes nothing."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from casework.models import Membership, Organization, membership_active_q
from core.forms import CleanTextMixin, WarekiDateField
from meetings.models import AgendaPurpose, Decision, MeetingKind, MeetingParticipant

User = get_user_model()
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _user_label(user) -> str:
    return user.get_full_name() or user.username


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        orgs = "・".join(sorted({str(m.organization) for m in obj.memberships.all() if m.holds_on()}))
        return f"{_user_label(obj)}（{orgs}）" if orgs else _user_label(obj)


def _staff_users():
    """Active users with an active case-working membership: who can sit in a case conference."""
    return (
        User.objects.filter(
            membership_active_q(prefix="memberships__"),
            is_active=True,
            memberships__role__in=["caseworker", "supervisor"],
        )
        .distinct()
        .prefetch_related("memberships__organization")
        .order_by("last_name", "first_name", "username")
    )


class MeetingForm(CleanTextMixin, forms.Form):
    kind = forms.ChoiceField(label=_("会議の種類"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("会議名"), max_length=200)
    starts_at = forms.DateTimeField(
        label=_("開始日時"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    place = forms.CharField(label=_("会場"), max_length=200, required=False)
    online_url = forms.URLField(label=_("オンライン会議のURL"), required=False, assume_scheme="https")
    convened_by = forms.ModelChoiceField(label=_("招集機関"), queryset=Organization.objects.none())
    secretary = UserChoiceField(label=_("書記"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["convened_by"].queryset = Organization.objects.filter(pk__in=[o.pk for o in organizations])
        self.fields["secretary"].queryset = _staff_users()

    def clean_online_url(self):
        url = self.cleaned_data["online_url"]
        # Bidi controls pass Django's URL check (IDN hosts) but make a link read as another address.
        if BIDI_CONTROLS.search(url):
            raise forms.ValidationError(_("URLに使用できない文字（文字の向きを変える制御文字）が含まれています。"))
        return url


class MeetingScheduleForm(CleanTextMixin, forms.Form):
    """Move a scheduled meeting to another date or place (chair or secretary)."""

    starts_at = forms.DateTimeField(
        label=_("開始日時"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    place = forms.CharField(label=_("会場"), max_length=200, required=False)


class MeetingCancelForm(CleanTextMixin, forms.Form):
    """Cancel a scheduled meeting (chair); participants are told that it is cancelled, not why."""

    reason = forms.CharField(label=_("中止の理由"), max_length=200)


class ParticipantAddForm(CleanTextMixin, forms.Form):
    """Add a participant: only staff who are not taking part already are offered."""

    organization = forms.ModelChoiceField(
        label=_("参加する機関"),
        queryset=Organization.objects.none(),
        required=False,
        help_text=_("複数の機関に所属する職員のときだけ選びます。"),
    )

    user = UserChoiceField(
        label=_("参加者"),
        queryset=User.objects.none(),
        error_messages={"invalid_choice": _("参加していない職員を一覧から選んでください。")},
    )

    def __init__(self, *args, meeting=None, **kwargs):
        super().__init__(*args, **kwargs)
        users = _staff_users()
        if meeting is not None:
            taking_part = MeetingParticipant.objects.filter(meeting=meeting, removed_at__isnull=True)
            users = users.exclude(pk__in=taking_part.values("user_id"))
        self.fields["user"].queryset = users
        self.fields["organization"].queryset = Organization.objects.filter(
            pk__in=Membership.objects.active().filter(role__in=["caseworker", "supervisor"]).values("organization_id")
        ).order_by("kind", "name")


class AgendaAddForm(CleanTextMixin, forms.Form):
    """Pick a case from the chair's queue (proposed cases, proposed plans, reviews due); no number is typed."""

    # One answer for a missing id and for a case outside the queue: nothing is confirmed about either.
    case = forms.TypedChoiceField(
        label=_("提案・見直し期限のケース"),
        coerce=int,
        choices=(),
        error_messages={
            "invalid_choice": _("提案されたケース・見直し期限のケースの一覧から選んでください。"),
            "required": _("提案されたケース・見直し期限のケースの一覧から選んでください。"),
        },
        help_text=_(
            "主担当機関（またはケースチームの機関）が会議に提案したケース、提案中のプラン、"
            "見直し期限の近いケースのうち、主担当機関が参加者にいるものです。"
        ),
    )
    purpose = forms.ChoiceField(label=_("目的"), choices=AgendaPurpose.choices)
    summary = forms.CharField(
        label=_("会議用の概要"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("空欄のときはケースの主訴を使います。会議で共有してよい内容だけを書いてください。"),
    )

    def __init__(self, *args, queue=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.entries = {entry.case.pk: entry for entry in queue}
        self.fields["case"].choices = [("", "---------")] + [(pk, e.label) for pk, e in self.entries.items()]

    def clean_case(self):
        value = self.cleaned_data["case"]
        if value not in self.entries:
            raise forms.ValidationError(self.fields["case"].error_messages["invalid_choice"])
        return self.entries[value]


class ProposalForm(CleanTextMixin, forms.Form):
    """Propose a case for a case conference (the lead or a team organization with access)."""

    kind = forms.ChoiceField(label=_("会議の種類"), choices=MeetingKind.choices)
    purpose = forms.ChoiceField(label=_("目的"), choices=AgendaPurpose.choices)
    reason = forms.CharField(
        label=_("提案の理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
        help_text=_("議長の一覧に表示されます。氏名や病名は書かず、検討したいことだけを書いてください。"),
    )


class AgendaItemEditForm(CleanTextMixin, forms.Form):
    purpose = forms.ChoiceField(label=_("目的"), choices=AgendaPurpose.choices)
    summary = forms.CharField(
        label=_("会議用の概要"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=4000,
        help_text=_("会議で共有してよい内容だけを書いてください。"),
    )
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ActionUpdateForm(CleanTextMixin, forms.Form):
    note = forms.CharField(label=_("メモ（任意）"), max_length=500, required=False)


class NoteForm(CleanTextMixin, forms.Form):
    notes = forms.CharField(label=_("記録"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DecisionForm(CleanTextMixin, forms.Form):
    """Record a decision; the fields that only some kinds use say so (data-kinds), and no kind is preselected."""

    kind = forms.ChoiceField(
        label=_("決定の種類"),
        choices=[("", _("選んでください"))] + list(Decision.Kind.choices),
        error_messages={"required": _("決定の種類を選んでください。")},
    )
    text = forms.CharField(
        label=_("内容・理由"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )
    next_review_on = WarekiDateField(label=_("次回見直し日"), required=False)
    # Place operators are left out: places never see what a meeting decided about a case.
    action_organization = forms.ModelChoiceField(
        label=_("担当機関"),
        queryset=Organization.objects.filter(is_active=True).exclude(kind=Organization.Kind.PLACE_OPERATOR),
        required=False,
    )
    action_assignee_name = forms.CharField(label=_("担当者"), max_length=100, required=False)
    action_due_on = WarekiDateField(label=_("期限"), required=False)

    # Fields only some kinds use; the others (the text) belong to every kind.
    KIND_FIELDS = {
        "next_review_on": [Decision.Kind.NEXT_REVIEW],
        "action_organization": [Decision.Kind.ACTION],
        "action_assignee_name": [Decision.Kind.ACTION],
        "action_due_on": [Decision.Kind.ACTION],
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", False)  # one form per agenda item on a page: no repeated ids
        super().__init__(*args, **kwargs)
        for name, kinds in self.KIND_FIELDS.items():
            self.fields[name].widget.attrs["data-kinds"] = " ".join(kinds)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Decision.Kind.ACTION:
            if not cleaned.get("action_organization"):
                self.add_error("action_organization", _("担当機関を選んでください。"))
            if not (cleaned.get("text") or "").strip():
                self.add_error("text", _("対応の内容を書いてください。"))
        return cleaned

    def actions(self) -> list[dict]:
        data = self.cleaned_data
        if data.get("kind") != Decision.Kind.ACTION:
            return []
        return [
            {
                "organization": data["action_organization"],
                "assignee_name": data.get("action_assignee_name") or "",
                "text": data["text"],
                "due_on": data.get("action_due_on"),
            }
        ]
