"""Tests for core.japanese: furigana, name search keys, wareki, 年度 and ages."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.japanese import (
    age_band,
    age_on,
    era_short_prefix,
    fiscal_year,
    fiscal_year_label,
    fiscal_year_range,
    format_wareki,
    is_katakana_reading,
    parse_date,
    search_key,
    to_katakana_reading,
    wareki_year,
)

# --- furigana ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ｶﾞｯｺｳ", "ガッコウ"),
        ("がっこう", "ガッコウ"),
        ("ﾊﾟﾝ", "パン"),
        ("ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"),
        ("ゔぁいおりん", "ヴァイオリン"),
        ("ｺｰﾋｰ･ﾀｲﾑ", "コーヒー・タイム"),
        ("か\u3099", "ガ"),  # combining dakuten, as macOS sends it
        ("ハ\u309a", "パ"),
        ("  やまだ \u3000 たろう\u3000", "ヤマダ\u3000タロウ"),
        ("ヤマダ　タロウ", "ヤマダ　タロウ"),
    ],
)
def test_to_katakana_reading(text, expected):
    assert to_katakana_reading(text) == expected
    assert is_katakana_reading(to_katakana_reading(text))


def test_to_katakana_reading_leaves_other_characters_alone():
    # Kanji, compatibility ideographs, Latin and full-width letters are not kana: untouched.
    assert to_katakana_reading("山田\ufa19ＡＢ1") == "山田\ufa19ＡＢ1"


def test_stray_voicing_mark_stays_visible():
    # ア has no voiced form: keep the mark visible so the validator rejects it.
    reading = to_katakana_reading("ｱﾞ")
    assert reading == "ア゛"
    assert not is_katakana_reading(reading)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("ヤマダ　タロウ", True),
        ("ヴィー・エー", True),
        ("やまだ", False),
        ("ﾔﾏﾀﾞ", False),
        ("ヤマダ タロウ", False),  # ASCII space
        ("山田", False),
        ("", False),
        ("\u3000", False),
    ],
)
def test_is_katakana_reading(text, ok):
    assert is_katakana_reading(text) is ok


# --- search keys ------------------------------------------------------------


def test_search_key_folds_variant_kanji():
    assert search_key("髙橋") == search_key("高橋")
    assert search_key("渡邊") == search_key("渡邉") == search_key("渡辺")
    assert search_key("山﨑") == search_key("山嵜") == search_key("山崎")
    assert search_key("齋藤") == search_key("齊藤") == search_key("斎藤") == search_key("斉藤")
    assert search_key("濵田") == search_key("濱田") == search_key("浜田")


def test_search_key_non_bmp_tsuchiyoshi():
    tsuchiyoshi_da = "\U00020bb7田"  # 𠮷田
    assert len(tsuchiyoshi_da) == 2  # One code point outside the BMP, not a surrogate pair.
    assert search_key(tsuchiyoshi_da) == search_key("吉田")
    assert search_key("\U00020bb7") != ""


def test_search_key_compatibility_ideograph_only_in_key():
    stored = "\ufa19"  # 神 compatibility ideograph, as registered
    assert search_key(stored) == search_key("\u795e")
    # Folding happens in the key only: the stored name keeps its code point everywhere.
    assert stored == "\ufa19"
    assert to_katakana_reading(stored) == "\ufa19"
    assert search_key(stored) != stored


def test_search_key_kana_width_case_spaces_and_dots():
    assert search_key("やまだ たろう") == search_key("ﾔﾏﾀﾞ　ﾀﾛｳ") == search_key("ヤマダタロウ")
    assert search_key("ジョン・スミス") == search_key("ｼﾞｮﾝ･ｽﾐｽ") == search_key("ジョンスミス")
    assert search_key("ＳＭＩＴＨ John") == "smithjohn"


def test_search_key_strips_variation_selectors():
    assert search_key("葛\U000e0100飾") == search_key("葛飾")
    assert search_key("辻\ufe00") == search_key("辻")


@given(st.text())
def test_search_key_is_idempotent(text):
    key = search_key(text)
    assert search_key(key) == key


@given(st.text(alphabet=st.sampled_from("髙﨑邊邉濵齋神神𠮷あがﾊﾟﾞ゛゜\u3099・･ 　\ufe00ＡaＢ")))
def test_search_key_is_idempotent_on_japanese_names(text):
    key = search_key(text)
    assert search_key(key) == key


# --- wareki -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2025, 4, 1), "令和7年4月1日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
    ],
)
def test_format_wareki(d, text):
    assert format_wareki(d) == text
    assert parse_date(text) == d


def test_format_wareki_with_weekday_and_year():
    assert format_wareki(date(2019, 5, 1), with_weekday=True) == "令和元年5月1日（水）"
    assert wareki_year(date(2025, 6, 1)) == "令和7年"
    assert wareki_year(date(2019, 5, 1)) == "令和元年"
    with pytest.raises(ValueError, match="明治より前"):
        format_wareki(date(1868, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-05-01", date(2019, 5, 1)),
        ("2019/5/1", date(2019, 5, 1)),
        ("2019年5月1日", date(2019, 5, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("R1.5.1", date(2019, 5, 1)),
        ("R01/05/01", date(2019, 5, 1)),
        ("r1.5.1", date(2019, 5, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("S50.1.1", date(1975, 1, 1)),
        ("昭和50年1月1日", date(1975, 1, 1)),
        ("令和７年４月１日", date(2025, 4, 1)),
        ("２０２５／０４／０１", date(2025, 4, 1)),
        ("Ｒ７．４．１", date(2025, 4, 1)),
        (" 令和 7 年 4 月 1 日 ", date(2025, 4, 1)),
        ("\u3000令和7年4月1日\u3000", date(2025, 4, 1)),
        ("㋿7年4月1日", date(2025, 4, 1)),  # square era sign, via NFKC
        ("令和元年5月1日（水）", date(2019, 5, 1)),
        ("T1.7.30", date(1912, 7, 30)),
        ("M45.7.29", date(1912, 7, 29)),
    ],
)
def test_parse_date_accepts(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("平成31年5月1日", "平成31年5月1日は存在しません（令和元年5月1日以降は令和です）"),
        ("H31.5.1", "令和元年5月1日以降は令和です"),
        ("平成32年1月1日", "存在しません"),
        ("令和0年5月1日", "令和0年は存在しません"),
        ("R0.5.1", "令和0年は存在しません"),
        ("令和元年4月30日", "令和は令和元年5月1日からです"),
        ("昭和64年1月8日", "平成元年1月8日以降は平成です"),
        ("2019-02-29", "存在しない日付"),
        ("令和元年2月29日", "日付として読めません|存在"),
        ("2019-13-01", "存在しない日付"),
        ("2019-5/1", "日付として読めません"),
        ("19-5-1", "日付として読めません"),
        ("令和7年4月", "日付として読めません"),
        ("X7.4.1", "日付として読めません"),
        ("令和七年四月一日", "日付として読めません"),
        ("", "日付として読めません"),
        ("令和元年5月1日（木）", "曜日が合いません"),
    ],
)
def test_parse_date_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        parse_date(text)


@given(st.dates(min_value=date(1989, 1, 8), max_value=date(2100, 12, 31)), st.booleans())
def test_parse_date_round_trips_format_wareki(d, with_weekday):
    assert parse_date(format_wareki(d, with_weekday=with_weekday)) == d


# --- 年度 -------------------------------------------------------------------


def test_fiscal_year_boundaries():
    assert fiscal_year(date(2026, 3, 31)) == 2025
    assert fiscal_year(date(2026, 4, 1)) == 2026
    assert fiscal_year(date(2025, 12, 31)) == 2025
    assert fiscal_year_range(2025) == (date(2025, 4, 1), date(2026, 3, 31))
    start, end = fiscal_year_range(2027)  # the range ends on March 31 even before a leap day
    assert fiscal_year(start) == fiscal_year(end) == 2027


@pytest.mark.parametrize(
    ("fy", "label", "prefix"),
    [
        (2025, "令和7年度", "R7"),
        (2019, "令和元年度", "R1"),  # began under 平成 but is called 令和元年度 by convention
        (2020, "令和2年度", "R2"),
        (2018, "平成30年度", "H30"),
        (1989, "平成元年度", "H1"),
        (1988, "昭和63年度", "S63"),
    ],
)
def test_fiscal_year_label_and_prefix(fy, label, prefix):
    assert fiscal_year_label(fy) == label
    assert era_short_prefix(fy) == prefix


# --- age --------------------------------------------------------------------


def test_age_on_leap_day_birthday():
    birth = date(2000, 2, 29)
    assert age_on(birth, date(2001, 2, 28)) == 0
    assert age_on(birth, date(2001, 3, 1)) == 1
    assert age_on(birth, date(2004, 2, 28)) == 3
    assert age_on(birth, date(2004, 2, 29)) == 4


def test_age_on_ordinary_birthday():
    birth = date(1980, 6, 15)
    assert age_on(birth, date(2025, 6, 14)) == 44
    assert age_on(birth, date(2025, 6, 15)) == 45
    assert age_on(birth, birth) == 0
    with pytest.raises(ValueError):
        age_on(birth, date(1980, 6, 14))


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "10歳未満"),
        (9, "10歳未満"),
        (10, "10代"),
        (19, "10代"),
        (45, "40代"),
        (89, "80代"),
        (90, "90歳以上"),
        (105, "90歳以上"),
    ],
)
def test_age_band(age, band):
    assert age_band(age) == band


def test_age_band_rejects_negative():
    with pytest.raises(ValueError):
        age_band(-1)
