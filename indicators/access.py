"""The indicator screens' access-log rows: a drill-down list of persons and a report download."""

from django.utils.translation import gettext as _

from casework.audit import log_access
from casework.models import AccessLog


def log_drill(request, *, drill: str, key: str, person_ids) -> None:
    """Write the row for a drill-down that lists cases or referrals (raises AccessLogUnavailable: 503)."""
    log_access(
        actor=request.user,
        action=AccessLog.Action.LIST,
        object_type=f"indicator:{drill}",
        object_id=key[:40],
        person_ids=person_ids,
        basis=AccessLog.Basis.OWN_ORGANIZATION,
    )


def log_report_export(request, *, fiscal_year: int, scope) -> None:
    """Write the row for a 実績報告 download before the file is built (raises AccessLogUnavailable: 503)."""
    scope_name = str(scope.organization) if scope.organization else _("市全体")
    log_access(
        actor=request.user,
        action=AccessLog.Action.EXPORT,
        object_type="indicator_report",
        object_id=f"{fiscal_year}:{scope.organization_id or 'all'}",
        reason=_("実績報告の出力（%(scope)s）") % {"scope": scope_name},
    )
