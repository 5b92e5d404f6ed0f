"""An organization's own referrals over the open API as FHIR R4 Task resources, and the API's OpenAPI description.

A token of organization X sees the referrals X sent (drafts included) and those X received whose
basis holds now (the same rule as the inbox: referrals.access.receiver_bases). A Task carries the
workflow only — status and businessStatus as Referral.fhir_status / fhir_business_status map them,
kind, dates, sender and receiver — never the card's or the case's content. Every answer writes an
access-log row per basis with the persons the listed referrals are about.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from casework.api_access import ApiDenied, api_view, log_api_read
from casework.models import AccessLog, ApiScope
from referrals.access import VIEW_REFERRAL, person_ids_for_referral, receiver_bases
from referrals.models import FHIR_STATUS, Referral, ReferralGroupObjectPermission, ReferralKind, ReferralState

DEFAULT_COUNT = 50
MAX_COUNT = 200
SYSTEM = "urn:jusou"


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(
        data, status=status, content_type="application/fhir+json", json_dumps_params={"ensure_ascii": False}
    )


def organization_referrals(organization) -> tuple[list[Referral], dict[int, str]]:
    """Return the organization's own referrals (newest first) and {referral id: access-log basis}."""
    granted = ReferralGroupObjectPermission.objects.filter(
        group_id=organization.group_id, permission__codename=VIEW_REFERRAL
    ).values("content_object_id")
    candidates = (
        Referral.objects.filter(pk__in=granted)
        .filter(Q(sender_organization=organization) | Q(receiver_organization=organization))
        .select_related("sender_organization", "receiver_organization", "case")
        .order_by("-created_at", "-id")
    )
    bases: dict[int, str] = {}
    received = []
    for referral in candidates:
        if referral.sender_organization_id == organization.pk:
            bases[referral.pk] = AccessLog.Basis.OWN_ORGANIZATION
        else:
            received.append(referral)
    for pk, basis in receiver_bases(received).items():
        bases[pk] = basis.kind
    return [r for r in candidates if r.pk in bases], bases


def _org_reference(org) -> dict:
    return {
        "identifier": {"system": f"{SYSTEM}:organization", "value": str(org.pk)},
        "display": org.name,
    }


def task_resource(referral: Referral) -> dict:
    """Return a referral as a FHIR R4 Task (workflow fields only)."""
    task = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "meta": {"lastUpdated": referral.updated_at.isoformat()},
        "identifier": [{"system": f"{SYSTEM}:referral", "value": str(referral.pk)}],
        "status": referral.fhir_status,
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": f"{SYSTEM}:referral-kind",
                    "code": referral.kind,
                    "display": str(ReferralKind(referral.kind).label),
                }
            ]
        },
        "authoredOn": (referral.sent_at or referral.created_at).isoformat(),
        "lastModified": referral.updated_at.isoformat(),
        "requester": _org_reference(referral.sender_organization),
        "owner": _org_reference(referral.receiver_organization),
    }
    if referral.fhir_business_status:
        task["businessStatus"] = {
            "coding": [{"system": f"{SYSTEM}:referral-state", "code": referral.fhir_business_status}],
            "text": str(ReferralState(referral.state).label),
        }
    if referral.due_on:
        task["restriction"] = {"period": {"end": referral.due_on.isoformat()}}
    if referral.responded_at or referral.ended_at:
        period = {}
        if referral.responded_at:
            period["start"] = referral.responded_at.isoformat()
        if referral.ended_at:
            period["end"] = referral.ended_at.isoformat()
        task["executionPeriod"] = period
    return task


def _log(token, referrals: list[Referral], bases: dict[int, str], *, many: bool) -> None:
    by_basis: dict[str, set[int]] = defaultdict(set)
    for referral in referrals:
        by_basis[bases[referral.pk]].update(person_ids_for_referral(referral))
    if not by_basis:
        log_api_read(token, object_type="referral")
    for basis, person_ids in sorted(by_basis.items()):
        log_api_read(
            token,
            object_type="referral",
            object_id="" if many else referrals[0].pk,
            person_ids=person_ids,
            many=many,
            basis=basis,
        )


@api_view(ApiScope.FHIR_TASK)
def task_search(request, token):
    """The organization's referrals as a FHIR searchset Bundle (?_count, ?page)."""
    try:
        count = int(request.GET.get("_count", str(DEFAULT_COUNT)))
        page = int(request.GET.get("page", "1"))
    except ValueError:
        raise ApiDenied(400, "_count と page は整数で指定してください") from None
    if page < 1 or not 1 <= count <= MAX_COUNT:
        raise ApiDenied(400, f"page は1以上、_count は1〜{MAX_COUNT}で指定してください")
    status = request.GET.get("status", "")
    referrals, bases = organization_referrals(token.organization)
    if status:
        referrals = [r for r in referrals if r.fhir_status == status]
    shown = referrals[(page - 1) * count : page * count]
    base = request.build_absolute_uri(request.path)
    links = [{"relation": "self", "url": f"{base}?_count={count}&page={page}"}]
    if page * count < len(referrals):
        links.append({"relation": "next", "url": f"{base}?_count={count}&page={page + 1}"})
    _log(token, shown, bases, many=True)
    return _json(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(referrals),
            "link": links,
            "entry": [
                {"fullUrl": f"{base}/{r.pk}", "resource": task_resource(r), "search": {"mode": "match"}} for r in shown
            ],
        }
    )


