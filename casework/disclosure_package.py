"""The disclosure package for a 開示請求: everything the system holds about one person, third parties flagged.

Sections: the person's own details, their household rows (never the other members), cases they are a
subject of, consents, assessments, plans, contact records about them, and — contributed by the apps
above casework through PACKAGE_SECTIONS — referral cards and meeting items; last, who accessed their
record, when and on which basis (the access log). Free-text passages that name another person known
to the system (household members, co-subjects) are flagged for the privacy officer's review; a
passage marked "withhold" has those names replaced by ■ in the released package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from casework.audit.selectors import with_person
from casework.models import (
    AccessLog,
    Assessment,
    Case,
    Consent,
    ContactRecord,
    HouseholdMember,
    Person,
    SupportPlan,
)
from core.japanese import format_wareki

MASK = "■■■"


@dataclass
class Item:
    """One field of one record in the package."""

    section: str
    record: str
    label: str
    value: str
    key: str = ""  # set on free text that may name third parties: "<model>:<pk>:<field>"
    flags: list[str] = field(default_factory=list)  # the third-party names found in the value


# Upper apps add sections: provider(person, third_party_names) -> list[Item] (registered in AppConfig.ready).
PACKAGE_SECTIONS: list[Callable[[Person, list[str]], list[Item]]] = []


def _day(value) -> str:
    return format_wareki(value) if value else ""


def third_party_names(person: Person) -> list[str]:
    """Names of the other persons around this one: household members and co-subjects of their cases."""
    household_ids = HouseholdMember.objects.filter(person=person).values("household_id")
    case_ids = Case.objects.filter(subject_rows__person=person).values("id")
    others = Person.objects.filter(memberships__household_id__in=household_ids).union(
        Person.objects.filter(case_subject_rows__case_id__in=case_ids)
    )
    names: set[str] = set()
    own = {person.family_name + person.given_name, person.given_name, person.alias, person.preferred_name}
    for other in others:
        if other.pk == person.pk:
            continue
        for name in (
            other.family_name + other.given_name,
            f"{other.family_name}\u3000{other.given_name}",
            f"{other.family_name} {other.given_name}",
            other.given_name,
            other.alias,
            other.preferred_name,
            other.family_name_kana + other.given_name_kana,
        ):
            # A given name of one character, or one the person shares, would flag everything.
            if name and len(name.strip()) >= 2 and name not in own:
                names.add(name.strip())
    return sorted(names, key=len, reverse=True)


def flag(text: str, names: Iterable[str]) -> list[str]:
    return [n for n in names if n in text]


def text_item(section: str, record: str, label: str, value: str, key: str, names: list[str]) -> Item:
    return Item(section, record, label, value, key=key, flags=flag(value or "", names))


def _person_items(person: Person) -> list[Item]:
    s = "本人の情報"
    rows = [
        ("氏名", person.full_name),
        ("フリガナ", person.full_kana),
        ("通称", person.alias),
        ("呼ばれたい名前", person.preferred_name),
        ("生年月日", _day(person.birth_date)),
        ("性別", person.get_gender_display()),
        ("住所", person.address),
        ("電話番号", person.phone),
        ("電話番号（その他）", person.phone_alt),
        ("住所秘匿", "あり" if person.address_secret else ""),
    ]
    items = [Item(s, "本人", label, str(value)) for label, value in rows if value]
    for m in HouseholdMember.objects.filter(person=person).select_related("household"):
        record = f"世帯「{m.household.name}」"
        items.append(Item("世帯", record, "続柄", m.relationship_label))
        items.append(Item("世帯", record, "同居", "同居" if m.lives_together else "別居"))
        if m.since:
            items.append(Item("世帯", record, "世帯員となった日", _day(m.since)))
        if m.until:
            items.append(Item("世帯", record, "世帯員でなくなった日", _day(m.until)))
    return items


def _case_items(person: Person, names: list[str]) -> list[Item]:
    items: list[Item] = []
    cases = (
        Case.objects.filter(subject_rows__person=person)
        .select_related("lead_organization")
        .prefetch_related("domain_rows")
        .order_by("opened_on", "id")
    )
    for case in cases:
        r = f"ケース {case.number}"
        items += [
            Item("ケース", r, "状態", case.get_state_display()),
            Item("ケース", r, "受付日", _day(case.opened_on)),
            Item("ケース", r, "終結・中断日", _day(case.closed_on)),
            Item("ケース", r, "分野", "・".join(case.domain_labels)),
            Item("ケース", r, "相談内容", "・".join(case.category_labels)),
            Item("ケース", r, "相談経路", case.get_intake_route_display()),
            Item("ケース", r, "主担当機関", str(case.lead_organization)),
            text_item("ケース", r, "主訴", case.summary, f"case:{case.pk}:summary", names),
        ]
        for a in Assessment.objects.filter(case=case).order_by("assessed_on", "id"):
            ar = f"{r} アセスメント（{_day(a.assessed_on)}）"
            items.append(text_item("アセスメント", ar, "見立て", a.narrative, f"assessment:{a.pk}:narrative", names))
        for plan in SupportPlan.objects.filter(case=case).prefetch_related("roles__organization").order_by("version"):
            pr = f"{r} 支援プラン 第{plan.version}版"
            items += [
                Item("支援プラン", pr, "状態", plan.get_status_display()),
                Item("支援プラン", pr, "期間", f"{_day(plan.period_start)}〜{_day(plan.period_end)}"),
                text_item("支援プラン", pr, "目標", plan.goals, f"supportplan:{plan.pk}:goals", names),
            ]
            for role in plan.roles.all():
                items.append(
                    text_item(
                        "支援プラン",
                        pr,
                        f"役割分担（{role.organization}）",
                        f"{role.role} {role.actions}".strip(),
                        f"planrole:{role.pk}:actions",
                        names,
                    )
                )
        # Contact records about this person, or about the case as a whole; never those about another member.
        contacts = ContactRecord.objects.filter(case=case).select_related("organization").order_by("occurred_at")
        for c in contacts:
            if c.person_id not in (None, person.pk):
                continue
            cr = f"{r} 支援経過（{_day(c.occurred_at.date())}・{c.get_kind_display()}・{c.organization}）"
            items.append(text_item("支援経過記録", cr, "内容", c.summary, f"contactrecord:{c.pk}:summary", names))
    return [i for i in items if i.value]


def _consent_items(person: Person) -> list[Item]:
    items = []
    for c in Consent.objects.filter(person=person).prefetch_related("organizations").order_by("given_on", "id"):
        r = f"同意（{_day(c.given_on)}）"
        items += [
            Item("同意", r, "状態", c.current_status_label),
            Item("同意", r, "同意した人", c.get_given_by_display()),
            Item("同意", r, "方法", c.get_method_display()),
            Item("同意", r, "目的", "・".join(c.purpose_labels)),
            Item("同意", r, "範囲", c.get_scope_kind_display()),
            Item("同意", r, "提供先", "・".join(str(o) for o in c.organizations.all())),
            Item("同意", r, "有効期限", _day(c.valid_until)),
            Item("同意", r, "撤回日", _day(c.withdrawn_on)),
        ]
    return [i for i in items if i.value]


def _access_items(person: Person) -> list[Item]:
    """Who accessed the person's record, when and on which basis (the access log, no content in it)."""
    rows = with_person(AccessLog.objects.all(), person.pk).select_related("actor", "organization").order_by("at", "id")
    items = []
    for row in rows:
        who = (
            f"{row.actor.last_name} {row.actor.first_name}（{row.actor_username}）"
            if row.actor
            else (row.reason or "システム")
        )
        value = "、".join(
            p
            for p in [
                who,
                str(row.organization or ""),
                row.get_action_display(),
                f"根拠: {row.get_basis_display()}",
                row.get_outcome_display(),
            ]
            if p
        )
        items.append(Item("アクセス記録", f"{timezone.localtime(row.at):%Y-%m-%d %H:%M:%S}", row.object_type, value))
    return items


def build_package(person: Person) -> list[Item]:
    """Return every item of the person's package, flagged where third parties may be named."""
    names = third_party_names(person)
    items = _person_items(person) + _case_items(person, names) + _consent_items(person)
    for provider in PACKAGE_SECTIONS:
        items += provider(person, names)
    return items + _access_items(person)


def redact(item: Item, withheld: set[str]) -> str:
    """Return the value as released: flagged names masked when the passage was marked withhold."""
    if item.key not in withheld or not item.flags:
        return item.value
    pattern = re.compile("|".join(re.escape(n) for n in sorted(item.flags, key=len, reverse=True)))
    return pattern.sub(MASK, item.value)
