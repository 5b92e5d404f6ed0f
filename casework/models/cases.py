"""Cases: numbers, subjects, domains, the team, transitions, lead changes, object permissions and break-glass."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from casework.choices import Domain
from casework.models.organizations import Organization
from casework.models.persons import Household, Person

# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


class CaseState(models.TextChoices):
    """The case flow: 受付 → アセスメント → プラン作成 → 支援中 → 終結 / 中断."""

    INTAKE = "intake", _("受付")
    ASSESSMENT = "assessment", _("アセスメント")
    PLANNING = "planning", _("プラン作成")
    IN_SUPPORT = "in_support", _("支援中")
    CLOSED = "closed", _("終結")
    SUSPENDED = "suspended", _("中断")


class ConsultationCategory(models.TextChoices):
    """相談内容."""

    CARE = "care", _("介護")
    DISABILITY_SERVICES = "disability_services", _("障害福祉サービス")
    CHILDCARE = "childcare", _("子育て")
    LIVELIHOOD = "livelihood", _("生活費・家計")
    EMPLOYMENT = "employment", _("就労")
    HOUSING = "housing", _("住まい")
    HEALTH = "health", _("健康・医療")
    HIKIKOMORI = "hikikomori", _("ひきこもり")
    ABUSE = "abuse", _("虐待・DV")
    DEBT = "debt", _("債務")
    ISOLATION = "isolation", _("孤立")
    OTHER = "other", _("その他")


class IntakeRoute(models.TextChoices):
    """相談経路."""

    SELF = "self", _("本人")
    FAMILY = "family", _("家族")
    NEIGHBOUR = "neighbour", _("近隣・知人")
    AGENCY = "agency", _("関係機関")
    PLACE = "place", _("居場所")
    OUTREACH = "outreach", _("アウトリーチ")
    OTHER = "other", _("その他")


class CaseNumberSequence(models.Model):
    """The last case number handed out in one 年度; its row lock serialises allocation."""

    fiscal_year = models.PositiveIntegerField(_("年度"), primary_key=True)
    last = models.PositiveIntegerField(_("最終番号"), default=0)

    class Meta:
        verbose_name = _("ケース番号の採番")
        verbose_name_plural = _("ケース番号の採番")

    def __str__(self) -> str:
        return f"{self.fiscal_year}: {self.last}"


class Case(models.Model):
    """One consultation around a household, crossing domains, moved through the case flow."""

    number = models.CharField(_("ケース番号"), max_length=20, unique=True, editable=False)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="cases", verbose_name=_("世帯"))
    subjects = models.ManyToManyField(Person, through="CaseSubject", related_name="cases", verbose_name=_("対象者"))
    # 相談内容: a list of ConsultationCategory codes, one of them the main one.
    categories = models.JSONField(_("相談内容"), default=list, blank=True)
    main_category = models.CharField(_("主な相談内容"), max_length=30, choices=ConsultationCategory.choices)
    intake_route = models.CharField(_("相談経路"), max_length=20, choices=IntakeRoute.choices)
    lead_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="led_cases", verbose_name=_("主担当機関")
    )
    lead_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_cases",
        verbose_name=_("主担当者"),
    )
    summary = models.TextField(_("主訴"), blank=True)
    opened_on = models.DateField(_("受付日"))
    closed_on = models.DateField(_("終結・中断日"), null=True, blank=True)
    state = FSMField(_("状態"), max_length=20, choices=CaseState.choices, default=CaseState.INTAKE)
    # Optimistic concurrency: every change bumps it; a form based on an older version is refused.
    version = models.PositiveIntegerField(_("版"), default=1)
    # Copied from the approved plan so the list can filter "review due" without a join.
    next_review_on = models.DateField(_("次回見直し日"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("ケース")
        verbose_name_plural = _("ケース")
        ordering = ["-opened_on", "-id"]
        indexes = [
            # The case list filtered by state, newest first.
            models.Index(fields=["state", "-opened_on"], name="case_state_opened_idx"),
            # "Reviews due" on the home page and the list filter.
            models.Index(fields=["next_review_on"], name="case_next_review_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("casework:case_detail", args=[self.pk])

    # Transitions only change state; the service writes the log and checks reasons.
    @transition(field=state, source=CaseState.INTAKE, target=CaseState.ASSESSMENT)
    def start_assessment(self):
        """受付 → アセスメント."""

    @transition(field=state, source=CaseState.ASSESSMENT, target=CaseState.PLANNING)
    def start_planning(self):
        """アセスメント → プラン作成."""

    @transition(field=state, source=CaseState.PLANNING, target=CaseState.IN_SUPPORT)
    def start_support(self):
        """プラン作成 → 支援中."""

    @transition(field=state, source=CaseState.IN_SUPPORT, target=CaseState.PLANNING)
    def revise_plan(self):
        """支援中 → プラン作成 (plan revision)."""

    @transition(field=state, source=CaseState.IN_SUPPORT, target=CaseState.CLOSED)
    def close(self):
        """支援中 → 終結."""

    @transition(
        field=state,
        source=[CaseState.INTAKE, CaseState.ASSESSMENT, CaseState.PLANNING, CaseState.IN_SUPPORT],
        target=CaseState.SUSPENDED,
    )
    def suspend(self):
        """Any open state → 中断."""

    @transition(field=state, source=[CaseState.CLOSED, CaseState.SUSPENDED], target=CaseState.ASSESSMENT)
    def reopen(self):
        """終結・中断 → アセスメント (reopen)."""

    @property
    def domains(self) -> list[str]:
        """Return the case's Domain codes (uses prefetched rows when present)."""
        return sorted(row.domain for row in self.domain_rows.all())

    @property
    def domain_labels(self) -> list[str]:
        return [str(Domain(code).label) for code in self.domains if code in Domain.values]

    @property
    def category_labels(self) -> list[str]:
        return [str(ConsultationCategory(c).label) for c in self.categories or [] if c in ConsultationCategory.values]

    @property
    def is_open(self) -> bool:
        return self.state not in {CaseState.CLOSED, CaseState.SUSPENDED}

    def target_states(self) -> list[str]:
        """Return the states this case may move to now."""
        return [t.target for t in self.get_available_state_transitions()]


