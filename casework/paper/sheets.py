"""What each casework form shows: フェイスシート, 相談受付票, アセスメントシート, プランシート, 同意書, 支援経過記録."""

from __future__ import annotations

from django.utils import timezone
from django.utils.safestring import mark_safe

from casework.assessment import ANSWERS, SCHEMAS
from casework.disclosure import is_lead_member
from casework.models import (
    Assessment,
    Case,
    Consent,
    ConsentPurpose,
    ContactRecord,
    HouseholdMember,
    Person,
    Relative,
    SupportPlan,
    SupportTie,
)
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


def assessment_sheet_context(case: Case, assessment: Assessment) -> dict:
    """Return the アセスメントシート: the versioned checklist with each answer ticked, and the 所見."""
    rows = [
        {"label": str(label), "answer": assessment.checklist.get(key)}
        for key, label in SCHEMAS.get(assessment.schema_version, [])
    ]
    return {
        "case": case,
        "assessment": assessment,
        "rows": rows,
        "answers": [(code, str(label)) for code, label in ANSWERS.items()],
        "subjects": _subjects(case),
    }


def plan_sheet_context(case: Case, plan: SupportPlan) -> dict:
    """Return the プランシート: goals, each organization's role, period, review date and the signature boxes."""
    return {
        "case": case,
        "plan": plan,
        "roles": list(plan.roles.select_related("organization").order_by("id")),
        "subjects": _subjects(case),
    }


# What a consent lets the organizations share, as the form lists it.
SHARED_ITEMS = (
    "氏名・生年月日・性別・住所・連絡先",
    "世帯の状況（家族構成・続柄）",
    "相談の内容と経過",
    "心身の状況・障害・病気・介護に関すること（要配慮個人情報）",
    "収入・家計・債務・住まいに関すること",
    "支援プランと支援の経過",
)


def consent_sheet_context(case: Case, person: Person, consent: Consent | None) -> dict:
    """Return the 情報共有に関する同意書: blank for signing, or as recorded (with its id and state)."""
    team = list(case.team_rows.filter(ended_at__isnull=True).select_related("organization").order_by("added_at"))
    if consent is None:
        organizations = [row.organization for row in team]
        chosen_orgs: set[int] = set()
    elif consent.scope_kind == Consent.ScopeKind.CASE_TEAM:
        organizations = [row.organization for row in team]
        chosen_orgs = {o.pk for o in organizations}
    else:
        organizations = list(consent.organizations.order_by("name"))
        chosen_orgs = {o.pk for o in organizations}
    return {
        "case": case,
        "person": person,
        "consent": consent,
        "purposes": [
            (code, str(label), bool(consent and code in consent.purposes)) for code, label in ConsentPurpose.choices
        ],
        "organizations": organizations,
        "chosen_orgs": chosen_orgs,
        "shared_items": SHARED_ITEMS,
        "giver_kinds": Consent.GivenBy.choices,
        "methods": Consent.Method.choices,
    }


def contact_sheet_context(case: Case, start, end) -> dict:
    """Return the 支援経過記録 from start to end (inclusive, local dates), oldest first."""
    records = (
        ContactRecord.objects.filter(case=case, occurred_at__date__gte=start, occurred_at__date__lte=end)
        .select_related("person", "recorded_by", "organization")
        .order_by("occurred_at", "id")
    )
    return {"case": case, "records": list(records), "start": start, "end": end, "subjects": _subjects(case)}


def contact_default_start(case: Case):
    """Return where the whole record starts: the case's intake, or an earlier contact (a visit before intake)."""
    first = (
        ContactRecord.objects.filter(case=case).order_by("occurred_at").values_list("occurred_at", flat=True).first()
    )
    return min(case.opened_on, timezone.localtime(first).date()) if first else case.opened_on


def _subjects(case: Case) -> list[Person]:
    return [row.person for row in case.subject_rows.select_related("person").order_by("id")]
