"""Case conferences: 支援会議 and 重層的支援会議, their agendas, decisions and action items."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from guardian.models import GroupObjectPermissionBase

from casework.models import Case, Organization, SupportPlan


class MeetingKind(models.TextChoices):
    """The two kinds of case conference, with different legal rules."""

    SUPPORT_MEETING = "support_meeting", _("支援会議（法第106条の6）")
    LAYERED_MEETING = "layered_meeting", _("重層的支援会議")


class MeetingStatus(models.TextChoices):
    """予定 → 開催中 → 終了 → 議事録確定 (or 予定 → 中止)."""

    SCHEDULED = "scheduled", _("予定")
    IN_SESSION = "in_session", _("開催中")
    CONCLUDED = "concluded", _("終了")
    MINUTES_LOCKED = "minutes_locked", _("議事録確定")
    CANCELLED = "cancelled", _("中止")


class Meeting(models.Model):
    """One case conference: who convenes and chairs it, when and where, and how far it has got."""

    kind = models.CharField(_("会議の種類"), max_length=20, choices=MeetingKind.choices)
    title = models.CharField(_("会議名"), max_length=200)
    starts_at = models.DateTimeField(_("開始日時"))
    place = models.CharField(_("会場"), max_length=200, blank=True)
    online_url = models.URLField(_("オンライン会議のURL"), blank=True)
    convened_by = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="convened_meetings", verbose_name=_("招集機関")
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chaired_meetings", verbose_name=_("議長")
    )
    secretary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings_as_secretary",
        verbose_name=_("書記"),
    )
    status = FSMField(_("状態"), max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    # Bumped by every service that changes the meeting; clients re-fetch when it moves on.
    version = models.PositiveIntegerField(_("版"), default=1)
    current_item = models.ForeignKey(
        "AgendaItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("現在の議題")
    )
    minutes_approved_at = models.DateTimeField(_("議事録の承認日時"), null=True, blank=True)
    minutes_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_reason = models.CharField(_("中止の理由"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("会議")
        verbose_name_plural = _("会議")
        ordering = ["-starts_at", "-id"]
        indexes = [
            # The list and the home panel: upcoming meetings in date order.
            models.Index(fields=["starts_at"], name="meeting_starts_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}）"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("meetings:detail", args=[self.pk])

    # Transitions only change state; services check who may do them and bump the version.
    @transition(field=status, source=MeetingStatus.SCHEDULED, target=MeetingStatus.IN_SESSION)
    def start(self):
        """予定 → 開催中."""

    @transition(
        field=status, source=[MeetingStatus.SCHEDULED, MeetingStatus.IN_SESSION], target=MeetingStatus.CONCLUDED
    )
    def conclude(self):
        """予定・開催中 → 終了."""

    @transition(field=status, source=MeetingStatus.SCHEDULED, target=MeetingStatus.CANCELLED)
    def cancel(self):
        """予定 → 中止."""

    @transition(field=status, source=MeetingStatus.CONCLUDED, target=MeetingStatus.MINUTES_LOCKED)
    def lock_minutes(self):
        """終了 → 議事録確定 (nothing changes afterwards)."""

    @property
    def is_support_meeting(self) -> bool:
        return self.kind == MeetingKind.SUPPORT_MEETING

    @property
    def is_locked(self) -> bool:
        return self.status == MeetingStatus.MINUTES_LOCKED

    @property
    def meeting_date(self):
        return timezone.localdate(self.starts_at)

    @property
    def decided_by_label(self) -> str:
        """Return how a case's history names this meeting as the deciding body."""
        return f"{self.get_kind_display()}「{self.title}」{self.meeting_date:%Y-%m-%d}"

    @property
    def decided_by_ref(self) -> str:
        return f"meeting:{self.pk}"


