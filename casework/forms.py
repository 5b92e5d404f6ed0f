"""Forms for the case screens: Japanese messages, 和暦 dates, and text that is safe to store."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.assessment import ANSWERS, CURRENT_VERSION, schema_items
from casework.choices import Domain
from casework.models import (
    ApiScope,
    CaseState,
    Consent,
    ConsentPurpose,
    ConsultationCategory,
    ContactRecord,
    DisclosureRequest,
    Household,
    HouseholdMember,
    IntakeRoute,
    Organization,
    Person,
    Relative,
    SupportTie,
)
from casework.services.break_glass import break_glass_reason_problem
from casework.services.intake import NewMember
from casework.services.persons import PERSON_FIELDS
from core.forms import CaseNumberField, CleanTextForm, WarekiDateField
from core.japanese import is_katakana_reading, staff_name, to_katakana_reading


def checkbox_choices(choices, **kwargs) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **kwargs)


class PersonForm(CleanTextForm):
    """One person's details as typed; furigana accepts hiragana and half-width kana."""

    family_name = forms.CharField(label=_("氏"), max_length=100, required=False)
    given_name = forms.CharField(label=_("名"), max_length=100, required=False)
    family_name_kana = forms.CharField(label=_("氏（フリガナ）"), max_length=100, required=False)
    given_name_kana = forms.CharField(label=_("名（フリガナ）"), max_length=100, required=False)
    alias = forms.CharField(label=_("通称"), max_length=100, required=False)
    preferred_name = forms.CharField(label=_("呼ばれたい名前"), max_length=100, required=False)
    is_anonymous = forms.BooleanField(label=_("匿名・氏名不詳で受け付ける"), required=False)
    birth_date = WarekiDateField(label=_("生年月日"), required=False)
    gender = forms.ChoiceField(label=_("性別"), choices=[("", "―"), *Person.Gender.choices], required=False)
    postal_code = forms.RegexField(
        label=_("郵便番号"),
        regex=r"^\d{3}-?\d{4}$",
        required=False,
        error_messages={"invalid": _("郵便番号は 123-4567 の形で入力してください。")},
    )
    prefecture = forms.CharField(label=_("都道府県"), max_length=10, required=False)
    city = forms.CharField(label=_("市区町村"), max_length=100, required=False)
    street = forms.CharField(label=_("町名番地"), max_length=200, required=False)
    building = forms.CharField(label=_("建物名・部屋番号"), max_length=200, required=False)
    phone = forms.CharField(label=_("電話番号"), max_length=30, required=False)
    phone_alt = forms.CharField(label=_("電話番号（その他）"), max_length=30, required=False)
    address_secret = forms.BooleanField(label=_("住所秘匿（主担当機関以外には住所を表示しない）"), required=False)

    # The fields person_create and person_update take (kept in one place: the service).
    person_fields = sorted(PERSON_FIELDS)

    def _clean_kana(self, name):
        value = to_katakana_reading(self.cleaned_data.get(name, ""))
        if value and not is_katakana_reading(value):
            raise ValidationError(_("フリガナはカタカナ（ひらがな・半角カナも可）で入力してください。"))
        return value

    def clean_family_name_kana(self):
        return self._clean_kana("family_name_kana")

    def clean_given_name_kana(self):
        return self._clean_kana("given_name_kana")

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        if value and value > timezone.localdate():
            raise ValidationError(_("生年月日が未来の日付です。"))
        return value

    def is_blank(self) -> bool:
        """Whether nothing identifying was typed (used for optional extra members)."""
        data = self.cleaned_data
        return not any(
            data.get(n)
            for n in ("family_name", "given_name", "family_name_kana", "given_name_kana", "alias", "is_anonymous")
        )

    def clean(self):
        data = super().clean()
        named = any(data.get(n) for n in ("family_name", "given_name", "family_name_kana", "given_name_kana", "alias"))
        if not named and not data.get("is_anonymous") and not self.errors and self.empty_permitted is False:
            raise ValidationError(_("氏名・フリガナ・通称のいずれかを入力するか、「匿名・氏名不詳」を選んでください。"))
        return data

    def person_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.person_fields} | {
            "gender": self.cleaned_data.get("gender") or "",
            "postal_code": self.cleaned_data.get("postal_code") or "",
        }


