"""Referrals in three directions: between agencies, to places (参加支援) and from places (つなぎ)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition
from guardian.models import GroupObjectPermissionBase

# How long a place keeps seeing a 参加支援 card after the referral ended.
PLACE_ACCESS_DAYS = 30


class ReferralKind(models.TextChoices):
    """The three directions a referral can go."""

    INTER_AGENCY = "inter_agency", _("機関間")
    PARTICIPATION = "participation", _("参加支援")
    TSUNAGI = "tsunagi", _("つなぎ")


class ReferralState(models.TextChoices):
    """The referral workflow (HL7 FHIR Task vocabulary plus 差戻し)."""

    DRAFT = "draft", _("下書き")
    REQUESTED = "requested", _("依頼中")
    ACCEPTED = "accepted", _("受諾")
    REJECTED = "rejected", _("辞退")
    RETURNED = "returned", _("差戻し")
    CANCELLED = "cancelled", _("取下げ")
    IN_PROGRESS = "in_progress", _("対応中")
    ON_HOLD = "on_hold", _("保留")
    COMPLETED = "completed", _("完了")
    FAILED = "failed", _("不成立")


# FHIR R4 Task.status codes (SDOH Clinical Care IG referral workflow). 差戻し has no FHIR status of
# its own: it is exported as "on-hold" with businessStatus "returned", because the task waits on
# the requester, which is what on-hold means there.
FHIR_STATUS = {
    ReferralState.DRAFT: "draft",
    ReferralState.REQUESTED: "requested",
    ReferralState.ACCEPTED: "accepted",
    ReferralState.REJECTED: "rejected",
    ReferralState.RETURNED: "on-hold",
    ReferralState.CANCELLED: "cancelled",
    ReferralState.IN_PROGRESS: "in-progress",
    ReferralState.ON_HOLD: "on-hold",
    ReferralState.COMPLETED: "completed",
    ReferralState.FAILED: "failed",
}
ENDED_STATES = {ReferralState.REJECTED, ReferralState.CANCELLED, ReferralState.COMPLETED, ReferralState.FAILED}
ACTIVE_STATES = {ReferralState.ACCEPTED, ReferralState.IN_PROGRESS, ReferralState.ON_HOLD}


class LegalBasis(models.TextChoices):
    """Why the card may go to the receiver, recorded at send time."""

    CONSENT = "consent", _("本人同意")
    SUPPORT_MEETING = "support_meeting", _("支援会議の決定（法第106条の6）")
    # つなぎ: a place passes on a few words about someone, with their knowledge or to protect them.
    PERSON_AGREED = "person_agreed", _("本人の了解（つなぎ）")
    VITAL_INTEREST = "vital_interest", _("生命・身体の保護のため（個人情報保護法第27条第1項第2号）")


class ParticipationStage(models.TextChoices):
    """参加支援 stages inside in_progress."""

    VISIT = "visit", _("見学")
    TRIAL = "trial", _("体験")
    REGULAR = "regular", _("定着")


class Referral(models.Model):
    """One referral with its need-to-know card: the receiver sees the card, never the case."""

    kind = models.CharField(_("種別"), max_length=20, choices=ReferralKind.choices)
    state = FSMField(_("状態"), max_length=20, choices=ReferralState.choices, default=ReferralState.DRAFT)
    # Optimistic concurrency: every move bumps it; a form based on an older version is refused.
    version = models.PositiveIntegerField(_("版"), default=1)
    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("ケース"),
    )
    person = models.ForeignKey(
        "casework.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("本人"),
    )
    sender_organization = models.ForeignKey(
        "casework.Organization", on_delete=models.PROTECT, related_name="sent_referrals", verbose_name=_("紹介元")
    )
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("紹介元の担当者")
    )
    receiver_organization = models.ForeignKey(
        "casework.Organization",
        on_delete=models.PROTECT,
        related_name="received_referrals",
        verbose_name=_("紹介先"),
    )
    place = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("居場所"),
    )
    request_text = models.TextField(_("依頼内容"))
    due_on = models.DateField(_("回答期限"), null=True, blank=True)
    # Recorded at send time: the consent that allowed it, or the legal basis with its reference.
    consent = models.ForeignKey(
        "casework.Consent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("同意"),
    )
    legal_basis = models.CharField(_("提供の根拠"), max_length=20, choices=LegalBasis.choices, blank=True)
    legal_basis_ref = models.CharField(_("根拠の参照（会議名・日付など）"), max_length=200, blank=True)
    legal_basis_note = models.CharField(_("根拠の説明"), max_length=500, blank=True)
    # The need-to-know card: a snapshot chosen by the sender; the receiver's screens show only this.
    card_name = models.CharField(_("氏名（機関間のみ）"), max_length=200, blank=True)
    card_preferred_name = models.CharField(_("呼び名"), max_length=100, blank=True)
    card_age_band = models.CharField(_("年代"), max_length=20, blank=True)
    card_wishes = models.TextField(_("本人のやりたいこと・希望"), blank=True)
    card_accommodations = models.TextField(_("配慮してほしいこと"), blank=True)
    card_schedule = models.CharField(_("参加しやすい日時"), max_length=200, blank=True)
    card_contact = models.CharField(_("担当者の連絡先"), max_length=200, blank=True)
    outcome = models.TextField(_("結果"), blank=True)
    linked_case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tsunagi_referrals",
        verbose_name=_("開始したケース"),
    )
    # True when accepting put the receiver on the case team, so ending it takes exactly that away.
    team_added = models.BooleanField(_("受諾でケースチームに参加"), default=False)
    held_from = models.CharField(_("保留前の状態"), max_length=20, blank=True)
    stage = models.CharField(_("段階"), max_length=20, choices=ParticipationStage.choices, blank=True)
    place_access_until = models.DateTimeField(_("居場所の閲覧期限"), null=True, blank=True)
    sent_at = models.DateTimeField(_("送付日時"), null=True, blank=True)
    responded_at = models.DateTimeField(_("回答日時"), null=True, blank=True)
    ended_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("紹介・つなぎ")
        verbose_name_plural = _("紹介・つなぎ")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="participation") | models.Q(place__isnull=False),
                name="referral_participation_has_place",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="tsunagi") | models.Q(case__isnull=False, person__isnull=False),
                name="referral_case_and_person_unless_tsunagi",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="completed") | ~models.Q(outcome=""),
                name="referral_completed_has_outcome",
            ),
            models.CheckConstraint(
                condition=~models.Q(sender_organization=models.F("receiver_organization")),
                name="referral_not_to_itself",
            ),
        ]
        indexes = [
            # Inbox and outbox: one organization's referrals by state.
            models.Index(fields=["receiver_organization", "state"], name="referral_inbox_idx"),
            models.Index(fields=["sender_organization", "state"], name="referral_outbox_idx"),
            # Overdue: requested referrals past their due date.
            models.Index(fields=["state", "due_on"], name="referral_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("referrals:detail", args=[self.pk])

    # Transitions only change state; the services check sides and reasons and write the log.
    @transition(field=state, source=ReferralState.DRAFT, target=ReferralState.REQUESTED)
    def send(self):
        """下書き → 依頼中 (送付)."""

    @transition(field=state, source=ReferralState.RETURNED, target=ReferralState.REQUESTED)
    def resend(self):
        """差戻し → 依頼中 (再送付)."""

    @transition(field=state, source=ReferralState.REQUESTED, target=ReferralState.ACCEPTED)
    def accept(self):
        """依頼中 → 受諾."""

    @transition(field=state, source=ReferralState.REQUESTED, target=ReferralState.REJECTED)
    def reject(self):
        """依頼中 → 辞退."""

    @transition(field=state, source=ReferralState.REQUESTED, target=ReferralState.RETURNED)
    def return_for_information(self):
        """依頼中 → 差戻し."""

    @transition(
        field=state,
        source=[
            ReferralState.DRAFT,
            ReferralState.REQUESTED,
            ReferralState.RETURNED,
            ReferralState.ACCEPTED,
            ReferralState.IN_PROGRESS,
            ReferralState.ON_HOLD,
        ],
        target=ReferralState.CANCELLED,
    )
    def cancel(self):
        """取下げ."""

    @transition(field=state, source=ReferralState.ACCEPTED, target=ReferralState.IN_PROGRESS)
    def start(self):
        """受諾 → 対応中."""

    @transition(field=state, source=[ReferralState.ACCEPTED, ReferralState.IN_PROGRESS], target=ReferralState.ON_HOLD)
    def hold(self):
        """受諾・対応中 → 保留 (remembers where it was)."""
        self.held_from = self.state

    @transition(
        field=state,
        source=ReferralState.ON_HOLD,
        target=RETURN_VALUE(ReferralState.ACCEPTED, ReferralState.IN_PROGRESS),
    )
    def resume(self):
        """保留 → the state it was held from."""
        target = self.held_from or ReferralState.ACCEPTED
        self.held_from = ""
        return target

    @transition(field=state, source=ReferralState.IN_PROGRESS, target=ReferralState.COMPLETED)
    def complete(self):
        """対応中 → 完了."""

    @transition(field=state, source=[ReferralState.ACCEPTED, ReferralState.IN_PROGRESS], target=ReferralState.FAILED)
    def fail(self):
        """受諾・対応中 → 不成立."""

    @property
    def fhir_status(self) -> str:
        return FHIR_STATUS[self.state]

    @property
    def fhir_business_status(self) -> str:
        return "returned" if self.state == ReferralState.RETURNED else ""

    @property
    def is_overdue(self) -> bool:
        return self.state == ReferralState.REQUESTED and self.due_on is not None and self.due_on < timezone.localdate()

    @property
    def is_ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def label(self) -> str:
        """Return how screens name the person: the card's preferred name, else the number."""
        return self.card_preferred_name or self.card_name or str(_("紹介 #%(id)s") % {"id": self.pk})

    @property
    def participant_ref(self) -> str:
        """Return the opaque reference the places app keeps attendance under."""
        return f"referral:{self.pk}"


