"""決裁: a request for a supervisor's approval of a closure, a suspension or a plan, and its decision."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from casework.models.cases import Case
from casework.models.organizations import Organization
from casework.models.records import SupportPlan


class ApprovalKind(models.TextChoices):
    """What a request asks the supervisor to approve."""

    CLOSURE = "closure", _("終結")
    SUSPENSION = "suspension", _("中断")
    PLAN = "plan", _("支援プランの承認")


class ApprovalState(models.TextChoices):
    """決裁待ち → 承認 (the change applied) or 差戻し (nothing changed, the requester is told why)."""

    PENDING = "pending", _("決裁待ち")
    APPROVED = "approved", _("承認")
    RETURNED = "returned", _("差戻し")


class ApprovalRequest(models.Model):
    """One 決裁: what exactly was asked, by whom and when, and who decided what, with their comment.

    The change takes effect only when a supervisor of the case's lead organization approves, in the
    transaction of the approval; until then the case, its plan and its open things are untouched.
    The request keeps exactly what is asked (the reason, the meeting label, the target state and the
    closure choice for each open thing) so the approval applies that and nothing else.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="approval_requests", verbose_name=_("ケース"))
    # The lead organization at the time of the request (kept for the record); the supervisors of the lead
    # organization at the time of the decision decide.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("主担当機関")
    )
    kind = models.CharField(_("決裁の種類"), max_length=20, choices=ApprovalKind.choices)
    plan = models.ForeignKey(
        SupportPlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_requests",
        verbose_name=_("支援プラン"),
    )
    # What exactly is asked: the reason and the meeting (if any) as typed; for a closure or suspension the
    # target state and the choice for each open thing (payload), applied as they are on approval.
    reason = models.TextField(_("理由"), blank=True)
    decided_by_label = models.CharField(_("決定した会議など"), max_length=200, blank=True)
    payload = models.JSONField(_("申請内容"), default=dict, blank=True)
    state = FSMField(_("状態"), max_length=20, choices=ApprovalState.choices, default=ApprovalState.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申請者")
    )
    requested_at = models.DateTimeField(_("申請日時"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("決裁者"),
    )
    decided_at = models.DateTimeField(_("決裁日時"), null=True, blank=True)
    comment = models.TextField(_("決裁者のコメント"), blank=True)

    class Meta:
        verbose_name = _("決裁")
        verbose_name_plural = _("決裁")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # Two persons: whoever approved or sent back is never the one who asked.
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("requested_by")),
                name="approval_not_self_decided",
            ),
            models.CheckConstraint(
                condition=models.Q(state="pending") | models.Q(decided_by__isnull=False),
                name="approval_decided_has_decider",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="returned") | ~models.Q(comment=""), name="approval_return_has_comment"
            ),
            # One pending closure or suspension per case, one pending approval per plan.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state="pending", kind__in=["closure", "suspension"]),
                name="approval_one_pending_closing",
            ),
            models.UniqueConstraint(
                fields=["plan"], condition=models.Q(state="pending", kind="plan"), name="approval_one_pending_plan"
            ),
        ]
        indexes = [
            # A supervisor's やること and 決裁 list: the pending requests, oldest first (joined to their case's lead).
            models.Index(fields=["state", "requested_at"], name="approval_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_kind_display()}（{self.get_state_display()}）"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("casework:approval_detail", args=[self.case_id, self.pk])

    # Transitions only change state; casework.services.approvals checks who and applies the change.
    @transition(field=state, source=ApprovalState.PENDING, target=ApprovalState.APPROVED)
    def approve(self):
        """決裁待ち → 承認."""

    @transition(field=state, source=ApprovalState.PENDING, target=ApprovalState.RETURNED)
    def send_back(self):
        """決裁待ち → 差戻し."""

    @property
    def is_pending(self) -> bool:
        return self.state == ApprovalState.PENDING

    @property
    def to_state(self) -> str:
        return self.payload.get("to_state", "")