@api_view(ApiScope.FHIR_TASK)
def task_read(request, token, pk: int):
    """One of the organization's referrals as a Task; another organization's is 404."""
    referrals, bases = organization_referrals(token.organization)
    referral = next((r for r in referrals if r.pk == pk), None)
    if referral is None:
        return _json(
            {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-found", "diagnostics": "見つかりません"}],
            },
            status=404,
        )
    _log(token, [referral], bases, many=False)
    return _json(task_resource(referral))


def _list_params(*names: tuple[str, str]) -> list[dict]:
    return [
        {"name": n, "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}, "description": d}
        for n, d in names
    ]


_PAGE = _list_params(("page", "ページ番号（1から）"), ("per_page", f"1ページの件数（既定{50}、最大{200}）"))
_ERRORS = {
    "400": {"description": "不正なパラメータ"},
    "401": {"description": "トークンがない・不明・期限切れ・失効済み"},
    "403": {"description": "トークンの範囲外"},
}


def _op(summary: str, scope: str, params=(), content="application/json", schema=None) -> dict:
    return {
        "get": {
            "summary": summary,
            "security": [{"bearer": [scope]}],
            "parameters": list(params),
            "responses": {
                "200": {"description": "OK", "content": {content: {"schema": schema or {"type": "object"}}}},
                **_ERRORS,
            },
        }
    }


_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]
_HSDS_PAGE = {"$ref": "#/components/schemas/Page"}


def openapi_document() -> dict:
    """Return the OpenAPI 3.0 description of the open API."""
    hsds, fhir = ApiScope.HSDS.value, ApiScope.FHIR_TASK.value
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "重層的支援 ケース管理 オープンAPI（読み取り専用）",
            "version": "1.0",
            "description": (
                "機関ごとに発行するAPIトークン（Authorization: Bearer …）で利用します。トークンには範囲があり、"
                "失効させると次の要求から401になります。すべての取得はアクセス記録に残ります。"
                "居場所の一覧は Open Referral HSDS 3.0（公開項目のみ）、自機関の紹介は HL7 FHIR R4 Task です。"
            ),
        },
        "servers": [{"url": "/api"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Page": {
                    "type": "object",
                    "description": "HSDS 3.0 Page",
                    "properties": {
                        "total_items": {"type": "integer"},
                        "total_pages": {"type": "integer"},
                        "page_number": {"type": "integer"},
                        "size": {"type": "integer"},
                        "first_page": {"type": "boolean"},
                        "last_page": {"type": "boolean"},
                        "empty": {"type": "boolean"},
                        "contents": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Task": {
                    "type": "object",
                    "description": "FHIR R4 Task (https://hl7.org/fhir/R4/task.html)",
                    "required": ["resourceType", "status", "intent"],
                    "properties": {
                        "resourceType": {"type": "string", "enum": ["Task"]},
                        "id": {"type": "string"},
                        "status": {"type": "string", "enum": sorted(set(FHIR_STATUS.values()))},
                        "businessStatus": {"type": "object", "description": "差戻しのとき code=returned"},
                        "intent": {"type": "string", "enum": ["order"]},
                    },
                },
            },
        },
        "paths": {
            "/hsds/": _op("HSDS API の説明", hsds),
            "/hsds/services": _op("居場所（サービス）の一覧", hsds, _PAGE, schema=_HSDS_PAGE),
            "/hsds/services/{id}": _op("居場所（サービス）1件（組織・場所・日程を含む）", hsds, _ID),
            "/hsds/organizations": _op("運営団体の一覧", hsds, _PAGE, schema=_HSDS_PAGE),
            "/hsds/organizations/{id}": _op("運営団体1件とそのサービス", hsds, _ID),
            "/hsds/service_at_locations": _op("サービスと場所の対応の一覧", hsds, _PAGE, schema=_HSDS_PAGE),
            "/fhir/Task": _op(
                "自機関が送った紹介と受けた紹介（FHIR searchset Bundle）",
                fhir,
                _list_params(("_count", "1ページの件数（既定50、最大200）"), ("page", "ページ番号（1から）"))
                + [{"name": "status", "in": "query", "required": False, "schema": {"type": "string"}}],
                content="application/fhir+json",
            ),
            "/fhir/Task/{id}": _op(
                "自機関の紹介1件",
                fhir,
                [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                content="application/fhir+json",
                schema={"$ref": "#/components/schemas/Task"},
            ),
        },
    }


@login_not_required
@require_GET
def openapi(request):
    """The API's OpenAPI description (public: it holds no data)."""
    return JsonResponse(openapi_document(), json_dumps_params={"ensure_ascii": False, "indent": 1})


app_name = "fhir"
urlpatterns = [
    path("Task", task_search, name="task_search"),
    path("Task/<int:pk>", task_read, name="task_read"),
]
