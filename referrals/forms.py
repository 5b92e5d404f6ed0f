"""Forms of the referral screens: Japanese messages, 和暦 dates, text that is safe to store."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.choices import Domain
from casework.forms import checkbox_choices
from casework.models import ConsultationCategory, Organization
from core.forms import CleanTextForm, WarekiDateField
from core.japanese import is_katakana_reading, to_katakana_reading
from referrals.models import LegalBasis, ParticipationStage, ReferralKind
from referrals.services import RECEIVER_KINDS

CARD_HELP = {
    "card_name": _("機関間の紹介だけに使えます。"),
    "card_preferred_name": _("本人が呼ばれたい名前。居場所にはこの名前だけが伝わります。"),
    "card_age_band": _("例: 20代"),
    "card_wishes": _("例: 料理をしたい、同年代と話したい"),
    "card_accommodations": _("診断名は書かず、配慮の内容で: 「大人数が苦手」「筆談希望」「午前のみ」"),
    "card_schedule": _("例: 平日の午前、月2回程度"),
    "card_contact": _("紹介元の担当者と連絡先"),
}


class ReferralForm(CleanTextForm):
    """The request and the need-to-know card; the receiver sees only what is entered here."""

    receiver_organization = forms.ModelChoiceField(
        label=_("紹介先"), queryset=Organization.objects.none(), required=False
    )
    person = forms.TypedChoiceField(label=_("対象者"), coerce=int, required=False)
    place = forms.TypedChoiceField(label=_("居場所"), coerce=int, required=False)
    request_text = forms.CharField(label=_("依頼内容"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
    due_on = WarekiDateField(label=_("回答期限"), required=False)
    card_name = forms.CharField(label=_("氏名"), max_length=200, required=False)
    card_preferred_name = forms.CharField(label=_("呼び名"), max_length=100, required=False)
    card_age_band = forms.CharField(label=_("年代"), max_length=20, required=False)
    card_wishes = forms.CharField(
        label=_("本人のやりたいこと・希望"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, required=False
    )
    card_accommodations = forms.CharField(
        label=_("配慮してほしいこと"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, required=False
    )
    card_schedule = forms.CharField(label=_("参加しやすい日時"), max_length=200, required=False)
    card_contact = forms.CharField(label=_("担当者の連絡先"), max_length=200, required=False)

    def __init__(
        self, *args, kind: str, sender: Organization, persons=(), places=(), editing=False, person_cards=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.person_cards = person_cards or {}
        self.person_names = {p.pk: p.display_name for p in persons}
        for name, text in CARD_HELP.items():
            self.fields[name].help_text = text
        if editing:
            for name in ("receiver_organization", "person", "place"):
                del self.fields[name]
        else:
            if kind == ReferralKind.PARTICIPATION:
                del self.fields["receiver_organization"]
                self.fields["place"].required = True
                self.fields["place"].choices = [("", "―")] + [
                    (p.pk, f"{p.name}（{p.get_kind_display()}・{p.area or p.operator}）") for p in places
                ]
            else:
                del self.fields["place"]
                self.fields["receiver_organization"].required = True
                self.fields["receiver_organization"].queryset = Organization.objects.filter(
                    is_active=True, kind__in=RECEIVER_KINDS
                ).exclude(pk=sender.pk)
            if kind == ReferralKind.TSUNAGI:
                del self.fields["person"]
            else:
                self.fields["person"].required = True
                self.fields["person"].choices = [(p.pk, p.display_name) for p in persons]
                self.fields["person"].widget.attrs["data-card-source"] = "person-cards"
        if kind != ReferralKind.INTER_AGENCY:
            del self.fields["card_name"]
        if kind == ReferralKind.TSUNAGI:
            self.fields["request_text"].label = _("気になっていること")
            self.fields["request_text"].help_text = _(
                "最小限にしてください。病名や家庭の事情の推測は書かないでください。"
            )
            self.fields["card_contact"].label = _("居場所の連絡先")
            self.fields["card_wishes"].label = _("本人が望んでいること（わかれば）")

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("person")
        if chosen is None or chosen not in self.person_cards:
            return cleaned
        own = self.person_cards[chosen]
        # A card still holding another member's name or age band would introduce the wrong person.
        for other_pk, other in self.person_cards.items():
            if other_pk == chosen:
                continue
            for name, value in other.items():
                typed = cleaned.get(name)
                if typed and typed == value and typed != own.get(name):
                    self.add_error(
                        name,
                        _(
                            "%(label)sが対象者ではなく、別の世帯員（%(other)s）のものです。対象者の内容に直してください。"
                        )
                        % {"label": self.fields[name].label, "other": self.person_names.get(other_pk, "")},
                    )
        return cleaned


class SendForm(CleanTextForm):
    """The basis for sending when consent alone does not allow it: a recorded 支援会議 decision, never free text."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    support_meeting_ref = forms.ChoiceField(
        label=_("支援会議の決定"),
        choices=[],
        required=False,
        help_text=_("本人同意がない場合だけ。法第106条の6の支援会議で、この紹介先との共有を決定した記録から選びます。"),
        error_messages={
            "invalid_choice": _("支援会議の決定は、記録された決定の一覧から選んでください（自由記述は使えません）。")
        },
    )
    tsunagi_basis = forms.ChoiceField(
        label=_("つなぎの根拠"),
        choices=[
            ("", "―"),
            (LegalBasis.PERSON_AGREED, LegalBasis.PERSON_AGREED.label),
            (LegalBasis.VITAL_INTEREST, LegalBasis.VITAL_INTEREST.label),
        ],
        required=False,
    )

    def __init__(self, *args, decisions=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The decisions the disclosure module finds on record for this case and receiver.
        self.fields["support_meeting_ref"].choices = [("", "―")] + [(ref, ref) for ref in decisions]
        if not decisions:
            self.fields["support_meeting_ref"].help_text = _(
                "この紹介先との共有を決定した支援会議の記録はありません。本人同意を記録してください。"
            )


class MoveForm(CleanTextForm):
    """One move with its reason or outcome, based on the version the page showed."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)
    outcome = forms.CharField(
        label=_("結果"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )


class StageForm(CleanTextForm):
    """見学・体験・定着 with its date and who went along."""

    stage = forms.ChoiceField(label=_("段階"), choices=ParticipationStage.choices)
    on = WarekiDateField(label=_("日付"))
    accompanied_by = forms.CharField(label=_("同行者"), max_length=200, required=False)
    note = forms.CharField(label=_("ひとこと"), max_length=500, required=False)


class AttendanceForm(CleanTextForm):
    """One day's attendance at the place."""

    on = WarekiDateField(label=_("日付"))
    status = forms.ChoiceField(label=_("出欠"))
    hours = forms.DecimalField(
        label=_("時間"), max_digits=4, decimal_places=1, min_value=0, max_value=24, required=False
    )
    note = forms.CharField(label=_("ひとこと（紹介元へ）"), max_length=200, required=False)
    replace = forms.BooleanField(
        label=_("この日の記録を書き換える"),
        required=False,
        help_text=_("同じ日の出欠がすでにあるときだけ。前の記録とひとことは置き換わります。"),
    )

    def __init__(self, *args, status_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = status_choices


class NoteForm(CleanTextForm):
    """A short note to the other side."""

    text = forms.CharField(label=_("ひとこと"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class OpenCaseForm(CleanTextForm):
    """Open a case from a つなぎ: the window fills in what it learnt when it met the person."""

    family_name = forms.CharField(label=_("氏"), max_length=100, required=False)
    given_name = forms.CharField(label=_("名"), max_length=100, required=False)
    family_name_kana = forms.CharField(label=_("氏（フリガナ）"), max_length=100, required=False)
    given_name_kana = forms.CharField(label=_("名（フリガナ）"), max_length=100, required=False)
    domains = checkbox_choices(Domain.choices, label=_("分野"))
    main_category = forms.ChoiceField(label=_("主な相談内容"), choices=ConsultationCategory.choices)
    summary = forms.CharField(
        label=_("主訴"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, required=False
    )

    # Furigana is stored as full-width katakana like the intake's (ｶﾀｶﾅ and ひらがな were stored as typed).
    def _clean_kana(self, name):
        value = to_katakana_reading(self.cleaned_data.get(name, ""))
        if value and not is_katakana_reading(value):
            raise forms.ValidationError(_("フリガナはカタカナ（ひらがな・半角カナも可）で入力してください。"))
        return value

    def clean_family_name_kana(self):
        return self._clean_kana("family_name_kana")

    def clean_given_name_kana(self):
        return self._clean_kana("given_name_kana")
