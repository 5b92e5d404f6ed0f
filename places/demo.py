"""Demo places across a few areas, run by the demo operator organizations (idempotent)."""

from datetime import date

from django.db import transaction

from places.models import Place
from places.schedules import parse_schedules
from places.services import place_save

# (operator key, name, kind, area, address, schedule, targets, activities, accommodations,
#  accepts referrals, min age, max age, cost)
PLACES = [
    (
        "npo_cafe",
        "まちの縁側カフェ",
        "community_cafe",
        "中央",
        "みどり市中央1-2-3",
        "毎週水曜 10:00-15:00、毎週金曜 10:00-15:00",
        ["anyone"],
        ["お茶", "おしゃべり", "手芸", "読書"],
        ["wheelchair", "quiet_room", "children_welcome"],
        True,
        None,
        None,
        "100円（飲み物代）",
    ),
    (
        "npo_cafe",
        "縁側しごと体験（カフェ補助）",
        "work_experience",
        "中央",
        "みどり市中央1-2-3",
        "毎週火曜 13:00-16:00",
        ["young_people", "disabilities"],
        ["接客", "調理補助", "清掃"],
        ["quiet_room", "small_group", "written_conversation"],
        True,
        15,
        64,
        "無料（交通費支給）",
    ),
    (
        "npo_cafe",
        "北町 多世代交流スペース えんがわ",
        "multigenerational",
        "北",
        "みどり市北町4-5-6",
        "第1・第3日曜 10:00-13:00",
        ["anyone"],
        ["昼食づくり", "将棋", "子ども遊び"],
        ["children_welcome", "wheelchair"],
        True,
        None,
        None,
        "300円",
    ),
    (
        "npo_cafe",
        "ひきこもり経験者の会 ほっと",
        "peer_group",
        "中央",
        "みどり市中央1-2-3 2階",
        "第2・第4木曜 18:30-20:30",
        ["young_people"],
        ["語り合い", "ボードゲーム"],
        ["quiet_room", "small_group", "written_conversation"],
        True,
        18,
        None,
        "無料",
    ),
    (
        "npo_shokudo",
        "みどり子ども食堂",
        "kodomo_shokudo",
        "南",
        "みどり市南台2-8-1 公民館",
        "第2・第4土曜 11:00-14:00",
        ["children", "families"],
        ["料理", "食事", "宿題"],
        ["allergy", "children_welcome"],
        True,
        None,
        None,
        "子ども無料・大人300円",
    ),
    (
        "npo_shokudo",
        "みなみ学習教室",
        "learning_support",
        "南",
        "みどり市南台2-8-1 公民館 和室",
        "毎週月曜 17:00-19:00、毎週木曜 17:00-19:00",
        ["children", "young_people"],
        ["勉強", "宿題", "読書"],
        ["quiet_room", "small_group", "easy_japanese"],
        True,
        9,
        18,
        "無料",
    ),
    (
        "npo_shokudo",
        "東の子ども食堂 にじいろ",
        "kodomo_shokudo",
        "東",
        "みどり市東原5-1",
        "第1・第3水曜 17:00-19:30",
        ["children", "families"],
        ["料理", "食事"],
        ["allergy", "children_welcome", "wheelchair"],
        False,
        None,
        None,
        "子ども無料",
    ),
    (
        "salon",
        "ひだまりサロン",
        "salon",
        "北",
        "みどり市北町集会所",
        "毎週火曜 10:00-12:00",
        ["seniors"],
        ["体操", "歌", "茶話会"],
        ["wheelchair", "pickup"],
        True,
        60,
        None,
        "100円",
    ),
    (
        "salon",
        "いきいき百歳体操の会",
        "kayoi_no_ba",
        "北",
        "みどり市北町集会所",
        "毎週木曜 10:00-11:30",
        ["seniors"],
        ["体操", "健康づくり"],
        ["wheelchair"],
        True,
        65,
        None,
        "無料",
    ),
    (
        "salon",
        "東原 通いの場 ゆうゆう",
        "kayoi_no_ba",
        "東",
        "みどり市東原3丁目 自治会館",
        "第2・第4金曜 13:30-15:30",
        ["seniors", "anyone"],
        ["囲碁", "手芸", "茶話会"],
        ["wheelchair", "written_conversation"],
        True,
        None,
        None,
        "50円",
    ),
    (
        "salon",
        "南台 手芸サロン",
        "salon",
        "南",
        "みどり市南台1-1 商店街空き店舗",
        "毎週水曜 13:00-15:00",
        ["anyone"],
        ["手芸", "編み物", "おしゃべり"],
        ["quiet_room", "small_group"],
        True,
        None,
        None,
        "材料費実費",
    ),
    (
        "npo_cafe",
        "中央図書館 ゆるっと読書会",
        "other",
        "中央",
        "みどり市中央2-1 図書館 会議室",
        "第3土曜 14:00-15:30",
        ["anyone"],
        ["読書", "語り合い"],
        ["quiet_room", "wheelchair", "written_conversation"],
        False,
        None,
        None,
        "無料",
    ),
]


@transaction.atomic
def seed(stdout, base) -> None:
    """Create or update the demo places; running it twice creates nothing new."""
    orgs = base["organizations"]
    places = {}
    for (key, name, kind, area, address, schedule, targets, activities, accommodations,
         referrals, min_age, max_age, cost) in PLACES:  # fmt: skip
        operator = orgs[key]
        place = Place.objects.filter(operator=operator, name=name).first() or Place(operator=operator, name=name)
        place.kind, place.area, place.address = kind, area, address
        place.target_groups, place.activities, place.accommodations = targets, activities, accommodations
        place.accepts_referrals, place.min_age, place.max_age, place.cost = referrals, min_age, max_age, cost
        place.description = f"{area}地区の{name}です。はじめての方は見学からどうぞ。"
        place.contact_phone = operator.phone or "0000-00-0000"
        place.pledge_signed_on = date(2025, 4, 1) if referrals else None
        place.honorarium_terms = "活動1回につき1,000円（参加支援の受け入れ時）" if referrals else ""
        place.is_active = True
        places[name] = place_save(place=place, schedules=parse_schedules(schedule), by=None)
    base["places"] = places
    stdout.write(f"居場所: {len(places)} 件")
