"""What the genogram and ecomap draw beyond the household table: relatives elsewhere and informal supports."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from casework.models.cases import Case
from casework.models.persons import Household, HouseholdMember, Person


class Relative(models.Model):
    """A relative outside the household (a separated child in another city, a deceased spouse) for the genogram.

    Recorded on the household, relative to its 本人 (the member whose 続柄 is 本人); not a Person,
    because they are not supported here and their data is kept to what the drawing needs.
    """

    class Partnership(models.TextChoices):
        MARRIED = "married", _("婚姻")
        SEPARATED = "separated", _("別居")
        DIVORCED = "divorced", _("離婚")
        BEREAVED = "bereaved", _("死別")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="relatives", verbose_name=_("世帯"))
    # As typed; may stay blank (「長女」 is often all that is known).
    name = models.CharField(_("氏名"), max_length=100, blank=True)
    relationship = models.CharField(
        _("続柄（本人から見て）"), max_length=20, choices=HouseholdMember.Relationship.choices
    )
    relationship_note = models.CharField(_("続柄（補足）"), max_length=100, blank=True)
    gender = models.CharField(_("性別"), max_length=20, choices=Person.Gender.choices, blank=True)
    birth_date = models.DateField(_("生年月日"), null=True, blank=True)
    age = models.PositiveSmallIntegerField(_("年齢（生年月日が不明なとき）"), null=True, blank=True)
    is_deceased = models.BooleanField(_("死亡"), default=False)
    died_on = models.DateField(_("死亡日"), null=True, blank=True)
    # Only for a spouse: how the partnership with 本人 stands.
    partnership = models.CharField(_("婚姻関係"), max_length=20, choices=Partnership.choices, blank=True)
    lives_in = models.CharField(_("居住地"), max_length=100, blank=True)
    note = models.CharField(_("備考"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("世帯外の親族")
        verbose_name_plural = _("世帯外の親族")
        ordering = ["household", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(age__isnull=True) | models.Q(age__lte=130), name="relative_age_plausible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} / {self.get_relationship_display()} {self.name}".strip()

    def clean(self):
        if self.relationship == HouseholdMember.Relationship.SELF:
            raise ValidationError({"relationship": _("本人は世帯員として登録してください。")})
        if self.partnership and self.relationship != HouseholdMember.Relationship.SPOUSE:
            raise ValidationError({"partnership": _("婚姻関係は配偶者のときだけ選べます。")})
        if self.died_on and not self.is_deceased:
            self.is_deceased = True

    @property
    def label(self) -> str:
        label = str(self.get_relationship_display())
        return f"{label}（{self.relationship_note}）" if self.relationship_note else label


class SupportTie(models.Model):
    """An informal support around the household (a neighbour, the 民生委員, a cousin) for the ecomap."""

    class Kind(models.TextChoices):
        FAMILY = "family", _("家族・親族")
        NEIGHBOUR = "neighbour", _("近隣・友人")
        COMMISSIONER = "commissioner", _("民生委員・児童委員")
        COMMUNITY = "community", _("自治会・地域活動")
        WORK_SCHOOL = "work_school", _("職場・学校")
        MEDICAL = "medical", _("医療機関")
        OTHER = "other", _("その他")

    class Strength(models.TextChoices):
        STRONG = "strong", _("強い")
        NORMAL = "normal", _("普通")
        WEAK = "weak", _("弱い")

    class Quality(models.TextChoices):
        SUPPORTIVE = "supportive", _("支え")
        STRESSFUL = "stressful", _("ストレス・葛藤")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="support_ties", verbose_name=_("ケース"))
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("種類"), max_length=20, choices=Kind.choices)
    strength = models.CharField(_("つながりの強さ"), max_length=10, choices=Strength.choices, default=Strength.NORMAL)
    quality = models.CharField(_("関係"), max_length=12, choices=Quality.choices, default=Quality.SUPPORTIVE)
    note = models.CharField(_("備考"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("インフォーマルな支え")
        verbose_name_plural = _("インフォーマルな支え")
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.case} / {self.name}"