class ReferralTransition(models.Model):
    """One move of a referral: who, when, from which side and why (the timeline)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(_("変更前"), max_length=20, choices=ReferralState.choices)
    to_state = models.CharField(_("変更後"), max_length=20, choices=ReferralState.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("実施者")
    )
    organization = models.ForeignKey(
        "casework.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("機関")
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)
    reason = models.TextField(_("理由"), blank=True)

    class Meta:
        verbose_name = _("紹介の状態変更")
        verbose_name_plural = _("紹介の状態変更")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.referral}: {self.from_state} → {self.to_state}"


class ReferralStage(models.Model):
    """One 参加支援 stage (見学・体験・定着) with its date and who went along."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="stages")
    stage = models.CharField(_("段階"), max_length=20, choices=ParticipationStage.choices)
    on = models.DateField(_("日付"))
    accompanied_by = models.CharField(_("同行者"), max_length=200, blank=True)
    note = models.CharField(_("ひとこと"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("記録者")
    )
    recorded_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("参加支援の段階")
        verbose_name_plural = _("参加支援の段階")
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.referral} {self.get_stage_display()} {self.on}"


class ReferralNote(models.Model):
    """A short feedback note from either side, shown on the referral (the loop closes)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    organization = models.ForeignKey(
        "casework.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("機関")
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("ひとこと"), max_length=500)
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("紹介のひとこと")
        verbose_name_plural = _("紹介のひとこと")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.referral} {self.at:%Y-%m-%d}"


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    """Referral grants to the sender's and receiver's organization groups (guardian, direct FK)."""

    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("紹介の権限（機関）")
        verbose_name_plural = _("紹介の権限（機関）")
        indexes = [
            # The inbox/outbox permission join: referrals granted to these groups.
            models.Index(fields=["group", "permission", "content_object"], name="referral_group_perm_idx"),
        ]