class MeetingParticipant(models.Model):
    """A user taking part in a meeting for an organization, with their 守秘義務 pledge."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="meeting_participations",
        verbose_name=_("参加者"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("所属機関")
    )
    # 守秘義務の誓約: required for a 支援会議 before the participant opens anything of it.
    pledge_signed_on = models.DateField(_("守秘義務の誓約日"), null=True, blank=True)
    pledge_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(_("追加日時"), default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    removed_at = models.DateTimeField(_("除外日時"), null=True, blank=True)
    # Recorded by the chair or secretary at the meeting: the minutes list who attended, not who was invited.
    attended = models.BooleanField(_("出席"), default=False)

    class Meta:
        verbose_name = _("会議の参加者")
        verbose_name_plural = _("会議の参加者")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"],
                condition=models.Q(removed_at__isnull=True),
                name="meeting_participant_active",
            ),
        ]
        indexes = [
            # "Is this user an active participant?" on every request and every WebSocket message.
            models.Index(fields=["user", "meeting", "removed_at"], name="meeting_participant_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} / {self.user}"

    @property
    def has_pledge(self) -> bool:
        return self.pledge_signed_on is not None


class AgendaPurpose(models.TextChoices):
    """Why a case is on the agenda."""

    PLAN_AGREEMENT = "plan_agreement", _("プラン協議・承認")
    PROGRESS_REVIEW = "progress_review", _("経過評価")
    CLOSURE_DECISION = "closure_decision", _("終結・中断の判断")
    INFORMATION_SHARING = "information_sharing", _("情報共有")
    RESOURCE_DEVELOPMENT = "resource_development", _("資源開発")


class AgendaItem(models.Model):
    """One case on the agenda, with its purpose, the summary prepared for the meeting and the notes."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="meeting_items", verbose_name=_("ケース"))
    purpose = models.CharField(_("目的"), max_length=30, choices=AgendaPurpose.choices)
    order = models.PositiveIntegerField(_("順番"), default=0)
    # What the meeting is shown about the case: prepared for the meeting, not the whole case file.
    summary = models.TextField(_("会議用の概要"), blank=True)
    notes = models.TextField(_("記録"), blank=True)
    # Optimistic concurrency for the notes: an edit based on an older version is refused.
    version = models.PositiveIntegerField(_("版"), default=1)
    # The consents that let a 重層的支援会議 take the case (ids, checked again on every open).
    consent_ids = models.JSONField(_("根拠となる同意"), default=list, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(_("追加日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("議題")
        verbose_name_plural = _("議題")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "case", "purpose"], name="agenda_item_unique_purpose"),
        ]
        indexes = [
            # The case panel: a case's meeting history.
            models.Index(fields=["case", "meeting"], name="agenda_item_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} / {self.case} ({self.get_purpose_display()})"


class CaseProposal(models.Model):
    """A case put forward for a case conference by its lead (or a team organization with access).

    The chair builds the agenda from these (and from proposed plans and reviews due), never from a
    typed case number, so a case reaches a meeting only when an organization that holds it asks.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", _("提案中")
        TAKEN = "taken", _("議題に採用")
        WITHDRAWN = "withdrawn", _("取り下げ")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="meeting_proposals", verbose_name=_("ケース"))
    kind = models.CharField(_("会議の種類"), max_length=20, choices=MeetingKind.choices)
    purpose = models.CharField(_("目的"), max_length=30, choices=AgendaPurpose.choices)
    # Shown to the chair in the queue: what to discuss, without names or diagnoses.
    reason = models.TextField(_("提案の理由"), max_length=1000, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("提案機関")
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("提案日時"), default=timezone.now)
    state = models.CharField(_("状態"), max_length=10, choices=State.choices, default=State.PROPOSED)
    item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("議題")
    )
    closed_at = models.DateTimeField(_("採用・取り下げ日時"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("会議への提案")
        verbose_name_plural = _("会議への提案")
        ordering = ["proposed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(state="proposed"),
                name="case_proposal_one_open_per_kind",
            ),
        ]
        indexes = [
            # The chair's queue: open proposals of one kind.
            models.Index(fields=["state", "kind"], name="case_proposal_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} ({self.get_kind_display()}・{self.get_state_display()})"


class Decision(models.Model):
    """What the meeting decided on an item, and what that changed in casework."""

    class Kind(models.TextChoices):
        APPROVE_PLAN = "approve_plan", _("プランの承認")
        NEXT_REVIEW = "next_review", _("次回見直し日")
        ACTION = "action", _("役割分担・対応")
        CLOSE = "close", _("終結")
        SUSPEND = "suspend", _("中断")
        OTHER = "other", _("その他")

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(_("決定の種類"), max_length=20, choices=Kind.choices)
    text = models.TextField(_("内容"), blank=True)
    plan = models.ForeignKey(
        SupportPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("プラン")
    )
    next_review_on = models.DateField(_("次回見直し日"), null=True, blank=True)
    # What the decision changed elsewhere, e.g. "case_transition:12" or "plan:3".
    result_ref = models.CharField(_("反映先"), max_length=60, blank=True)
    result_note = models.CharField(_("反映の結果"), max_length=300, blank=True)
    decided_at = models.DateTimeField(_("決定日時"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("決定事項")
        verbose_name_plural = _("決定事項")
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.item}: {self.get_kind_display()}"


class ActionItem(models.Model):
    """A task the meeting gave an organization or person, shown on the case until done."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="actions")
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, null=True, blank=True, related_name="actions")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("担当機関")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("担当者"),
    )
    assignee_name = models.CharField(_("担当者（氏名）"), max_length=100, blank=True)
    text = models.TextField(_("内容"))
    due_on = models.DateField(_("期限"), null=True, blank=True)
    done = models.BooleanField(_("完了"), default=False)
    # Who marked it done, when and how; cleared on reopening (the events keep the history).
    done_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("完了を記録した人"),
    )
    done_note = models.CharField(_("完了メモ"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("対応事項")
        verbose_name_plural = _("対応事項")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done=True, done_at__isnull=False) | models.Q(done=False, done_at__isnull=True),
                name="action_item_done_has_time",
            ),
        ]
        indexes = [
            # The home panel: an organization's open action items by due date.
            models.Index(fields=["organization", "done", "due_on"], name="action_item_org_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.text[:30]}"

    def mark_done(self, *, by, note: str = "", at=None) -> None:
        """未完了 → 完了 (the service checks who may and records the event)."""
        self.done = True
        self.done_at = at or timezone.now()
        self.done_by = by
        self.done_note = note

    def reopen(self) -> None:
        """完了 → 未完了."""
        self.done = False
        self.done_at = None
        self.done_by = None
        self.done_note = ""

    def is_overdue(self, today=None) -> bool:
        """Whether the due date has passed and the action is not done."""
        if self.done or self.due_on is None:
            return False
        return self.due_on < (today or timezone.localdate())

    @property
    def overdue(self) -> bool:
        return self.is_overdue()


class ActionItemEvent(models.Model):
    """One completion or reopening of an action item: the history behind its current state."""

    class Kind(models.TextChoices):
        DONE = "done", _("完了")
        REOPENED = "reopened", _("再開")

    action = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("種類"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("メモ"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("記録した機関")
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("対応事項の記録")
        verbose_name_plural = _("対応事項の記録")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action_id}: {self.get_kind_display()}"


class MeetingPresence(models.Model):
    """One open WebSocket of a participant; a table so every server process sees who is connected."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="presence")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(default=timezone.now)
    # Pings refresh it; rows left by a crashed process stop counting once it is old.
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("接続中の参加者")
        verbose_name_plural = _("接続中の参加者")
        indexes = [models.Index(fields=["meeting", "last_seen"], name="meeting_presence_idx")]

    def __str__(self) -> str:
        return f"{self.meeting_id} / {self.user_id}"


class MeetingGroupObjectPermission(GroupObjectPermissionBase):
    """Meeting grants to participants' organization groups (guardian, direct foreign key)."""

    content_object = models.ForeignKey(Meeting, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("会議の権限（機関）")
        verbose_name_plural = _("会議の権限（機関）")