class CaseSubject(models.Model):
    """A person the case is about (the household may have others)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="subject_rows")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="case_subject_rows")

    class Meta:
        verbose_name = _("ケースの対象者")
        verbose_name_plural = _("ケースの対象者")
        constraints = [models.UniqueConstraint(fields=["case", "person"], name="case_subject_unique")]

    def __str__(self) -> str:
        return f"{self.case} / {self.person}"


class CaseDomain(models.Model):
    """One domain a case crosses: a row per domain lets every database filter by it with an index."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="domain_rows")
    domain = models.CharField(_("分野"), max_length=20, choices=Domain.choices)

    class Meta:
        verbose_name = _("ケースの分野")
        verbose_name_plural = _("ケースの分野")
        constraints = [models.UniqueConstraint(fields=["case", "domain"], name="case_domain_unique")]
        indexes = [
            # The case list's domain filter.
            models.Index(fields=["domain", "case"], name="case_domain_domain_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} / {self.get_domain_display()}"


class CaseTeamMembership(models.Model):
    """An organization on the case team over a period; the lead organization has a row too."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team_rows")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="case_team_rows", verbose_name=_("機関")
    )
    role_note = models.CharField(_("役割"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("参加日時"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(_("離脱日時"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The basis the organization was added on, checked again at every read (casework.disclosure):
    # own_org for the lead (and a former lead), consent with the consent ids, or support_meeting with
    # the decision's reference. Blank on rows written before bases were recorded.
    basis_kind = models.CharField(_("参加の根拠"), max_length=20, blank=True)  # an AccessLog.Basis value
    basis_ref = models.CharField(_("根拠の参照"), max_length=60, blank=True)
    end_reason = models.CharField(_("離脱の理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ケースチーム")
        verbose_name_plural = _("ケースチーム")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "organization"],
                condition=models.Q(ended_at__isnull=True),
                name="case_team_current_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} / {self.organization}"

    def active_on(self, day) -> bool:
        """Whether the organization was on the team on that (local) day."""
        started = timezone.localdate(self.added_at)
        ended = timezone.localdate(self.ended_at) if self.ended_at else None
        return started <= day and (ended is None or day < ended)


class CaseTransition(models.Model):
    """One move of a case through the flow: who, when, why, and what decided it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(_("変更前"), max_length=20, choices=CaseState.choices)
    to_state = models.CharField(_("変更後"), max_length=20, choices=CaseState.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("実施者")
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)
    reason = models.TextField(_("理由"), blank=True)
    # Free text and a reference ("meeting:12") so the meetings app can record itself without casework importing it.
    decided_by_label = models.CharField(_("決定した会議など"), max_length=200, blank=True)
    decided_by_ref = models.CharField(_("決定の参照"), max_length=60, blank=True)
    # The 決裁 that made this move (its requester, approver and comment); empty for moves without one.
    approval = models.ForeignKey(
        "casework.ApprovalRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transitions",
        verbose_name=_("決裁"),
    )

    class Meta:
        verbose_name = _("ケースの状態変更")
        verbose_name_plural = _("ケースの状態変更")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case}: {self.from_state} → {self.to_state}"


class CaseLeadChange(models.Model):
    """One hand-over of the case's lead (主担当) to another organization: from, to, why, who, when.

    The history is kept because access follows the lead (住所秘匿, grants) and auditors and the
    next worker must be able to see who carried the case when, and why it moved.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="lead_changes")
    from_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("変更前の主担当機関")
    )
    to_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("変更後の主担当機関")
    )
    from_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("変更前の主担当者"),
    )
    to_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("変更後の主担当者"),
    )
    reason = models.TextField(_("理由"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("実施者")
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("主担当の変更")
        verbose_name_plural = _("主担当の変更")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_organization=models.F("to_organization")),
                name="case_lead_change_moves",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="case_lead_change_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.case}: {self.from_organization} → {self.to_organization}"


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Per-user case grants (guardian, direct foreign key); organizations are preferred."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("ケース権限（利用者）")
        verbose_name_plural = _("ケース権限（利用者）")


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """Case grants to organization groups (guardian, direct foreign key)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("ケース権限（機関）")
        verbose_name_plural = _("ケース権限（機関）")
        indexes = [
            # The permission join of the case list: cases granted to these groups.
            models.Index(fields=["group", "permission", "content_object"], name="case_group_perm_idx"),
        ]


class BreakGlassAccess(models.Model):
    """An emergency, time-limited view of a case outside the user's caseload, for auditors to review."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="break_glass_accesses",
        verbose_name=_("利用者"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="break_glass_accesses", verbose_name=_("ケース")
    )
    reason = models.TextField(_("理由"))
    started_at = models.DateTimeField(_("開始日時"), default=timezone.now)
    expires_at = models.DateTimeField(_("終了日時"))
    reviewed_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("確認者"),
    )
    review_note = models.TextField(_("確認メモ"), blank=True)

    class Meta:
        verbose_name = _("緊急アクセス")
        verbose_name_plural = _("緊急アクセス")
        ordering = ["-started_at", "-id"]
        indexes = [
            # "Does this user hold an active break-glass on this case?" on every case request.
            models.Index(fields=["user", "case", "expires_at"], name="breakglass_active_idx"),
            models.Index(fields=["started_at"], name="breakglass_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.case} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def is_active(self) -> bool:
        return self.started_at <= timezone.now() < self.expires_at


class WorkerHandover(models.Model):
    """One 人事異動 hand-over: everything a leaving worker carried for an organization, moved in one step."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("機関"))
    leaving = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("異動・退職する職員")
    )
    note = models.TextField(_("引継ぎメモ"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("実施者")
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = _("担当の引継ぎ（人事異動）")
        verbose_name_plural = _("担当の引継ぎ（人事異動）")
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=~models.Q(note=""), name="worker_handover_has_note")]

    def __str__(self) -> str:
        return f"{self.organization}: {self.leaving} ({self.at:%Y-%m-%d})"


class WorkerHandoverItem(models.Model):
    """One thing moved in a hand-over (a case, referral, action item or meeting seat), from whom to whom.

    Kept on the case it belongs to, so the case's history shows who carried it and since when.
    """

    handover = models.ForeignKey(WorkerHandover, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(_("種類"), max_length=20)
    object_id = models.PositiveBigIntegerField(_("対象ID"))
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="worker_handovers", verbose_name=_("ケース")
    )
    from_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("前の担当者")
    )
    to_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("新しい担当者")
    )

    class Meta:
        verbose_name = _("引継ぎの項目")
        verbose_name_plural = _("引継ぎの項目")
        ordering = ["handover_id", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(from_worker=models.F("to_worker")), name="handover_item_moves")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} {self.from_worker_id}→{self.to_worker_id}"
