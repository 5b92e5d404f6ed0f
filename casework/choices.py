"""Choices shared across the casework kernel and the apps above it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Domain(models.TextChoices):
    """分野: the attribute-based welfare fields a case can cross."""

    ELDERLY = "elderly", _("高齢")
    DISABILITY = "disability", _("障害")
    CHILD = "child", _("子ども")
    POVERTY = "poverty", _("生活困窮")
    OTHER = "other", _("その他（制度の狭間）")


class Role(models.TextChoices):
    """A member's role in an organization: it decides which screens and actions exist."""

    CASEWORKER = "caseworker", _("相談支援員")
    SUPERVISOR = "supervisor", _("スーパーバイザー（管理者）")
    PLACE_STAFF = "place_staff", _("居場所スタッフ")
    AUDITOR = "auditor", _("監査担当")
    ADMINISTRATOR = "administrator", _("システム管理者")
    # An organization's own administrator: accounts and memberships of that one organization only.
    ORG_ADMIN = "org_admin", _("組織管理者（職員・所属の管理）")

    @property
    def works_cases(self) -> bool:
        return self in {Role.CASEWORKER, Role.SUPERVISOR}

    @property
    def needs_second_administrator(self) -> bool:
        """Whether granting this role takes a second administrator's approval (it opens personal data or the admin)."""
        return self != Role.PLACE_STAFF

    @property
    def is_city_wide(self) -> bool:
        """Whether the role reaches beyond one organization (the log, every account); never an org administrator's to give."""
        return self in {Role.AUDITOR, Role.ADMINISTRATOR}
