"""The intake-assessment checklist: versioned schemas defined in code, and their validation."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Answers every item takes. Stored as codes so later schema versions can relabel them.
ANSWERS = {
    "none": _("課題なし"),
    "some": _("課題あり"),
    "urgent": _("緊急性あり"),
    "unknown": _("未確認"),
}

# A new version is added, never edited in place: saved assessments keep the version they used.
SCHEMAS: dict[int, list[tuple[str, str]]] = {
    1: [
        ("health", _("健康・医療（通院・服薬・精神的な不調）")),
        ("care", _("介護・障害（要介護・障害・介護負担）")),
        ("income", _("収入・家計（生活費・公共料金の滞納）")),
        ("debt", _("債務（借金・税や保険料の滞納）")),
        ("housing", _("住まい（住居の確保・住環境・ゴミ）")),
        ("employment", _("就労・日中活動")),
        ("child", _("子育て・教育（登校・ケアを担う子ども）")),
        ("isolation", _("社会的つながり（孤立・ひきこもり）")),
        ("safety", _("安全（虐待・DV・消費者被害）")),
        ("daily_life", _("日常生活（食事・衛生・金銭管理）")),
    ],
}
CURRENT_VERSION = max(SCHEMAS)


def schema_items(version: int = CURRENT_VERSION) -> list[tuple[str, str]]:
    """Return the (key, label) items of a schema version."""
    return SCHEMAS[version]


def validate_checklist(checklist: dict, version: int) -> None:
    """Raise ValidationError unless the checklist answers exactly the schema's items with known answers."""
    if version not in SCHEMAS:
        raise ValidationError(_("不明な様式の版です: %(v)s") % {"v": version})
    if not isinstance(checklist, dict):
        raise ValidationError(_("チェックリストの形式が正しくありません。"))
    keys = {key for key, _label in SCHEMAS[version]}
    if set(checklist) != keys:
        raise ValidationError(_("チェックリストの項目が様式と一致しません。"))
    bad = [key for key, value in checklist.items() if value not in ANSWERS]
    if bad:
        raise ValidationError(_("回答が正しくない項目があります: %(k)s") % {"k": ", ".join(sorted(bad))})


def checklist_rows(checklist: dict, version: int) -> list[tuple[str, str, str]]:
    """Return (key, item label, answer label) rows for display."""
    return [(key, str(label), str(ANSWERS.get(checklist.get(key), "-"))) for key, label in SCHEMAS.get(version, [])]
