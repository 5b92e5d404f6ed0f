"""The places directory over the open API as Open Referral HSDS 3.0 (public fields only, paginated).

Endpoints follow the HSDS 3.0 API reference (`/services`, `/services/{id}`, `/organizations`,
`/organizations/{id}`, `/service_at_locations`, and `/` describing the API); lists are HSDS `Page`
objects. Objects are built by places.hsds, the same public-fields-only code as the staff export,
so nothing internal (謝金, pledges, contact names, acceptance of referrals) can reach the API.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import path

from casework.api_access import ApiDenied, api_view, log_api_read
from casework.models import ApiScope
from places import selectors
from places.hsds import _location, _schedule, _service, stable_id
from places.models import Place

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
HSDS_PROFILE = "https://openreferral.org/imports/hsds/"


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _places():
    return selectors._with_related(Place.objects.filter(is_active=True)).order_by("id")


def _page_numbers(request) -> tuple[int, int]:
    """Read ?page= and ?per_page= (1-based); raise ApiDenied(400) on anything else."""
    try:
        page = int(request.GET.get("page", "1"))
        per_page = int(request.GET.get("per_page", str(DEFAULT_PER_PAGE)))
    except ValueError:
        raise ApiDenied(400, "page と per_page は整数で指定してください") from None
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiDenied(400, f"page は1以上、per_page は1〜{MAX_PER_PAGE}で指定してください")
    return page, per_page


def hsds_page(items: list, *, page: int, per_page: int) -> dict:
    """Return an HSDS 3.0 Page holding one page of items."""
    total = len(items)
    pages = max(1, -(-total // per_page))
    contents = items[(page - 1) * per_page : page * per_page]
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not contents,
        "contents": contents,
    }


def _organization(org) -> dict:
    return {"id": stable_id("organization", org.pk), "name": org.name, "description": str(org.get_kind_display())}


def _full_service(place: Place) -> dict:
    """A service with its organization, locations and schedules nested, as /services/{id} answers."""
    org_id = stable_id("organization", place.operator_id)
    service_id = stable_id("service", place.pk)
    location_id = stable_id("location", place.pk)
    sal_id = stable_id("service_at_location", place.pk)
    service = _service(place, org_id, service_id)
    schedules = [_schedule(s, service_id=service_id, sal_id=sal_id) for s in place.schedules.all()]
    service["organization"] = _organization(place.operator)
    service["schedules"] = schedules
    service["service_at_locations"] = [
        {
            "id": sal_id,
            "service_id": service_id,
            "location_id": location_id,
            "location": _location(place, org_id, location_id),
        }
    ]
    return service


@api_view(ApiScope.HSDS)
def root(request, token):
    """Describe the HSDS API."""
    log_api_read(token, object_type="hsds", object_id="root")
    return _json(
        {"version": "3.0", "profile": HSDS_PROFILE, "openapi_url": request.build_absolute_uri("/api/openapi.json")}
    )


@api_view(ApiScope.HSDS)
def services(request, token):
    """List the active places as HSDS services (one-to-one fields only)."""
    page, per_page = _page_numbers(request)
    items = [_service(p, stable_id("organization", p.operator_id), stable_id("service", p.pk)) for p in _places()]
    log_api_read(token, object_type="hsds_service")
    return _json(hsds_page(items, page=page, per_page=per_page))


@api_view(ApiScope.HSDS)
def service_detail(request, token, id: str):
    """One service with everything HSDS nests in it."""
    place = next((p for p in _places() if stable_id("service", p.pk) == id), None)
    if place is None:
        return _json({"error": "見つかりません"}, status=404)
    log_api_read(token, object_type="hsds_service", object_id=id, many=False)
    return _json(_full_service(place))


def _operators():
    seen = {}
    for place in _places():
        seen.setdefault(place.operator_id, place.operator)
    return list(seen.values())


@api_view(ApiScope.HSDS)
def organizations(request, token):
    """List the organizations operating active places."""
    page, per_page = _page_numbers(request)
    log_api_read(token, object_type="hsds_organization")
    return _json(hsds_page([_organization(o) for o in _operators()], page=page, per_page=per_page))


@api_view(ApiScope.HSDS)
def organization_detail(request, token, id: str):
    """One organization with its services."""
    org = next((o for o in _operators() if stable_id("organization", o.pk) == id), None)
    if org is None:
        return _json({"error": "見つかりません"}, status=404)
    document = _organization(org)
    document["services"] = [_service(p, id, stable_id("service", p.pk)) for p in _places() if p.operator_id == org.pk]
    log_api_read(token, object_type="hsds_organization", object_id=id, many=False)
    return _json(document)


@api_view(ApiScope.HSDS)
def service_at_locations(request, token):
    """List service-at-location links with their locations."""
    page, per_page = _page_numbers(request)
    items = []
    for p in _places():
        org_id, service_id = stable_id("organization", p.operator_id), stable_id("service", p.pk)
        location_id = stable_id("location", p.pk)
        items.append(
            {
                "id": stable_id("service_at_location", p.pk),
                "service_id": service_id,
                "location_id": location_id,
                "location": _location(p, org_id, location_id),
            }
        )
    log_api_read(token, object_type="hsds_service_at_location")
    return _json(hsds_page(items, page=page, per_page=per_page))


app_name = "hsds"
urlpatterns = [
    path("", root, name="root"),
    path("services", services, name="services"),
    path("services/<str:id>", service_detail, name="service"),
    path("organizations", organizations, name="organizations"),
    path("organizations/<str:id>", organization_detail, name="organization"),
    path("service_at_locations", service_at_locations, name="service_at_locations"),
]
