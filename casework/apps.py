from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("ケース管理")

    def ready(self):
        from django.db.models.signals import post_migrate

        from casework import audit_roles, checks, sessions, signals  # noqa: F401 - connects handlers, registers checks

        post_migrate.connect(audit_roles.grant_after_migrate, sender=self)
