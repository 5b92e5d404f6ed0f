"""The casework kernel: organizations, memberships, the access log, persons, households and cases."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from casework.choices import Domain, Role
from core import japanese


class Organization(models.Model):
    """An agency, office or community-place operator taking part in layered support."""

    class Kind(models.TextChoices):
        WINDOW = "window", _("相談支援機関（相談窓口）")
        COORDINATOR = "coordinator", _("多機関協働事業者")
        MUNICIPAL = "municipal", _("市町村（福祉担当課）")
        PLACE_OPERATOR = "place_operator", _("居場所運営団体")

    name = models.CharField(_("名称"), max_length=200, unique=True)
    short_name = models.CharField(_("略称"), max_length=50, blank=True)
    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    # A window serves one or more domains; stored as a list of Domain codes.
    domains = models.JSONField(_("対応分野"), default=list, blank=True)
    phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    email = models.EmailField(_("メールアドレス"), blank=True)
    address = models.CharField(_("所在地"), max_length=300, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)
    # One Django Group per organization carries its object permissions (guardian).
    group = models.OneToOneField(Group, on_delete=models.PROTECT, editable=False, related_name="organization")
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("機関・団体")
        verbose_name_plural = _("機関・団体")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.short_name or self.name

    def save(self, *args, **kwargs):
        if self.group_id is None:
            self.group, _created = Group.objects.get_or_create(name=f"org:{self.name}")
        elif self.pk:
            # Keep the group's name in step when the organization is renamed.
            Group.objects.filter(pk=self.group_id).exclude(name=f"org:{self.name}").update(name=f"org:{self.name}")
        super().save(*args, **kwargs)

    def clean(self):
        unknown = [code for code in self.domains or [] if code not in Domain.values]
        if unknown:
            raise ValidationError({"domains": _("不明な分野があります: %(codes)s") % {"codes": ", ".join(unknown)}})
        if self.kind != self.Kind.WINDOW and self.domains:
            raise ValidationError({"domains": _("対応分野は相談支援機関にだけ設定できます。")})

    @property
    def domain_labels(self) -> list[str]:
        return [str(Domain(code).label) for code in self.domains or [] if code in Domain.values]


class Membership(models.Model):
    """A user's place in an organization, with the role that decides their screens."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("ユーザー")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("機関・団体")
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    title = models.CharField(_("職名"), max_length=100, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("所属")
        verbose_name_plural = _("所属")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
        ]
        indexes = [
            # Serves "the active memberships of this user" on every request (navigation, access).
            models.Index(fields=["user", "is_active"], name="membership_user_active_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.organization} / {self.get_role_display()}"


class MembershipGrant(models.Model):
    """A request to give a user a role in an organization, and its decision by a second administrator.

    Roles that open personal data or the administration itself take two administrators: one asks,
    another approves. Until then no Membership exists, so the request gives no access at all.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("承認待ち")
        APPROVED = "approved", _("承認済み")
        REJECTED = "rejected", _("却下・取下げ")
        APPLIED = "applied", _("即時付与（承認不要の役割）")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="membership_grants", verbose_name=_("ユーザー")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="membership_grants", verbose_name=_("機関・団体")
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    title = models.CharField(_("職名"), max_length=100, blank=True)
    reason = models.CharField(_("申請理由"), max_length=300)
    status = models.CharField(_("状態"), max_length=10, choices=Status.choices, default=Status.PENDING)
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
        verbose_name=_("承認・却下した管理者"),
    )
    decided_at = models.DateTimeField(_("承認・却下日時"), null=True, blank=True)
    decision_note = models.CharField(_("承認・却下のメモ"), max_length=300, blank=True)
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("付与された所属")
    )

    class Meta:
        verbose_name = _("権限付与の申請")
        verbose_name_plural = _("権限付与の申請")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # Two persons: an approved grant was decided by an administrator other than the requester.
            models.CheckConstraint(
                condition=~models.Q(status="approved")
                | (models.Q(decided_by__isnull=False) & ~models.Q(decided_by=models.F("requested_by"))),
                name="membershipgrant_two_persons",
            ),
            models.UniqueConstraint(
                fields=["user", "organization", "role"],
                condition=models.Q(status="pending"),
                name="membershipgrant_one_pending",
            ),
        ]
        indexes = [
            # The approval screen: pending requests, oldest first.
            models.Index(fields=["status", "requested_at"], name="membershipgrant_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.organization} / {self.get_role_display()}（{self.get_status_display()}）"


class AccessLog(models.Model):
    """One access to personal data: who, when, from where, what, whose, on what basis; no content.

    Rows are append-only (database triggers on PostgreSQL) and hash-chained per day so an
    auditor can prove that nothing was altered or removed afterwards.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("閲覧")
        LIST = "list", _("一覧")
        SEARCH = "search", _("検索")
        EXPORT = "export", _("出力")
        PRINT = "print", _("印刷")
        CREATE = "create", _("作成")
        CHANGE = "change", _("変更")
        TRANSITION = "transition", _("状態変更")
        SHARE = "share", _("共有・紹介")
        MEETING_SUBSCRIBE = "meeting_subscribe", _("会議の購読")
        GRANT_REQUEST = "grant_request", _("権限付与の申請")
        GRANT_APPROVE = "grant_approve", _("権限付与の承認")
        GRANT_REJECT = "grant_reject", _("権限付与の却下・取下げ")
        MEMBERSHIP_GRANT = "membership_grant", _("所属・役割の付与")
        MEMBERSHIP_END = "membership_end", _("所属・役割の終了")
        ACCOUNT_DEACTIVATE = "account_deactivate", _("アカウントの無効化")
        DENIED = "denied", _("拒否")

    class Basis(models.TextChoices):
        OWN_ORGANIZATION = "own_org", _("自機関・ケースチーム")
        SUPERVISION = "supervision", _("所属機関の管理")
        CONSENT = "consent", _("本人同意")
        SUPPORT_MEETING = "support_meeting", _("支援会議（法第106条の6）")
        BREAK_GLASS = "break_glass", _("緊急アクセス")
        AUDIT = "audit", _("監査")
        NONE = "none", _("なし")

    class AuthStrength(models.TextChoices):
        PASSWORD = "password", _("パスワード")
        SECOND_FACTOR = "otp", _("二要素認証")
        BREAK_GLASS = "break_glass", _("緊急アクセス")
        NONE = "none", _("未認証")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("許可")
        DENIED = "denied", _("拒否")

    at = models.DateTimeField(_("日時"), default=timezone.now)
    # The day the row's hash chain belongs to (Asia/Tokyo), and its place in that chain.
    day = models.DateField(_("チェーン日付"))
    seq = models.PositiveIntegerField(_("連番"))
    request_id = models.CharField(_("リクエストID"), max_length=36, blank=True)
    # PROTECT: accounts are deactivated, never deleted, while the log refers to them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作者")
    )
    actor_username = models.CharField(_("ログインID"), max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("所属機関")
    )
    role = models.CharField(_("役割"), max_length=20, blank=True)
    auth_strength = models.CharField(_("認証強度"), max_length=20, choices=AuthStrength.choices)
    ip = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("対象種別"), max_length=60, blank=True)
    object_id = models.CharField(_("対象ID"), max_length=40, blank=True)
    # Ids of every person whose data was shown or touched (a list page logs all of them).
    person_ids = models.JSONField(_("対象者ID"), default=list, blank=True)
    basis = models.CharField(_("根拠"), max_length=20, choices=Basis.choices, default=Basis.NONE)
    basis_ref = models.CharField(_("根拠の参照"), max_length=60, blank=True)
    reason = models.CharField(_("理由"), max_length=500, blank=True)
    outcome = models.CharField(_("結果"), max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    path = models.CharField(_("URL"), max_length=300, blank=True)
    prev_hash = models.CharField(_("直前のハッシュ"), max_length=64)
    hash = models.CharField(_("ハッシュ"), max_length=64)

    class Meta:
        verbose_name = _("アクセス記録")
        verbose_name_plural = _("アクセス記録")
        ordering = ["-at", "-id"]
        constraints = [
            # One linear chain per day: a second writer with the same position fails loudly.
            models.UniqueConstraint(fields=["day", "seq"], name="accesslog_day_seq_unique"),
        ]
        indexes = [
            # Auditor filters: by actor over a period, by object, by date.
            models.Index(fields=["actor", "at"], name="accesslog_actor_at_idx"),
            # The auditor's search by login ID over a period (audit_selectors.filter_log, newest first).
            models.Index(fields=["actor_username", "at"], name="accesslog_actor_name_at_idx"),
            models.Index(fields=["object_type", "object_id"], name="accesslog_object_idx"),
            models.Index(fields=["at"], name="accesslog_at_idx"),
            models.Index(fields=["action", "at"], name="accesslog_action_at_idx"),
        ]
        # Append-only on PostgreSQL through plain triggers that no session setting can switch off
        # (migration 0006; pgtrigger's Protect obeys `SET pgtrigger.ignore`, which any role may set).

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.get_action_display()} {self.object_type}#{self.object_id}"


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


