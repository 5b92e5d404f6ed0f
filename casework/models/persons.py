"""Persons, households and household members."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import japanese

# ---------------------------------------------------------------------------
# Persons and households
# ---------------------------------------------------------------------------


class Person(models.Model):
    """Someone the windows support: names as typed, furigana, and a folded key for search.

    There is deliberately no field for the 個人番号 (My Number): it must never be collected here.
    """

    class Gender(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")
        OTHER = "other", _("その他")
        UNDISCLOSED = "undisclosed", _("回答しない")

    family_name = models.CharField(_("氏"), max_length=100, blank=True)
    given_name = models.CharField(_("名"), max_length=100, blank=True)
    family_name_kana = models.CharField(_("氏（フリガナ）"), max_length=100, blank=True)
    given_name_kana = models.CharField(_("名（フリガナ）"), max_length=100, blank=True)
    alias = models.CharField(_("通称"), max_length=100, blank=True)
    preferred_name = models.CharField(_("呼ばれたい名前"), max_length=100, blank=True)
    # Anonymous intake (a neighbour's report) is normal: names may stay blank.
    is_anonymous = models.BooleanField(_("匿名・氏名不詳"), default=False)
    birth_date = models.DateField(_("生年月日"), null=True, blank=True)
    gender = models.CharField(_("性別"), max_length=20, choices=Gender.choices, blank=True)
    postal_code = models.CharField(_("郵便番号"), max_length=8, blank=True)
    prefecture = models.CharField(_("都道府県"), max_length=10, blank=True)
    city = models.CharField(_("市区町村"), max_length=100, blank=True)
    street = models.CharField(_("町名番地"), max_length=200, blank=True)
    building = models.CharField(_("建物名・部屋番号"), max_length=200, blank=True)
    phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    phone_alt = models.CharField(_("電話番号（その他）"), max_length=30, blank=True)
    # 住所秘匿 (e.g. DV victims): the address is shown only to the lead organization of a case.
    address_secret = models.BooleanField(_("住所秘匿"), default=False)
    search_key = models.CharField(_("検索キー"), max_length=600, blank=True, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("本人・世帯員")
        verbose_name_plural = _("本人・世帯員")
        indexes = [
            # Serves the intake's duplicate check: same folded kana and birth date.
            models.Index(fields=["birth_date"], name="person_birth_date_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs):
        self.family_name_kana = japanese.to_katakana_reading(self.family_name_kana)
        self.given_name_kana = japanese.to_katakana_reading(self.given_name_kana)
        self.search_key = self.compute_search_key()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_key", "family_name_kana", "given_name_kana"}
        super().save(*args, **kwargs)

    def compute_search_key(self) -> str:
        """Return the folded key over every way of writing the name, space-separated parts."""
        parts = [
            self.family_name + self.given_name,
            self.family_name_kana + self.given_name_kana,
            self.alias,
            self.preferred_name,
        ]
        return " ".join(japanese.search_key(p) for p in parts if p)[:600]

    @property
    def kana_key(self) -> str:
        """Return the folded full reading, used to find possible duplicates."""
        return japanese.search_key(self.family_name_kana + self.given_name_kana)

    @property
    def full_name(self) -> str:
        return f"{self.family_name}\u3000{self.given_name}".strip("\u3000")

    @property
    def full_kana(self) -> str:
        return f"{self.family_name_kana}\u3000{self.given_name_kana}".strip("\u3000")

    @property
    def display_name(self) -> str:
        if self.full_name:
            return self.full_name
        if self.alias:
            return self.alias
        return str(_("氏名不詳（ID %(id)s）") % {"id": self.pk or "-"})

    @property
    def age(self) -> int | None:
        if self.birth_date is None:
            return None
        today = timezone.localdate()
        return japanese.age_on(self.birth_date, today) if self.birth_date <= today else None

    @property
    def age_band(self) -> str:
        age = self.age
        return japanese.age_band(age) if age is not None else ""

    @property
    def address(self) -> str:
        return " ".join(
            p
            for p in [
                self.postal_code and f"〒{self.postal_code}",
                self.prefecture + self.city + self.street,
                self.building,
            ]
            if p
        )


class Household(models.Model):
    """A household seen as a whole, with tags naming its combined difficulties."""

    class Tag(models.TextChoices):
        T8050 = "8050", _("8050")
        DOUBLE_CARE = "double_care", _("ダブルケア")
        YOUNG_CARER = "young_carer", _("ヤングケアラー")
        ELDER_DISABLED = "elder_disabled_care", _("老障介護")
        HIKIKOMORI = "hikikomori", _("ひきこもり")
        ISOLATION = "isolation", _("社会的孤立")
        SELF_NEGLECT = "self_neglect", _("セルフネグレクト・ゴミ屋敷")
        ANIMAL_HOARDING = "animal_hoarding", _("多頭飼育")
        OTHER = "other", _("その他")

    name = models.CharField(_("世帯名"), max_length=100)
    # ASCII tag codes, stored as a list, so text matching behaves the same on SQLite and PostgreSQL.
    tags = models.JSONField(_("世帯の状況"), default=list, blank=True)
    note = models.TextField(_("備考"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("世帯")
        verbose_name_plural = _("世帯")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        unknown = [t for t in self.tags or [] if t not in self.Tag.values]
        if unknown:
            raise ValidationError({"tags": _("不明な世帯の状況があります: %(t)s") % {"t": ", ".join(unknown)}})

    @property
    def tag_labels(self) -> list[str]:
        return [str(self.Tag(t).label) for t in self.tags or [] if t in self.Tag.values]


class HouseholdMember(models.Model):
    """A person's place in a household over a period; a person may belong to several households."""

    class Relationship(models.TextChoices):
        SELF = "self", _("本人")
        SPOUSE = "spouse", _("配偶者")
        PARENT = "parent", _("親")
        CHILD = "child", _("子")
        SIBLING = "sibling", _("兄弟姉妹")
        GRANDPARENT = "grandparent", _("祖父母")
        GRANDCHILD = "grandchild", _("孫")
        PARENT_IN_LAW = "parent_in_law", _("義父母")
        OTHER_RELATIVE = "other_relative", _("その他の親族")
        OTHER = "other", _("その他")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members", verbose_name=_("世帯"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("世帯員"))
    relationship = models.CharField(_("続柄"), max_length=20, choices=Relationship.choices)
    relationship_note = models.CharField(_("続柄（補足）"), max_length=100, blank=True)
    lives_together = models.BooleanField(_("同居"), default=True)
    is_key_person = models.BooleanField(_("キーパーソン"), default=False)
    since = models.DateField(_("世帯員となった日"), null=True, blank=True)
    until = models.DateField(_("世帯員でなくなった日"), null=True, blank=True)

    class Meta:
        verbose_name = _("世帯員")
        verbose_name_plural = _("世帯員")
        ordering = ["household", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "person"],
                condition=models.Q(until__isnull=True),
                name="household_member_current_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} / {self.person} ({self.get_relationship_display()})"

    @property
    def relationship_label(self) -> str:
        label = str(self.get_relationship_display())
        return f"{label}（{self.relationship_note}）" if self.relationship_note else label