class MemberForm(PersonForm):
    """A household member: the person plus their place in the household."""

    def new_member(self, existing: Person | None = None) -> NewMember:
        """Return what the intake services need: the chosen existing person or the typed details."""
        data = self.cleaned_data
        return NewMember(
            relationship=data["relationship"],
            existing=existing,
            person_fields={} if existing else self.person_data(),
            relationship_note=data["relationship_note"],
            lives_together=data["lives_together"],
            is_key_person=data["is_key_person"],
            is_subject=data["is_subject"],
        )

    # No preselected 続柄: an unchanged select used to record every further member as a second 本人.
    relationship = forms.ChoiceField(
        label=_("続柄"), choices=[("", _("選んでください")), *HouseholdMember.Relationship.choices]
    )
    relationship_note = forms.CharField(label=_("続柄（補足）"), max_length=100, required=False)
    lives_together = forms.BooleanField(label=_("同居している"), required=False, initial=True)
    is_key_person = forms.BooleanField(label=_("キーパーソン"), required=False)
    is_subject = forms.BooleanField(label=_("このケースの対象者"), required=False, initial=True)
    link_person = forms.CharField(required=False, widget=forms.HiddenInput)


class IntakeForm(CleanTextForm):
    """The household and case part of the intake."""

    household_name = forms.CharField(label=_("世帯名"), max_length=100, help_text=_("例: 山田さん世帯"))
    tags = checkbox_choices(Household.Tag.choices, label=_("世帯の状況"), required=False)
    domains = checkbox_choices(Domain.choices, label=_("分野（複数選択可）"))
    main_category = forms.ChoiceField(label=_("主な相談内容"), choices=ConsultationCategory.choices)
    categories = checkbox_choices(ConsultationCategory.choices, label=_("その他の相談内容"), required=False)
    intake_route = forms.ChoiceField(label=_("相談経路"), choices=IntakeRoute.choices)
    lead_organization = forms.ModelChoiceField(
        label=_("主担当機関"), queryset=Organization.objects.none(), required=False
    )
    opened_on = WarekiDateField(label=_("受付日"))
    summary = forms.CharField(label=_("主訴"), widget=forms.Textarea, required=False, max_length=5000)

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organizations = list(organizations)
        self.fields["lead_organization"].queryset = Organization.objects.filter(pk__in=[o.pk for o in organizations])
        if len(self.organizations) == 1:
            self.fields["lead_organization"].initial = self.organizations[0].pk
        self.fields["opened_on"].initial = timezone.localdate()

    def clean_lead_organization(self):
        org = self.cleaned_data.get("lead_organization")
        if org is None and len(self.organizations) == 1:
            return self.organizations[0]
        if org is None:
            raise ValidationError(_("主担当機関を選んでください。"))
        return org