# ---------------------------------------------------------------------------
# Consent, assessments, plans and contact records
# ---------------------------------------------------------------------------


class ConsentPurpose(models.TextChoices):
    """What a consent allows the data to be used for."""

    SHARE_WITH_AGENCIES = "share_with_agencies", _("関係機関との情報共有")
    LAYERED_MEETING = "layered_meeting", _("重層的支援会議での検討")
    PLACE_REFERRAL = "place_referral", _("参加支援先への紹介")


def consent_form_path(instance, filename: str) -> str:
    """Store scanned forms under an opaque name; the original file name may contain a person's name."""
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"consent_forms/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Consent(models.Model):
    """One entry of a person's consent ledger: who agreed to what, for whom, until when."""

    class GivenBy(models.TextChoices):
        SELF = "self", _("本人")
        LEGAL_REPRESENTATIVE = "legal_representative", _("法定代理人")
        GUARDIAN = "guardian", _("成年後見人等")

    class Method(models.TextChoices):
        WRITTEN = "written", _("書面")
        ORAL = "oral", _("口頭")
        ELECTRONIC = "electronic", _("電子")

    class ScopeKind(models.TextChoices):
        NAMED = "named", _("指定した機関")
        CASE_TEAM = "case_team", _("ケースチームの全機関")

    class Status(models.TextChoices):
        GIVEN = "given", _("同意")
        REFUSED = "refused", _("不同意")
        WITHDRAWN = "withdrawn", _("撤回")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents", verbose_name=_("本人"))
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="consents", verbose_name=_("ケース")
    )
    given_by = models.CharField(_("同意した人"), max_length=30, choices=GivenBy.choices, default=GivenBy.SELF)
    giver_name = models.CharField(_("同意した人の氏名"), max_length=100, blank=True)
    given_on = models.DateField(_("同意日"))
    method = models.CharField(_("方法"), max_length=20, choices=Method.choices)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("説明者")
    )
    document_version = models.CharField(_("説明文書の版"), max_length=50, blank=True)
    scope_kind = models.CharField(_("範囲"), max_length=20, choices=ScopeKind.choices)
    organizations = models.ManyToManyField(
        Organization, blank=True, related_name="consents", verbose_name=_("提供先の機関")
    )
    purposes = models.JSONField(_("目的"), default=list)
    valid_until = models.DateField(_("有効期限"), null=True, blank=True)
    status = models.CharField(_("状態"), max_length=20, choices=Status.choices, default=Status.GIVEN)
    withdrawn_on = models.DateField(_("撤回日"), null=True, blank=True)
    withdrawal_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("撤回の記録者"),
    )
    withdrawal_note = models.TextField(_("撤回の内容"), blank=True)
    # Served only through a permission-checked view (MEDIA_URL is off).
    scanned_form = models.FileField(_("同意書の写し"), upload_to=consent_form_path, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("同意")
        verbose_name_plural = _("同意")
        ordering = ["-given_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="withdrawn") | models.Q(withdrawn_on__isnull=False),
                name="consent_withdrawn_has_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(scope_kind="case_team") | models.Q(case__isnull=False),
                name="consent_case_team_needs_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.given_on} {self.get_status_display()}"

    def clean(self):
        unknown = [p for p in self.purposes or [] if p not in ConsentPurpose.values]
        if unknown or not self.purposes:
            raise ValidationError({"purposes": _("目的を一つ以上選んでください。")})
        if self.valid_until and self.valid_until < self.given_on:
            raise ValidationError({"valid_until": _("有効期限は同意日より後にしてください。")})
        if self.scope_kind == self.ScopeKind.CASE_TEAM and self.case_id is None:
            raise ValidationError({"scope_kind": _("ケースチームを範囲にするにはケースが必要です。")})

    @property
    def purpose_labels(self) -> list[str]:
        return [str(ConsentPurpose(p).label) for p in self.purposes or [] if p in ConsentPurpose.values]

    def status_on(self, day) -> str:
        """Return given / refused / withdrawn / expired as of that day."""
        if self.status == self.Status.REFUSED:
            return "refused"
        if self.status == self.Status.WITHDRAWN and self.withdrawn_on and self.withdrawn_on <= day:
            return "withdrawn"
        if self.valid_until and day > self.valid_until:
            return "expired"
        if day < self.given_on:
            return "not_yet"
        return "given"

    @property
    def current_status(self) -> str:
        return self.status_on(timezone.localdate())

    @property
    def current_status_label(self) -> str:
        return str(CONSENT_STATUS_LABELS[self.current_status])


CONSENT_STATUS_LABELS = {
    "given": _("同意あり"),
    "refused": _("不同意"),
    "withdrawn": _("撤回済み"),
    "expired": _("期限切れ"),
    "not_yet": _("同意日前"),
}


class Assessment(models.Model):
    """インテーク・アセスメント: a checklist under a versioned schema plus a narrative."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assessments")
    schema_version = models.PositiveSmallIntegerField(_("様式の版"))
    checklist = models.JSONField(_("チェックリスト"), default=dict)
    narrative = models.TextField(_("見立て"), blank=True)
    assessed_on = models.DateField(_("実施日"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("実施者")
    )
    created_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("アセスメント")
        verbose_name_plural = _("アセスメント")
        ordering = ["-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case} {self.assessed_on}"


class SupportPlan(models.Model):
    """支援プラン: goals, roles per organization, a period and the next review."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("作成中")
        PROPOSED = "proposed", _("会議に提案")
        APPROVED = "approved", _("承認済み")
        SUPERSEDED = "superseded", _("改定により終了")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveIntegerField(_("版"))
    goals = models.TextField(_("目標"))
    status = models.CharField(_("状態"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    period_start = models.DateField(_("期間（開始）"), null=True, blank=True)
    period_end = models.DateField(_("期間（終了）"), null=True, blank=True)
    next_review_on = models.DateField(_("次回見直し日"), null=True, blank=True)
    includes_participation_support = models.BooleanField(_("参加支援を含む"), default=False)
    includes_outreach = models.BooleanField(_("アウトリーチを含む"), default=False)
    approved_on = models.DateField(_("承認日"), null=True, blank=True)
    approved_by_label = models.CharField(_("承認した会議など"), max_length=200, blank=True)
    approved_by_ref = models.CharField(_("承認の参照"), max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("支援プラン")
        verbose_name_plural = _("支援プラン")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="plan_case_version_unique"),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="approved"), name="plan_one_approved_per_case"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__isnull=True)
                | models.Q(period_start__isnull=True)
                | models.Q(period_end__gte=models.F("period_start")),
                name="plan_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} 第{self.version}版"


class PlanRole(models.Model):
    """One organization's part in a plan: its role, actions and period."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="roles")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("機関"))
    role = models.CharField(_("役割"), max_length=200)
    actions = models.TextField(_("具体的な支援"), blank=True)
    period_start = models.DateField(_("期間（開始）"), null=True, blank=True)
    period_end = models.DateField(_("期間（終了）"), null=True, blank=True)

    class Meta:
        verbose_name = _("プランの役割分担")
        verbose_name_plural = _("プランの役割分担")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.plan} / {self.organization}: {self.role}"


class ContactRecord(models.Model):
    """支援経過記録: one contact, visit or attempt (failed outreach counts too)."""

    class Kind(models.TextChoices):
        INTERVIEW = "interview", _("面談")
        PHONE = "phone", _("電話")
        VISIT = "visit", _("訪問")
        ACCOMPANY = "accompany", _("同行")
        MEETING = "meeting", _("会議")
        ABSENT = "absent", _("不在")
        REFUSED = "refused", _("拒否")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("対象者")
    )
    occurred_at = models.DateTimeField(_("日時"))
    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    is_outreach = models.BooleanField(_("アウトリーチ"), default=False)
    summary = models.TextField(_("内容"))
    sensitive = models.BooleanField(_("要配慮"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("機関"))
    created_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("支援経過記録")
        verbose_name_plural = _("支援経過記録")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The case detail's record list, newest first.
            models.Index(fields=["case", "-occurred_at"], name="contact_case_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.occurred_at:%Y-%m-%d} {self.get_kind_display()}"
