"""名寄せ: two records of the same person, linked (both kept) or merged (one redirects to the other)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casework.models.organizations import Organization
from casework.models.persons import Person


class PersonMatch(models.Model):
    """A link or merge of two person records, from request through every lead organization's agreement to its undoing.

    A link says "the same person" and keeps both records. A merge moves every reference to
    `merged` onto `survivor`; `moved` records which rows moved ({"app.model.field": [row ids]}),
    so unmerging puts exactly those back. The row is the history: it is never deleted.
    """

    class Kind(models.TextChoices):
        LINK = "link", _("同一人物として紐付け")
        MERGE = "merge", _("統合")

    class State(models.TextChoices):
        REQUESTED = "requested", _("他機関の同意待ち")
        DONE = "done", _("実施済み")
        UNDONE = "undone", _("取消し済み")
        WITHDRAWN = "withdrawn", _("申請の取下げ")

    kind = models.CharField(_("種別"), max_length=10, choices=Kind.choices)
    state = models.CharField(_("状態"), max_length=10, choices=State.choices, default=State.REQUESTED)
    # For a merge, `survivor` keeps every reference and `merged` redirects to it; a link has no direction.
    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("残す記録"))
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("もう一方の記録"))
    reason = models.CharField(_("理由"), max_length=500)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("申請した機関")
    )
    requested_at = models.DateTimeField(_("申請日時"), auto_now_add=True)
    # The lead organizations of both records' cases when requested: each must agree.
    required_organizations = models.ManyToManyField(Organization, related_name="+", verbose_name=_("同意が必要な機関"))
    done_at = models.DateTimeField(_("実施日時"), null=True, blank=True)
    moved = models.JSONField(_("移した参照"), default=dict, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(_("取消し日時"), null=True, blank=True)
    end_reason = models.CharField(_("取消しの理由"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("名寄せ")
        verbose_name_plural = _("名寄せ")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(survivor=models.F("merged")), name="personmatch_two_records"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="personmatch_reason_required"),
            # A record is merged away at most once at a time (two merges of the same pair: one wins).
            models.UniqueConstraint(
                fields=["merged"],
                condition=models.Q(kind="merge", state__in=["requested", "done"]),
                name="personmatch_merge_once",
            ),
        ]
        indexes = [
            # The person page's 名寄せ box: matches naming either record.
            models.Index(fields=["survivor", "state"], name="personmatch_survivor_idx"),
            models.Index(fields=["merged", "state"], name="personmatch_merged_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.REQUESTED


class PersonMatchAgreement(models.Model):
    """One lead organization's agreement to a link or merge, by whom and when."""

    match = models.ForeignKey(PersonMatch, on_delete=models.CASCADE, related_name="agreements")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agreed_at = models.DateTimeField(_("同意日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("名寄せへの同意")
        verbose_name_plural = _("名寄せへの同意")
        constraints = [
            models.UniqueConstraint(fields=["match", "organization"], name="personmatchagreement_once"),
        ]

    def __str__(self) -> str:
        return f"{self.match} / {self.organization}"
