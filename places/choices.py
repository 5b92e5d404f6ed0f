"""Fixed choice lists of the places app (Japanese labels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    """居場所の種別."""

    COMMUNITY_CAFE = "community_cafe", _("コミュニティカフェ")
    KODOMO_SHOKUDO = "kodomo_shokudo", _("子ども食堂")
    SALON = "salon", _("サロン")
    KAYOI_NO_BA = "kayoi_no_ba", _("通いの場")
    PEER_GROUP = "peer_group", _("当事者グループ")
    WORK_EXPERIENCE = "work_experience", _("就労体験先")
    LEARNING_SUPPORT = "learning_support", _("学習支援")
    MULTIGENERATIONAL = "multigenerational", _("多世代交流スペース")
    OTHER = "other", _("その他")


class TargetGroup(models.TextChoices):
    """Who a place is for."""

    CHILDREN = "children", _("子ども")
    YOUNG_PEOPLE = "young_people", _("若者")
    FAMILIES = "families", _("子育て家庭")
    SENIORS = "seniors", _("高齢者")
    DISABILITIES = "disabilities", _("障害のある人")
    ANYONE = "anyone", _("どなたでも")


class Accommodation(models.TextChoices):
    """Practical accommodations a place offers (phrased without diagnosis)."""

    WHEELCHAIR = "wheelchair", _("車いす可")
    WRITTEN_CONVERSATION = "written_conversation", _("筆談対応")
    QUIET_ROOM = "quiet_room", _("静かな部屋")
    CHILDREN_WELCOME = "children_welcome", _("子連れ可")
    ALLERGY = "allergy", _("アレルギー対応")
    SMALL_GROUP = "small_group", _("少人数")
    EASY_JAPANESE = "easy_japanese", _("やさしい日本語")
    PICKUP = "pickup", _("送迎あり")


class AttendanceStatus(models.TextChoices):
    """One participant's attendance on one day."""

    ATTENDED = "attended", _("参加")
    ABSENT = "absent", _("欠席")
    CANCELLED = "cancelled", _("中止・取消")


WEEKDAY_LABELS = ["月", "火", "水", "木", "金", "土", "日"]
WEEKDAY_CHOICES = [
    (0, _("月曜")),
    (1, _("火曜")),
    (2, _("水曜")),
    (3, _("木曜")),
    (4, _("金曜")),
    (5, _("土曜")),
    (6, _("日曜")),
]


def label_to_code(choices: type[models.TextChoices], text: str) -> str | None:
    """Return the code whose Japanese label (or code) is text, or None."""
    text = text.strip()
    for code, label in choices.choices:
        if text in (code, str(label)):
            return code
    return None
