"""The auditor screens' own access-log rows: each screen is logged before it shows anything."""

from casework.audit import AccessLogUnavailable, log_access
from casework.choices import Role
from casework.models import AccessLog

AUDIT_OBJECT = "accesslog"


def log_audit_denied(request) -> None:
    """Record that a non-auditor tried an audit screen; the 404 stands even if this fails."""
    try:
        log_access(
            actor=request.user,
            action=AccessLog.Action.DENIED,
            object_type=AUDIT_OBJECT,
            outcome=AccessLog.Outcome.DENIED,
            basis=AccessLog.Basis.AUDIT,
        )
    except AccessLogUnavailable:
        pass


def log_audit_screen(viewer, *, action: str, person_ids=(), object_id: object = "", reason: str = "") -> None:
    """Write the audit screen's own row as the auditor membership; raise AccessLogUnavailable (503) if it fails."""
    organization = viewer.organizations(Role.AUDITOR)[0]
    log_access(
        actor=viewer.user,
        action=action,
        object_type=AUDIT_OBJECT,
        object_id=object_id,
        person_ids=person_ids,
        basis=AccessLog.Basis.AUDIT,
        reason=reason,
        organization_id=organization.id,
        role=Role.AUDITOR,
    )
