"""Deployment checks of the casework kernel (`manage.py check --deploy --database default`)."""

from django.contrib.auth import get_user_model
from django.core.checks import Tags, Warning, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def no_superuser_in_normal_operation(app_configs, databases=None, **kwargs):
    """Warn when an active superuser exists: administrators are memberships, and nobody bypasses the rules."""
    if not databases:
        return []
    try:
        usernames = list(
            get_user_model().objects.filter(is_superuser=True, is_active=True).values_list("username", flat=True)[:5]
        )
    except DatabaseError:
        return []  # not migrated yet: nothing to warn about
    if not usernames:
        return []
    return [
        Warning(
            "有効なスーパーユーザーがいます: " + "、".join(usernames),
            hint=(
                "スーパーユーザーは本人同意や二人承認の規則を迂回します。manage.py create_administrator で"
                "システム管理者を作成し、スーパーユーザーは無効化してください。"
            ),
            id="casework.W010",
        )
    ]
