from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("ケース管理")

    def ready(self):
        from casework import checks, sessions, signals  # noqa: F401 - registers checks, session and group handlers