class ConsentForm(CleanTextForm):
    """One consent ledger entry."""

    person = forms.TypedChoiceField(label=_("本人"), coerce=int)
    status = forms.ChoiceField(
        label=_("意思"), choices=[(Consent.Status.GIVEN, _("同意")), (Consent.Status.REFUSED, _("不同意"))]
    )
    given_by = forms.ChoiceField(label=_("同意した人"), choices=Consent.GivenBy.choices)
    giver_name = forms.CharField(label=_("同意した人の氏名（本人以外のとき）"), max_length=100, required=False)
    given_on = WarekiDateField(label=_("同意日"))
    method = forms.ChoiceField(label=_("方法"), choices=Consent.Method.choices)
    document_version = forms.CharField(label=_("説明文書の版"), max_length=50, required=False)
    scope_kind = forms.ChoiceField(label=_("範囲"), choices=Consent.ScopeKind.choices, widget=forms.RadioSelect)
    organizations = forms.ModelMultipleChoiceField(
        label=_("提供先の機関（範囲が「指定した機関」のとき）"),
        queryset=Organization.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    purposes = checkbox_choices(ConsentPurpose.choices, label=_("目的"))
    valid_until = WarekiDateField(label=_("有効期限"), required=False)
    scanned_form = forms.FileField(label=_("同意書の写し（PDF・画像）"), required=False)

    ALLOWED_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png")
    MAX_BYTES = 10 * 1024 * 1024

    def __init__(self, *args, people=(), lead=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(p.pk, p.display_name) for p in people]
        self.fields["given_on"].initial = timezone.localdate()
        if lead is not None:
            # The lead organization holds the case: ticked from the start, and added back (with a message) if
            # a named scope leaves it out.
            self.fields["organizations"].initial = [lead.pk]
            self.fields["organizations"].help_text = _(
                "主担当機関（%(org)s）は必ず含まれます。外した場合も、記録時に加えてお知らせします。"
            ) % {"org": lead.name}

    def clean_scanned_form(self):
        upload = self.cleaned_data.get("scanned_form")
        if upload:
            if not upload.name.lower().endswith(self.ALLOWED_SUFFIXES):
                raise ValidationError(_("PDF・JPEG・PNG のファイルを選んでください。"))
            if upload.size > self.MAX_BYTES:
                raise ValidationError(_("ファイルが大きすぎます（10MBまで）。"))
        return upload

    def clean(self):
        data = super().clean()
        if (
            data.get("scope_kind") == Consent.ScopeKind.NAMED
            and data.get("status") == Consent.Status.GIVEN
            and not data.get("organizations")
        ):
            self.add_error("organizations", _("提供先の機関を一つ以上選んでください。"))
        return data


class WithdrawForm(CleanTextForm):
    withdrawn_on = WarekiDateField(label=_("撤回日"))
    note = forms.CharField(label=_("撤回の内容"), widget=forms.Textarea, required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["withdrawn_on"].initial = timezone.localdate()


class AssessmentForm(CleanTextForm):
    """The checklist of the current schema version, plus the narrative."""

    assessed_on = WarekiDateField(label=_("実施日"))
    narrative = forms.CharField(label=_("見立て・所見"), widget=forms.Textarea, required=False, max_length=10000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessed_on"].initial = timezone.localdate()
        for key, label in schema_items(CURRENT_VERSION):
            self.fields[f"item_{key}"] = forms.ChoiceField(
                label=label, choices=list(ANSWERS.items()), initial="unknown", widget=forms.RadioSelect
            )

    def checklist(self) -> dict:
        return {key: self.cleaned_data[f"item_{key}"] for key, _label in schema_items(CURRENT_VERSION)}

    def item_fields(self):
        return [self[f"item_{key}"] for key, _label in schema_items(CURRENT_VERSION)]


class PlanForm(CleanTextForm):
    goals = forms.CharField(label=_("目標"), widget=forms.Textarea, max_length=5000)
    period_start = WarekiDateField(label=_("期間（開始）"), required=False)
    period_end = WarekiDateField(label=_("期間（終了）"), required=False)
    next_review_on = WarekiDateField(label=_("次回見直し日"), required=False)
    includes_participation_support = forms.BooleanField(label=_("参加支援を含む"), required=False)
    includes_outreach = forms.BooleanField(label=_("アウトリーチを含む"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("終了日は開始日より後にしてください。"))
        return data


class PlanRoleForm(CleanTextForm):
    organization = forms.ModelChoiceField(label=_("機関"), queryset=Organization.objects.filter(is_active=True))
    role = forms.CharField(label=_("役割"), max_length=200)
    actions = forms.CharField(label=_("具体的な支援"), widget=forms.Textarea, required=False, max_length=5000)
    period_start = WarekiDateField(label=_("期間（開始）"), required=False)
    period_end = WarekiDateField(label=_("期間（終了）"), required=False)


class PlanApproveForm(CleanTextForm):
    decided_by_label = forms.CharField(
        label=_("承認した会議など"), max_length=200, required=False, help_text=_("例: 重層的支援会議 2026-11-20")
    )


class ApprovalDecisionForm(CleanTextForm):
    """A supervisor's 決裁: approve, or send back (差戻し) with a comment saying why."""

    decision = forms.ChoiceField(
        label=_("決裁"), choices=[("approve", _("承認する")), ("return", _("差し戻す"))], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        label=_("コメント"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        help_text=_("差し戻すときは理由を必ず書いてください（申請者に伝わります）。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "return" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("差し戻す理由をコメントに入力してください。"))
        return data


class ContactForm(CleanTextForm):
    occurred_on = WarekiDateField(label=_("日付"))
    occurred_time = forms.TimeField(label=_("時刻"), widget=forms.TimeInput(attrs={"type": "time"}))
    kind = forms.ChoiceField(label=_("種別"), choices=ContactRecord.Kind.choices)
    person = forms.TypedChoiceField(label=_("対象者"), coerce=int, required=False, empty_value=None)
    is_outreach = forms.BooleanField(label=_("アウトリーチ（訪問・働きかけ）"), required=False)
    sensitive = forms.BooleanField(label=_("要配慮情報を含む"), required=False)
    summary = forms.CharField(label=_("内容"), widget=forms.Textarea, max_length=10000)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("（世帯・特定しない）")), *[(p.pk, p.display_name) for p in people]]
        now = timezone.localtime()
        self.fields["occurred_on"].initial = now.date()
        self.fields["occurred_time"].initial = now.strftime("%H:%M")

    def occurred_at(self) -> datetime:
        data = self.cleaned_data
        return timezone.make_aware(datetime.combine(data["occurred_on"], data["occurred_time"]))


class TeamAddForm(CleanTextForm):
    organization = forms.ModelChoiceField(label=_("機関"), queryset=Organization.objects.none())
    note = forms.CharField(label=_("役割"), max_length=200, required=False)

    def __init__(self, *args, exclude_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = (
            Organization.objects.filter(is_active=True)
            .exclude(kind=Organization.Kind.PLACE_OPERATOR)
            .exclude(pk__in=list(exclude_ids))
        )


class TransitionForm(CleanTextForm):
    to_state = forms.ChoiceField(label=_("変更後の状態"), choices=CaseState.choices)
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea, required=False, max_length=2000)
    decided_by_label = forms.CharField(label=_("決定した会議など"), max_length=200, required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, open_things=(), **kwargs):
        super().__init__(*args, **kwargs)
        # One choice per thing still open on the case (referrals, action items, plan, review date); nothing
        # preselected, required when closing or suspending (checked by the service, named in its message).
        self.open_things = list(open_things)
        for thing in self.open_things:
            self.fields[self.open_field(thing)] = forms.ChoiceField(
                label=f"{thing.kind_label}: {thing.text}",
                choices=[("", _("終結・中断のときの扱いを選んでください")), *thing.choices],
                required=False,
            )

    @staticmethod
    def open_field(thing) -> str:
        return "open-" + thing.key.replace(":", "-")

    def open_choices(self) -> dict[str, str]:
        """Return {open thing key: chosen value} for the closing service."""
        return {thing.key: self.cleaned_data.get(self.open_field(thing), "") for thing in self.open_things}


class BreakGlassForm(CleanTextForm):
    number = CaseNumberField(label=_("ケース番号"))
    reason = forms.CharField(
        label=_("緊急にアクセスする理由"),
        widget=forms.Textarea,
        max_length=500,
        help_text=_("10文字以上で具体的に。理由は監査担当者が確認します。"),
    )

    def clean_reason(self):

        reason = self.cleaned_data["reason"]
        problem = break_glass_reason_problem(reason)
        if problem:
            raise ValidationError(problem)
        return reason.strip()


# ---------------------------------------------------------------------------
# Edit screens
# ---------------------------------------------------------------------------


ADDRESS_FIELDS = ("postal_code", "prefecture", "city", "street", "building", "address_secret")


class PersonEditForm(PersonForm):
    """Change a person as the intake took them; a 住所秘匿 address is left out for non-lead organizations."""

    def __init__(self, *args, person: Person, show_address: bool, **kwargs):
        kwargs.setdefault("initial", {name: getattr(person, name) for name in self.person_fields})
        super().__init__(*args, **kwargs)
        self.fields["is_anonymous"].label = _("匿名・氏名不詳")
        self.address_hidden = person.address_secret and not show_address
        if self.address_hidden:
            # Not shown and not accepted: a POST naming these fields changes nothing.
            for name in ADDRESS_FIELDS:
                del self.fields[name]

    def person_data(self) -> dict:
        return {name: value for name, value in super().person_data().items() if name in self.fields}


class HouseholdForm(CleanTextForm):
    name = forms.CharField(label=_("世帯名"), max_length=100)
    tags = checkbox_choices(Household.Tag.choices, label=_("世帯の状況"), required=False)
    note = forms.CharField(label=_("備考"), widget=forms.Textarea, required=False, max_length=5000)


class MemberEditForm(CleanTextForm):
    relationship = forms.ChoiceField(label=_("続柄"), choices=HouseholdMember.Relationship.choices)
    relationship_note = forms.CharField(label=_("続柄（補足）"), max_length=100, required=False)
    lives_together = forms.BooleanField(label=_("同居している（外すと別居）"), required=False)
    is_key_person = forms.BooleanField(label=_("キーパーソン"), required=False)
    since = WarekiDateField(label=_("世帯員となった日"), required=False)

    def clean_since(self):
        value = self.cleaned_data.get("since")
        if value and value > timezone.localdate():
            raise ValidationError(_("世帯員となった日に未来の日付は入力できません。"))
        return value


class MemberEndForm(CleanTextForm):
    until = WarekiDateField(label=_("世帯員でなくなった日"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["until"].initial = timezone.localdate()


class CaseEditForm(CleanTextForm):
    """The case's details; state, number, lead organization and version are deliberately not fields."""

    domains = checkbox_choices(Domain.choices, label=_("分野（複数選択可）"))
    main_category = forms.ChoiceField(label=_("主な相談内容"), choices=ConsultationCategory.choices)
    categories = checkbox_choices(ConsultationCategory.choices, label=_("その他の相談内容"), required=False)
    intake_route = forms.ChoiceField(label=_("相談経路"), choices=IntakeRoute.choices)
    lead_worker = forms.ModelChoiceField(
        label=_("主担当者"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("未定"),
        error_messages={"invalid_choice": _("主担当者は主担当機関の職員から選んでください。")},
    )
    summary = forms.CharField(label=_("主訴"), widget=forms.Textarea, required=False, max_length=5000)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case, workers, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "domains": case.domains,
                "main_category": case.main_category,
                "categories": [c for c in case.categories or [] if c != case.main_category],
                "intake_route": case.intake_route,
                "lead_worker": case.lead_worker_id,
                "summary": case.summary,
                "expected_version": case.version,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["lead_worker"].queryset = workers
        self.fields["lead_worker"].label_from_instance = staff_name
        self.fields["lead_worker"].help_text = _("%(org)sの職員から選びます。") % {"org": case.lead_organization}


class LeadChangeForm(CleanTextForm):
    """Hand the lead to another window or coordinator; the worker list is grouped by organization."""

    organization = forms.ModelChoiceField(
        label=_("新しい主担当機関"),
        queryset=Organization.objects.none(),
        error_messages={
            "invalid_choice": _("新しい主担当は相談支援機関または多機関協働事業者から選んでください。"),
            "required": _("新しい主担当機関を選んでください。"),
        },
    )
    lead_worker = forms.TypedChoiceField(label=_("新しい主担当者"), coerce=int, required=False, empty_value=None)
    reason = forms.CharField(
        label=_("変更の理由"),
        widget=forms.Textarea,
        max_length=2000,
        error_messages={"required": _("主担当を変更する理由を入力してください。")},
        help_text=_(
            "例: 高齢分野の課題が落ち着き、障害分野の支援が中心になったため（重層的支援会議 令和7年6月10日で合意）"
        ),
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case, organizations, memberships, **kwargs):
        kwargs.setdefault("initial", {"expected_version": case.version})
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.worker_orgs = {(m.user_id, m.organization_id) for m in memberships}
        groups: dict[str, list] = {}
        for m in memberships:
            label = staff_name(m.user)
            groups.setdefault(m.organization.name, []).append((m.user_id, f"{label}（{m.get_role_display()}）"))
        self.fields["lead_worker"].choices = [("", _("未定（新しい主担当機関で決める）")), *groups.items()]
        self.fields["lead_worker"].help_text = _("新しい主担当機関の職員から選びます。")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("主担当を変更する理由を入力してください。"))
        return reason

    def clean(self):
        data = super().clean()
        org, worker_id = data.get("organization"), data.get("lead_worker")
        if org is not None and worker_id is not None and (worker_id, org.pk) not in self.worker_orgs:
            self.add_error("lead_worker", _("主担当者は新しい主担当機関の職員から選んでください。"))
        return data


class NextReviewForm(CleanTextForm):
    next_review_on = WarekiDateField(label=_("次回見直し日"))


class LoginForm(AuthenticationForm):
    """Django's sign-in form with the username's length actually enforced."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # AuthenticationForm sets max_length after building the field, so no validator checks it: a
        # 100,000-character username reached django-axes, whose username column holds 255 (a 500).
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class RelativeForm(CleanTextForm):
    """A relative outside the household, for the genogram; names as typed, everything but the 続柄 optional."""

    relationship = forms.ChoiceField(
        label=_("続柄（本人から見て）"),
        choices=[c for c in HouseholdMember.Relationship.choices if c[0] != HouseholdMember.Relationship.SELF],
    )
    relationship_note = forms.CharField(label=_("続柄（補足）"), max_length=100, required=False)
    name = forms.CharField(label=_("氏名"), max_length=100, required=False)
    gender = forms.ChoiceField(label=_("性別"), choices=[("", "―"), *Person.Gender.choices], required=False)
    birth_date = WarekiDateField(label=_("生年月日"), required=False)
    age = forms.IntegerField(label=_("年齢（生年月日が不明なとき）"), min_value=0, max_value=130, required=False)
    is_deceased = forms.BooleanField(label=_("死亡"), required=False)
    died_on = WarekiDateField(label=_("死亡日"), required=False)
    partnership = forms.ChoiceField(
        label=_("婚姻関係（配偶者のとき）"), choices=[("", "―"), *Relative.Partnership.choices], required=False
    )
    lives_in = forms.CharField(label=_("居住地"), max_length=100, required=False)
    note = forms.CharField(label=_("備考"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("partnership") and data.get("relationship") != HouseholdMember.Relationship.SPOUSE:
            self.add_error("partnership", _("婚姻関係は配偶者のときだけ選べます。"))
        today = timezone.localdate()
        for name in ("birth_date", "died_on"):
            if data.get(name) and data[name] > today:
                self.add_error(name, _("未来の日付は入力できません。"))
        return data


class SupportTieForm(CleanTextForm):
    """An informal support around the household, for the ecomap."""

    name = forms.CharField(label=_("名称（例: 民生委員の佐藤さん）"), max_length=100)
    kind = forms.ChoiceField(label=_("種類"), choices=SupportTie.Kind.choices)
    strength = forms.ChoiceField(
        label=_("つながりの強さ"), choices=SupportTie.Strength.choices, initial=SupportTie.Strength.NORMAL
    )
    quality = forms.ChoiceField(
        label=_("関係"), choices=SupportTie.Quality.choices, initial=SupportTie.Quality.SUPPORTIVE
    )
    note = forms.CharField(label=_("備考"), max_length=200, required=False)


class MigrationUploadForm(CleanTextForm):
    """A file exported by an older system, and the name the city gives that system."""

    source_name = forms.CharField(
        label=_("移行元の名称"),
        max_length=100,
        help_text=_("例: 旧ケース管理システム、東包括の台帳。同じ名称なら前回の列の対応を引き継ぎます。"),
    )
    file = forms.FileField(label=_("ファイル（CSV または XLSX）"))


class MigrationMappingForm(CleanTextForm):
    """One select per item: which of the file's columns holds it (or none)."""

    def __init__(self, *args, headers: list[str], initial_map: dict[str, str], **kwargs):
        from casework.services.migration import FIELDS

        super().__init__(*args, **kwargs)
        choices = [("", _("（使わない）"))] + [(h, h) for h in headers]
        self.groups: dict[str, list] = {}
        for f in FIELDS:
            self.fields[f.code] = forms.ChoiceField(
                label=f.label, choices=choices, required=f.required, initial=initial_map.get(f.code, "")
            )
            self.groups.setdefault(f.group, []).append(f.code)

    def clean(self):
        cleaned = super().clean()
        used = [v for v in cleaned.values() if v]
        duplicated = sorted({v for v in used if used.count(v) > 1})
        if duplicated:
            raise ValidationError(_("同じ列を二つの項目に対応づけています: %(cols)s") % {"cols": "、".join(duplicated)})
        return cleaned

    def column_map(self) -> dict[str, str]:
        return {code: header for code, header in self.cleaned_data.items() if header}

    def grouped(self):
        return [(group, [self[code] for code in codes]) for group, codes in self.groups.items()]


class ApiTokenForm(CleanTextForm):
    """Issue an open-API token for one organization."""

    organization = forms.ModelChoiceField(label=_("機関・団体"), queryset=Organization.objects.none())
    label = forms.CharField(label=_("用途"), max_length=100, help_text=_("例: 市の統計基盤（BI）、居場所マップ"))
    scopes = forms.MultipleChoiceField(label=_("範囲"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple)
    expires_on = WarekiDateField(label=_("有効期限"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.filter(is_active=True).order_by("kind", "name")


class DisclosureSearchForm(CleanTextForm):
    """Find the requester among the persons on record: reading and birth date, both required."""

    kana = forms.CharField(label=_("フリガナ（氏名）"), max_length=100)
    birth_date = WarekiDateField(label=_("生年月日"))


class DisclosureOpenForm(CleanTextForm):
    person = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    received_on = WarekiDateField(label=_("受付日"))
    requester = forms.ChoiceField(label=_("請求者"), choices=DisclosureRequest.Requester.choices)


class DisclosureExtendForm(CleanTextForm):
    extended_due_on = WarekiDateField(label=_("延長後の期限"))
    reason = forms.CharField(label=_("延長の理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class DisclosureDecideForm(CleanTextForm):
    decision = forms.ChoiceField(label=_("決定"), choices=DisclosureRequest.Decision.choices)
    decided_on = WarekiDateField(label=_("決定日"))
    reason = forms.CharField(
        label=_("部分開示・不開示の理由"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ContactPeriodForm(CleanTextForm):
    """The period of a printed 支援経過記録: 和暦 or 西暦, full-width digits too; by default the whole case."""

    start = WarekiDateField(label=_("期間（開始）"), required=False)
    end = WarekiDateField(label=_("期間（終了）"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise ValidationError(_("期間の終了は開始より後の日付にしてください。"))
        return data

    def period(self, *, default_start):
        """Return (start, end): the typed dates, else from default_start (the case's intake) to today."""
        data = getattr(self, "cleaned_data", None) or {}
        return data.get("start") or default_start, data.get("end") or timezone.localdate()


# Full-width ASCII typed with the IME on (ｓａｔｏ＿ｍ) becomes the half-width login id it means.
_FULL_WIDTH_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


class OrgAdminRoleMixin:
    """The role choices an organization's own administrator may request (never a city-wide role)."""

    def _limit_roles(self, roles) -> None:
        from casework.choices import Role

        self.fields["role"].choices = [("", _("選んでください"))] + [(r.value, r.label) for r in map(Role, roles)]


class OrgAccountForm(OrgAdminRoleMixin, CleanTextForm):
    """A new staff account of the organization and the role asked for it (two persons for case roles)."""

    username = forms.CharField(
        label=_("ログインID"),
        max_length=150,
        help_text=_("半角英数字（例: sato_misaki）。全角で入力しても半角になります。"),
    )
    last_name = forms.CharField(label=_("姓"), max_length=150)
    first_name = forms.CharField(label=_("名"), max_length=150, required=False)
    email = forms.EmailField(label=_("メールアドレス"), required=False)
    password1 = forms.CharField(
        label=_("初期パスワード"),
        widget=forms.PasswordInput(render_value=False),
        max_length=128,
        help_text=_("12文字以上。本人に安全な方法で伝え、最初のサインイン後に変更してもらいます。"),
    )
    password2 = forms.CharField(
        label=_("初期パスワード（確認）"), widget=forms.PasswordInput(render_value=False), max_length=128
    )
    role = forms.ChoiceField(label=_("役割"))
    title = forms.CharField(label=_("職名"), max_length=100, required=False, help_text=_("例: 主任相談支援員"))
    starts_on = WarekiDateField(
        label=_("開始日"), required=False, help_text=_("空欄なら付与と同時に有効。4月1日付の着任なら 4月1日。")
    )
    reason = forms.CharField(
        label=_("申請理由"),
        max_length=300,
        help_text=_("承認する人が確認できるよう書いてください（例: 4月1日付 着任）"),
    )

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_roles(roles)

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").translate(_FULL_WIDTH_ASCII).strip()

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("確認のパスワードが一致しません。"))
        starts_on = data.get("starts_on")
        if starts_on is not None and starts_on < timezone.localdate():
            self.add_error("starts_on", _("開始日に過去の日付は指定できません。"))
        return data


class OrgGrantForm(OrgAdminRoleMixin, CleanTextForm):
    """Ask for a role in the organization for one of its accounts."""

    user = forms.ChoiceField(label=_("職員"))
    role = forms.ChoiceField(label=_("役割"))
    title = forms.CharField(label=_("職名"), max_length=100, required=False)
    starts_on = WarekiDateField(label=_("開始日"), required=False, help_text=_("空欄なら承認と同時に有効。"))
    reason = forms.CharField(label=_("申請理由"), max_length=300)

    def __init__(self, *args, roles=(), accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_roles(roles)
        self.accounts = {str(u.pk): u for u in accounts}
        self.fields["user"].choices = [("", _("選んでください"))] + [
            (str(u.pk), f"{staff_name(u)}（{u.username}）") for u in accounts
        ]

    def clean_user(self):
        return self.accounts[self.cleaned_data["user"]]

    def clean(self):
        data = super().clean()
        starts_on = data.get("starts_on")
        if starts_on is not None and starts_on < timezone.localdate():
            self.add_error("starts_on", _("開始日に過去の日付は指定できません。"))
        return data


class OrgGrantDecideForm(CleanTextForm):
    decision = forms.ChoiceField(
        label=_("判断"), choices=[("approve", _("承認する")), ("reject", _("却下する（取り下げる）"))]
    )
    note = forms.CharField(label=_("メモ"), max_length=300, required=False)


class OrgMembershipEndForm(CleanTextForm):
    ends_on = WarekiDateField(
        label=_("終了日（この日から無効）"),
        help_text=_("例: 令和9年4月1日（4月1日付の異動なら4月1日）。今日の日付なら直ちに終了します。"),
    )
    reason = forms.CharField(label=_("終了の理由"), max_length=300, help_text=_("例: 人事異動（福祉課へ）、退職"))


class OrgMembershipEndCancelForm(CleanTextForm):
    reason = forms.CharField(label=_("取消しの理由"), max_length=300)


# ---------------------------------------------------------------------------
# 名寄せ
# ---------------------------------------------------------------------------


class PersonMatchRequestForm(CleanTextForm):
    """Link this record with a candidate, or merge one into the other; a reason is always needed."""

    KEEP_CHOICES = [("this", _("この記録を残す")), ("other", _("候補の記録を残す"))]

    other = forms.IntegerField(label=_("候補の記録"), widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    kind = forms.ChoiceField(
        label=_("名寄せの種別"),
        choices=[("link", _("同一人物として紐付け（両方の記録を残す）")), ("merge", _("統合（一方に寄せる）"))],
    )
    keep = forms.ChoiceField(label=_("統合で残す記録"), choices=KEEP_CHOICES, initial="this", required=False)
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500)


class PersonMatchReasonForm(CleanTextForm):
    """A reason for withdrawing a request or undoing a link or merge."""

    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500)


class RetentionRuleForm(CleanTextForm):
    """The city's period for one kind of record, and where it comes from; saving confirms it."""

    # A text box, so digits typed with the IME (全角) arrive and are read; a number box would drop them.
    years = forms.IntegerField(
        label=_("保存期間（年）"), min_value=1, max_value=100, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    basis = forms.CharField(
        label=_("根拠（規程・条文など）"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例: ○○市文書管理規程 別表第2 福祉相談記録 5年"),
    )
    is_active = forms.BooleanField(label=_("廃棄の対象にする"), required=False)


class LegalHoldForm(CleanTextForm):
    """Stop disposal of one case (by number) or of every record of one person (by id)."""

    case_number = CaseNumberField(label=_("ケース番号"), required=False)
    person_id = forms.IntegerField(
        label=_("本人ID"),
        required=False,
        min_value=1,
        max_value=2**53,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(label=_("理由"), max_length=300, help_text=_("例: 審査請求の対応中（令和8年第3号）"))

    def clean(self):
        data = super().clean()
        if bool(data.get("case_number")) == (data.get("person_id") is not None):
            raise ValidationError(_("ケース番号か本人IDのどちらか一方を入力してください。"))
        return data


class LegalHoldReleaseForm(CleanTextForm):
    release_reason = forms.CharField(label=_("解除の理由"), max_length=300)


class DisposalProposeForm(CleanTextForm):
    """Propose disposing of the ticked records of today's list."""

    candidates = forms.TypedMultipleChoiceField(label=_("廃棄する記録"), coerce=int, choices=())
    reason = forms.CharField(
        label=_("廃棄の理由"), max_length=300, initial=_("保存期間の満了による廃棄（文書管理規程による）")
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidates"].choices = [(c.pk, c.reference or str(c.object_id)) for c in candidates]


class DisposalDecideForm(CleanTextForm):
    action = forms.ChoiceField(choices=[("approve", _("承認して廃棄する")), ("reject", _("却下・取下げ"))])
    note = forms.CharField(label=_("メモ"), max_length=300, required=False)
