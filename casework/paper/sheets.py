"""What each casework form shows: reads for the フェイスシート and the 相談受付票 (with and without consent)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.safestring import mark_safe

from casework.disclosure import is_lead_member
from casework.models import Case, Consent, HouseholdMember, Relative, SupportTie
from casework.paper import drawings
from casework.selectors import household_members


def face_sheet_context(case: Case, viewer) -> dict:
    """Return the フェイスシート（本人同意あり）: persons as typed, household, consultation, consent, team, drawings."""
    today = timezone.localdate()
    members = household_members(case.household_id)
    subject_ids = set(case.subject_rows.values_list("person_id", flat=True))
    consents: dict[int, list[Consent]] = {m.person_id: [] for m in members}
    # Only the consents this case recorded (another case's consents stay with that case).
    for consent in Consent.objects.filter(case=case).prefetch_related("organizations"):
        consents.setdefault(consent.person_id, []).append(consent)
    rows = [
        {"member": m, "person": m.person, "subject": m.person_id in subject_ids, "consents": consents[m.person_id]}
        for m in members
    ]
    subjects_with_consent = [
        r for r in rows if r["subject"] and any(c.current_status == "given" for c in r["consents"])
    ]
    return {
        "case": case,
        "rows": rows,
        "subject_count": len(subject_ids),
        "all_subjects_consented": len(subjects_with_consent) == len(subject_ids),
        "show_secret_addresses": is_lead_member(viewer, case),
        "relatives": list(Relative.objects.filter(household_id=case.household_id).order_by("id")),
        "supports": list(SupportTie.objects.filter(case=case).order_by("id")),
        "team": list(case.team_rows.filter(ended_at__isnull=True).select_related("organization").order_by("added_at")),
        # Rebuilt from an allowlist of SVG elements and attributes (drawings.clean_svg): safe to inline.
        "genogram": mark_safe(drawings.genogram_svg(case)),  # noqa: S308
        "ecomap": mark_safe(drawings.ecomap_svg(case, viewer)),  # noqa: S308
        "today": today,
    }


def intake_sheet_context(case: Case) -> dict:
    """Return the 相談受付票（本人同意なし）: nothing that identifies a person (no names, dates, addresses, drawings).

    What stays: the case number, the date of intake, route, domains and categories, household tags,
    and per subject only the relationship, gender and age band. The 主訴 is free text that may
    name people, so the form leaves a box for a summary written without identifying details.
    """
    members = {m.person_id: m for m in HouseholdMember.objects.filter(household_id=case.household_id)}
    subjects = []
    for row in case.subject_rows.select_related("person").order_by("id"):
        member = members.get(row.person_id)
        subjects.append(
            {
                # The label only: its free-text note may hold a name or a diagnosis (「実母（要介護2）」).
                "relationship": member.get_relationship_display() if member else "",
                "gender": row.person.get_gender_display(),
                "age_band": row.person.age_band,
                "lives_together": member.lives_together if member else None,
            }
        )
    return {
        "case": case,
        "subjects": subjects,
        "member_count": len(members),
    }
