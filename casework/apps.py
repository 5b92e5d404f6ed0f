from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("ケース管理")

    def ready(self):
        from django.db.models.signals import post_migrate

        from casework import checks, disclosure, signals  # noqa: F401 - handlers, checks
        from casework.accounts import sessions  # noqa: F401 - signal handlers
        from casework.audit import roles as audit_roles
        from casework.selectors import home_panels
        from casework.services import handover  # noqa: F401 - registers the cases as a hand-over source
        from casework.services.cases import case_team_end_lapsed
        from core.panels import register_home_panel

        register_home_panel(home_panels)
        from casework.calendar import register_dated_source
        from casework.calendar.sources import approval_items, casework_items

        register_dated_source(casework_items)
        register_dated_source(approval_items)
        from casework import daily
        from casework.scheduling import register_daily_job
        from casework.tasks import queue_digests

        register_daily_job("mail_digest", "まとめメール（毎日）", queue_digests)
        register_daily_job("reviews_due", "見直し日の近いプラン・過ぎたプラン", daily.reviews_due)
        register_daily_job("consents_expiring", "30日以内に有効期限を迎える同意", daily.consents_expiring)
        register_daily_job(
            "access_log_verify", "アクセス記録の連鎖の検証（異常は監査担当へ）", daily.access_log_verified
        )

        from casework import retention  # noqa: F401 - registers the closed-case retention kind
        from casework.services.retention import ensure_rules_after_migrate, retention_daily

        register_daily_job("retention", "保存期間を過ぎた記録（廃棄対象）の一覧", retention_daily)
        # After every app's migrate, so the kinds upper apps register get their default rule too.
        post_migrate.connect(ensure_rules_after_migrate, dispatch_uid="casework.retention_rules")

        post_migrate.connect(audit_roles.grant_after_migrate, sender=self)
        # casework's own reaction to a withdrawn consent comes first: the team grants resting on it end.
        if case_team_end_lapsed not in disclosure.CONSENT_LAPSED_HANDLERS:
            disclosure.CONSENT_LAPSED_HANDLERS.insert(0, case_team_end_lapsed)
