"""人事異動: hand everything a leaving worker carries for an organization to colleagues, in one transaction.

Each app contributes what a worker can carry (casework: cases as 主担当者; referrals: referrals they
sent; meetings: open action items and meeting seats) through HANDOVER_SOURCES, registered from its
AppConfig.ready, so this kernel never imports the apps above it. The hand-over moves every item or
none: any refusal rolls the whole transaction back. Every moved item is kept (WorkerHandoverItem,
shown on its case) and writes an access-log row; the screen shows numbers, states and dates only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from casework import audit
from casework.choices import Role
from casework.models import AccessLog, Case, NotificationKind, Organization, WorkerHandover, WorkerHandoverItem
from casework.notifications.services import notify
from casework.viewers import Viewer, viewer_of

User = get_user_model()

CASE_WORKER_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)


@dataclass(frozen=True)
class HandoverItem:
    """One thing a worker carries: its kind and id, the case it belongs to, and a label without names."""

    kind: str
    object_id: int
    case_id: int | None
    label: str
    detail: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.object_id}"


@dataclass(frozen=True)
class HandoverSource:
    """What one app lets a worker carry: how to list it, and how to move one item to another worker.

    `reassign(item, organization=, leaving=, to=, by=)` re-reads the item under a lock and raises
    ValidationError when it is no longer the leaving worker's.
    """

    kind: str
    title: str
    items: Callable[[Organization, object], list[HandoverItem]]
    reassign: Callable[..., None]
    order: int = 50


HANDOVER_SOURCES: list[HandoverSource] = []


def register_handover_source(source: HandoverSource) -> None:
    if all(existing.kind != source.kind for existing in HANDOVER_SOURCES):
        HANDOVER_SOURCES.append(source)
        HANDOVER_SOURCES.sort(key=lambda s: s.order)


def may_hand_over(viewer: Viewer, organization: Organization | None) -> bool:
    """A supervisor of the organization (in the hat they act in) or an administrator."""
    if organization is None:
        return False
    return viewer.is_administrator or organization.pk in viewer.organization_ids(Role.SUPERVISOR)


def handover_organizations(viewer: Viewer):
    """The organizations whose workers the viewer may hand over."""
    if viewer.is_administrator:
        return Organization.objects.filter(
            is_active=True,
            kind__in=[Organization.Kind.WINDOW, Organization.Kind.COORDINATOR, Organization.Kind.MUNICIPAL],
        ).order_by("kind", "name")
    return Organization.objects.filter(pk__in=viewer.organization_ids(Role.SUPERVISOR)).order_by("kind", "name")


def handover_workers(organization: Organization):
    """Everyone who may carry something of the organization: its case workers, including those who just left.

    A worker whose membership ended still carries their cases until someone hands them over, so the
    list is every user with a case-role membership there, current or ended.
    """
    return (
        User.objects.filter(
            memberships__organization=organization,
            memberships__role__in=CASE_WORKER_ROLES,
        )
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


def handover_receivers(organization: Organization, leaving):
    """Who may take items over: current case workers of the same organization, the leaving one aside."""
    from casework.selectors import lead_worker_candidates

    return lead_worker_candidates(organization.pk).exclude(pk=getattr(leaving, "pk", None))


def handover_items(organization: Organization, leaving) -> list[tuple[HandoverSource, list[HandoverItem]]]:
    """Every open item the worker carries for the organization, grouped by source."""
    return [(source, source.items(organization, leaving)) for source in HANDOVER_SOURCES]


def worker_handover(
    *,
    organization: Organization,
    leaving,
    note: str,
    by,
    assignments: dict[str, object] | None = None,
    default_to=None,
    expected_keys: set[str] | None = None,
) -> WorkerHandover:
    """Move every open item of `leaving` in the organization to the chosen workers, all or nothing.

    `assignments` maps an item key ("case:12") to its new worker; the others go to `default_to`.
    `expected_keys` are the items the screen showed: if the worker's items changed since, nothing
    moves and the user looks again.
    """
    viewer = viewer_of(by)
    if not may_hand_over(viewer, organization):
        raise PermissionDenied(_("この機関の担当の引継ぎはスーパーバイザーかシステム管理者だけが行えます。"))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("引継ぎメモを入力してください。")})
    assignments = assignments or {}
    receivers = {user.pk: user for user in handover_receivers(organization, leaving)}
    with transaction.atomic():
        groups = [
            (source, source.items(organization, leaving)) for source in HANDOVER_SOURCES
        ]  # read again inside the transaction
        keys = {item.key for _source, items in groups for item in items}
        if not keys:
            raise ValidationError(_("引き継ぐケース・紹介・対応事項・会議はありません。"))
        if expected_keys is not None and keys != set(expected_keys):
            raise ValidationError(
                _("画面を開いた後で担当が変わった項目があります。もう一度一覧を確認してから引き継いでください。")
            )
        handover = WorkerHandover.objects.create(organization=organization, leaving=leaving, note=note, by=by)
        moved = 0
        received: dict[int, tuple[object, int]] = {}
        for source, items in groups:
            for item in items:
                target = assignments.get(item.key) or default_to
                if target is None:
                    raise ValidationError(
                        _("引継ぎ先が選ばれていない項目があります（%(label)s）。") % {"label": item.label}
                    )
                if target.pk not in receivers:
                    raise ValidationError(
                        _("%(name)s さんはこの機関の職員ではないため引き継げません（%(label)s）。")
                        % {"name": target.get_full_name() or target.username, "label": item.label}
                    )
                source.reassign(item, organization=organization, leaving=leaving, to=target, by=by)
                WorkerHandoverItem.objects.create(
                    handover=handover,
                    kind=item.kind,
                    object_id=item.object_id,
                    case_id=item.case_id,
                    from_worker=leaving,
                    to_worker=target,
                )
                audit.log_access(
                    actor=by,
                    action=AccessLog.Action.HANDOVER,
                    object_type=item.kind,
                    object_id=item.object_id,
                    reason=f"handover={handover.pk} from={leaving.pk} to={target.pk}",
                )
                moved += 1
                received[target.pk] = (target, received.get(target.pk, (target, 0))[1] + 1)
        for target, count in received.values():
            # Numbers and the organization only: the new worker opens the items from their own lists.
            notify(
                kind=NotificationKind.HANDOVER_RECEIVED,
                summary=_("人事異動の引継ぎで、%(org)sの%(n)s件（ケース・紹介・対応事項・会議）の担当になりました。")
                % {"org": organization.name, "n": count},
                by=by,
                users=[target],
                url=reverse("casework:case_mine"),
            )
        audit.log_access(
            actor=by,
            action=AccessLog.Action.HANDOVER,
            object_type="workerhandover",
            object_id=handover.pk,
            reason=f"organization={organization.pk} leaving={leaving.pk} items={moved}",
        )
    return handover


# ---------------------------------------------------------------------------
# casework's own source: the cases the worker carries as 主担当者
# ---------------------------------------------------------------------------


def _open_cases(organization: Organization, worker) -> list[HandoverItem]:
    from casework.selectors import OPEN_STATES

    cases = Case.objects.filter(lead_organization=organization, lead_worker=worker, state__in=OPEN_STATES).order_by(
        "opened_on", "id"
    )
    return [HandoverItem("case", case.pk, case.pk, case.number, str(case.get_state_display())) for case in cases]


def _reassign_case(item: HandoverItem, *, organization, leaving, to, by) -> None:
    case = Case.objects.select_for_update().get(pk=item.object_id)
    if case.lead_worker_id != leaving.pk or case.lead_organization_id != organization.pk:
        raise ValidationError(_("%(label)s の主担当者はすでに変わっています。") % {"label": item.label})
    case.lead_worker = to
    case.version += 1
    case.save(update_fields=["lead_worker", "version"])


register_handover_source(HandoverSource("case", _("ケース（主担当者）"), _open_cases, _reassign_case, order=10))
