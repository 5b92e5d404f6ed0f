"""人事異動: a supervisor (or an administrator) hands a leaving worker's open items to colleagues in one step."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from casework.access import log_handover_list
from casework.models import WorkerHandover
from casework.services.handover import (
    handover_items,
    handover_organizations,
    handover_receivers,
    handover_workers,
    worker_handover,
)
from casework.viewers import viewer_for
from core.forms import CleanTextForm


def _person_label(user) -> str:
    """Family name first, as Japanese staff lists read."""
    name = f"{user.last_name} {user.first_name}".strip()
    return name or user.username


def _pick(queryset, raw):
    """The row of the queryset whose id was given, or None (junk ids are simply not found)."""
    raw = str(raw or "").strip()
    if not raw.isdigit() or len(raw) > 18:
        return None
    return queryset.filter(pk=int(raw)).first()


class HandoverForm(CleanTextForm):
    note = forms.CharField(
        label=gettext_lazy("引継ぎメモ"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "新しい担当者に伝えること（例: 4月1日付の人事異動。各ケースの次回訪問予定は支援経過に記録済み）"
        ),
    )
    all_to = forms.ChoiceField(label=gettext_lazy("一括の引継ぎ先"), required=False)
    shown = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20000)

    def __init__(self, *args, receivers=(), groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("（一括の引継ぎ先に合わせる）"))] + [(str(u.pk), _person_label(u)) for u in receivers]
        self.fields["all_to"].choices = [("", _("（項目ごとに選ぶ）"))] + choices[1:]
        self.item_fields = []
        for source, items in groups:
            for item in items:
                name = f"to_{item.kind}_{item.object_id}"
                self.fields[name] = forms.ChoiceField(label=item.label, choices=choices, required=False)
                self.item_fields.append((source, item, name))
        self.receivers = {str(u.pk): u for u in receivers}

    def assignments(self) -> dict[str, object]:
        return {
            item.key: self.receivers[self.cleaned_data[name]]
            for _source, item, name in self.item_fields
            if self.cleaned_data.get(name)
        }


@require_http_methods(["GET", "POST"])
def handover(request):
    """Choose the organization and the leaving worker, see their open items, assign each or all, apply at once."""
    viewer = viewer_for(request)
    organizations = list(handover_organizations(viewer))
    if not organizations:
        raise Http404
    params = request.POST if request.method == "POST" else request.GET
    by_id = {str(o.pk): o for o in organizations}
    organization = by_id.get(str(params.get("organization", ""))) or (
        organizations[0] if len(organizations) == 1 else None
    )
    workers = list(handover_workers(organization)) if organization else []
    leaving = _pick(handover_workers(organization), params.get("worker")) if organization else None
    groups, receivers, form = [], [], None
    if leaving is not None:
        groups = handover_items(organization, leaving)
        receivers = list(handover_receivers(organization, leaving))
        # The screen shows case numbers of the worker's cases: one row says who looked (no names shown).
        log_handover_list(request, organization=organization, leaving=leaving, groups=groups)
        shown = ",".join(item.key for _source, items in groups for item in items)
        form = HandoverForm(
            request.POST if request.method == "POST" else None,
            receivers=receivers,
            groups=groups,
            initial={"shown": shown},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            expected = {key for key in (data.get("shown") or "").split(",") if key}
            try:
                done = worker_handover(
                    organization=organization,
                    leaving=leaving,
                    note=data["note"],
                    by=request.user,
                    assignments=form.assignments(),
                    default_to=form.receivers.get(data.get("all_to") or ""),
                    expected_keys=expected,
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("%(name)s さんの %(count)d 件を引き継ぎました。各ケースの履歴に記録されています。")
                    % {"name": _person_label(leaving), "count": done.items.count()},
                )
                return redirect(f"{reverse('casework:handover')}?organization={organization.pk}")
    elif request.method == "POST":
        raise Http404
    history = (
        list(
            WorkerHandover.objects.filter(organization=organization)
            .select_related("leaving", "by")
            .prefetch_related("items")[:10]
        )
        if organization
        else []
    )
    total = sum(len(items) for _source, items in groups)
    return render(
        request,
        "casework/handover.html",
        {
            "organizations": organizations,
            "organization": organization,
            "workers": workers,
            "leaving": leaving,
            "groups": [
                (source, [(item, form[name]) for s, item, name in form.item_fields if s is source])
                for source, _items in groups
            ]
            if form
            else [],
            "total": total,
            "receivers": receivers,
            "form": form,
            "history": history,
        },
    )
