"""The directory as Open Referral HSDS 3.0 JSON: public fields only.

Organizations, services (one per place), locations, service_at_locations and schedules are
listed side by side, each object valid against its HSDS 3.0 schema. Ids are UUIDv5 derived from
our primary keys, so they stay the same from one export to the next. Internal data (謝金, the
pledge date, the contact person's name, whether referrals are accepted) is never included; the
phone number and e-mail address only when the operator marked them public (the default is internal).
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from places.models import Place

# Fixed namespace: changing it would change every published id.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:jusou:places:hsds")
_ICAL_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
JST_OFFSET = "+09:00"


def stable_id(kind: str, pk: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{pk}"))


def _schedule(schedule, *, service_id: str, sal_id: str) -> dict:
    weeks = sorted(schedule.weeks_of_month or [])
    day = _ICAL_DAYS[schedule.weekday]
    return {
        "id": stable_id("schedule", schedule.pk),
        "service_id": service_id,
        "service_at_location_id": sal_id,
        "freq": "MONTHLY" if weeks else "WEEKLY",
        "byday": ",".join(f"{w}{day}" for w in weeks) if weeks else day,
        "wkst": "MO",
        "opens_at": f"{schedule.start_time:%H:%M}{JST_OFFSET}",
        "closes_at": f"{schedule.end_time:%H:%M}{JST_OFFSET}",
        "timezone": 9,
        "description": schedule.display,
        "notes": schedule.note,
    }


def _service(place: Place, org_id: str, service_id: str) -> dict:
    eligibility = "、".join(place.target_group_labels)
    if place.age_text:
        eligibility = f"{eligibility}（{place.age_text}）" if eligibility else place.age_text
    service = {
        "id": service_id,
        "organization_id": org_id,
        "name": place.name,
        "alternate_name": place.get_kind_display(),
        "description": place.description or place.get_kind_display(),
        "status": "active",
        "fees_description": place.cost,
        "eligibility_description": eligibility,
        "last_modified": place.updated_at.isoformat(),
    }
    if place.min_age is not None:
        service["minimum_age"] = place.min_age
    if place.max_age is not None:
        service["maximum_age"] = place.max_age
    if place.public_email:
        service["email"] = place.public_email
    if place.public_phone:
        service["phones"] = [
            {"id": stable_id("phone", place.pk), "service_id": service_id, "number": place.public_phone}
        ]
    return service


def _location(place: Place, org_id: str, location_id: str) -> dict:
    location = {
        "id": location_id,
        "location_type": "physical",
        "organization_id": org_id,
        "name": place.name,
        "description": "、".join(place.activities or []),
        "accessibility": [
            {"id": stable_id(f"accessibility:{code}", place.pk), "location_id": location_id, "description": label}
            for code, label in zip(place.accommodations or [], place.accommodation_labels, strict=False)
        ],
    }
    if place.latitude is not None and place.longitude is not None:
        location["latitude"] = float(place.latitude)
        location["longitude"] = float(place.longitude)
    if place.address:
        location["addresses"] = [
            {
                "id": stable_id("address", place.pk),
                "location_id": location_id,
                "address_1": place.address,
                "city": "",
                "region": place.area,
                "state_province": "",
                "postal_code": place.postal_code,
                "country": "JP",
                "address_type": "physical",
            }
        ]
    return location


def build_directory(places) -> dict:
    """Return the HSDS 3.0 document for the given places (normally the active ones)."""
    organizations: dict[int, dict] = {}
    services, locations, sals, schedules = [], [], [], []
    for place in places:
        org = place.operator
        org_id = stable_id("organization", org.pk)
        organizations.setdefault(
            org.pk,
            {"id": org_id, "name": org.name, "description": str(org.get_kind_display())},
        )
        service_id = stable_id("service", place.pk)
        location_id = stable_id("location", place.pk)
        sal_id = stable_id("service_at_location", place.pk)
        services.append(_service(place, org_id, service_id))
        locations.append(_location(place, org_id, location_id))
        sals.append({"id": sal_id, "service_id": service_id, "location_id": location_id})
        schedules.extend(_schedule(s, service_id=service_id, sal_id=sal_id) for s in place.schedules.all())
    return {
        "version": "3.0",
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "organizations": list(organizations.values()),
        "services": services,
        "locations": locations,
        "service_at_locations": sals,
        "schedules": schedules,
    }
