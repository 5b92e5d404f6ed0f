"""Japanese text and date helpers: furigana, name search keys, wareki (和暦) and 年度.

Pure Python on purpose: these run in forms, imports and exports alike, and must import
without Django settings configured. Every error message is Japanese because it reaches
the caseworker as it is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

__all__ = [
    "ERAS",
    "Era",
    "address_key",
    "age_band",
    "age_on",
    "era_short_prefix",
    "fiscal_year",
    "fiscal_year_label",
    "fiscal_year_range",
    "fold_case_number",
    "format_wareki",
    "is_case_number",
    "is_katakana_reading",
    "normalize_case_number",
    "parse_date",
    "phone_key",
    "search_key",
    "staff_name",
    "to_katakana_reading",
    "trigram_similarity",
    "with_honorific",
    "wareki_year",
]

# ---------------------------------------------------------------------------
# Furigana (読み仮名)
# ---------------------------------------------------------------------------

# Half-width katakana from ･ (U+FF65) to ﾟ (U+FF9F). The half-width brackets and
# punctuation before U+FF65 are not kana, so they are left alone.
_HALFWIDTH_KANA_RUN = re.compile("[\uff65-\uff9f]+")
# Hiragana letters ぁ..ゖ and the iteration marks ゝゞ sit exactly 0x60 below katakana.
_HIRAGANA = re.compile("[\u3041-\u3096\u309d\u309e]")
_KANA_OFFSET = 0x60
# A kana followed by a voicing mark, combining (U+3099/U+309A) or spacing (U+309B/U+309C):
# IMEs, macOS (NFD) and half-width conversion all produce these split forms.
_KANA_WITH_MARK = re.compile("([\u3041-\u3096\u309d\u30a1-\u30fa\u30fd])([\u3099-\u309c])")
_SPACING_TO_COMBINING = {"\u309b": "\u3099", "\u309c": "\u309a"}
# A voicing mark that attached to nothing is shown as the visible spacing mark, so
# is_katakana_reading() rejects it instead of it silently decorating the previous character.
_COMBINING_TO_SPACING = str.maketrans({"\u3099": "\u309b", "\u309a": "\u309c"})
_SPACES = re.compile(r"[\s\u3000]+")
_FULLWIDTH_SPACE = "\u3000"

# ァ..ヺ (includes ヴ ヵ ヶ), ・, ー, ヽヾ and the full-width space.
_KATAKANA_READING = re.compile("[\u30a1-\u30fa\u30fb\u30fc\u30fd\u30fe\u3000]+")


def _hiragana_to_katakana(text: str) -> str:
    """Shift hiragana letters and iteration marks to their katakana code points."""
    return _HIRAGANA.sub(lambda m: chr(ord(m.group()) + _KANA_OFFSET), text)


def _compose_mark(match: re.Match[str]) -> str:
    """Merge one kana with its voicing mark when Unicode has the composed letter."""
    base, mark = match.group(1), match.group(2)
    composed = unicodedata.normalize("NFC", base + _SPACING_TO_COMBINING.get(mark, mark))
    # No composed letter exists (e.g. ア + ゛): keep what the user typed.
    return composed if len(composed) == 1 else base + mark


def to_katakana_reading(text: str) -> str:
    """Normalise a furigana input to full-width katakana with single full-width spaces."""
    # NFKC only on the half-width kana runs: applied to the whole text it would also fold
    # compatibility ideographs and full-width letters that are not ours to change.
    text = _HALFWIDTH_KANA_RUN.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = _hiragana_to_katakana(text)
    text = _KANA_WITH_MARK.sub(_compose_mark, text)
    text = text.translate(_COMBINING_TO_SPACING)
    return _SPACES.sub(_FULLWIDTH_SPACE, text).strip(_FULLWIDTH_SPACE)


def is_katakana_reading(text: str) -> bool:
    """Whether text is a non-blank reading of full-width katakana, ー, ・ and full-width spaces."""
    return bool(_KATAKANA_READING.fullmatch(text)) and bool(text.strip(_FULLWIDTH_SPACE))


# ---------------------------------------------------------------------------
# Search keys for names
# ---------------------------------------------------------------------------

# 異体字 → usual form. Only for the search key: the registered name keeps the exact glyph
# the person uses, which matters on official documents. CJK compatibility ideographs
# (U+F900-U+FAFF) are already folded by NFKC, except the twelve "unified" ones in that block
# (such as 﨑 U+FA11 and 﨔 U+FA14) which NFKC leaves alone, hence their entries here.
_VARIANT_FOLDS = str.maketrans(
    {
        "髙": "高",
        "﨑": "崎",
        "嵜": "崎",
        "邊": "辺",
        "邉": "辺",
        "濵": "浜",
        "濱": "浜",
        "斎": "斉",
        "齋": "斉",
        "齊": "斉",
        "廣": "広",
        "國": "国",
        "澤": "沢",
        "櫻": "桜",
        "槇": "槙",
        "冨": "富",
        "德": "徳",
        "眞": "真",
        "瀨": "瀬",
        "髮": "髪",
        "惠": "恵",
        "壽": "寿",
        "藏": "蔵",
        "龍": "竜",
        "實": "実",
        "彌": "弥",
        "與": "与",
        "曻": "昇",
        "淸": "清",
        "靑": "青",
        "﨔": "欅",
        "\U00020bb7": "吉",  # 𠮷 (つちよし), outside the BMP
    }
)

# Variation selectors (VS1-16 and the ideographic variation sequences' VS17-256) pick a glyph,
# not a different name, so the key ignores them.
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# Middle dots separate given and family names inconsistently (ジョン・スミス / ジョンスミス), and
# zero-width characters arrive invisibly from copy and paste.
_IGNORED_IN_KEY = frozenset("\u00b7\u2027\u30fb\uff65\u200b\u200c\u200d\u2060\ufeff")
# Each pass can expose work for another (removing a space lets a combining mark meet a base
# letter; NFKC turns ゛ into a space plus a mark), so the key is folded to a fixed point.
_MAX_FOLD_PASSES = 8


def _fold_once(text: str) -> str:
    """One pass of the search-key folding."""
    text = _VARIATION_SELECTORS.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_VARIANT_FOLDS)
    text = _hiragana_to_katakana(text).lower()
    return "".join(c for c in text if not c.isspace() and c not in _IGNORED_IN_KEY)


def search_key(text: str) -> str:
    """Fold a name into a key for matching; never store the result as the name itself."""
    # NFKC, the 異体字 table and the kana/case folding apply to this key only. The caller's
    # string is not modified (and must not be replaced by the key): 髙橋 stays 髙橋 on record.
    key = text
    for _ in range(_MAX_FOLD_PASSES):
        folded = _fold_once(key)
        if folded == key:
            break
        key = folded
    return key


# ---------------------------------------------------------------------------
# Wareki (和暦)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Era:
    """A Japanese era: its name, its one-letter abbreviation and its first day."""

    name: str
    letter: str
    start: date


# Oldest first. 明治 starts on 1868-10-23 by the convention this app follows (the
# proclamation date); dates before it cannot be written in wareki here.
ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 10, 23)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("令和", "R", date(2019, 5, 1)),
)
_ERA_BY_NAME = {era.name: era for era in ERAS}
_ERA_BY_LETTER = {era.letter: era for era in ERAS}
_WEEKDAYS = "月火水木金土日"


def _era_of(d: date) -> Era:
    """The era in force on d."""
    for era in reversed(ERAS):
        if d >= era.start:
            return era
    raise ValueError(f"{d.year}年{d.month}月{d.day}日は明治より前のため和暦で表せません")


def _next_era(era: Era) -> Era | None:
    """The era after this one, or None for the current era."""
    index = ERAS.index(era)
    return ERAS[index + 1] if index + 1 < len(ERAS) else None


def _year_text(era: Era, year: int) -> str:
    """Era year as written: 元年 for year 1, else the number (令和7年)."""
    return f"{era.name}{'元' if year == 1 else year}年"


def wareki_year(d: date) -> str:
    """The wareki year of d, e.g. "令和7年" or "令和元年"."""
    era = _era_of(d)
    return _year_text(era, d.year - era.start.year + 1)


def format_wareki(d: date, *, with_weekday: bool = False) -> str:
    """Format d as "令和元年5月1日", optionally followed by the weekday as "（水）"."""
    text = f"{wareki_year(d)}{d.month}月{d.day}日"
    return f"{text}（{_WEEKDAYS[d.weekday()]}）" if with_weekday else text


# Matched against the NFKC form of the input, so full-width digits, letters and
# punctuation, and the square era signs ㍻ ㋿, arrive here as ASCII and kanji.
# [0-9], not \d: \d would also accept other scripts' digits, which is guessing.
_S = r"\s*"
_GREGORIAN_SEPARATED = re.compile(
    rf"(?P<y>[0-9]{{4}}){_S}(?P<sep>[-/.]){_S}(?P<m>[0-9]{{1,2}}){_S}(?P=sep){_S}(?P<d>[0-9]{{1,2}})"
)
_GREGORIAN_KANJI = re.compile(
    rf"(?:西暦{_S})?(?P<y>[0-9]{{4}}){_S}年{_S}(?P<m>[0-9]{{1,2}}){_S}月{_S}(?P<d>[0-9]{{1,2}}){_S}日"
)
_ERA_TOKEN = "|".join([*_ERA_BY_NAME, *_ERA_BY_LETTER, *(k.lower() for k in _ERA_BY_LETTER)])
_WAREKI = re.compile(
    rf"(?P<era>{_ERA_TOKEN}){_S}(?P<y>元|[0-9]{{1,4}}){_S}"
    rf"(?:年{_S}(?P<m1>[0-9]{{1,2}}){_S}月{_S}(?P<d1>[0-9]{{1,2}}){_S}日"
    rf"|(?P<sep>[-/.]){_S}(?P<m2>[0-9]{{1,2}}){_S}(?P=sep){_S}(?P<d2>[0-9]{{1,2}}))"
)
# An optional weekday as format_wareki(with_weekday=True) writes it; checked, not ignored.
_WEEKDAY_SUFFIX = re.compile(rf"(?P<body>.*?){_S}\({_S}(?P<wd>[{_WEEKDAYS}])(?:曜日?)?{_S}\)")


def _make_date(year: int, month: int, day: int, shown: str) -> date:
    """Build a date, turning the calendar's English error into a Japanese one."""
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{shown}は存在しない日付です") from None


def _parse_wareki(era: Era, year_text: str, month: int, day: int) -> date:
    """Resolve an era date, rejecting years and days outside that era."""
    year = 1 if year_text == "元" else int(year_text)
    if year < 1:
        raise ValueError(f"{era.name}{year}年は存在しません（元年または1以上の年を書いてください）")
    shown = f"{_year_text(era, year)}{month}月{day}日"
    d = _make_date(era.start.year + year - 1, month, day, shown)
    if d < era.start:
        raise ValueError(f"{shown}は存在しません（{era.name}は{format_wareki(era.start)}からです）")
    following = _next_era(era)
    if following is not None and d >= following.start:
        raise ValueError(f"{shown}は存在しません（{format_wareki(following.start)}以降は{following.name}です）")
    return d


def parse_date(text: str) -> date:
    """Read a Gregorian or wareki date strictly, raising ValueError with a Japanese message."""
    original = text
    # NFKC on a working copy only: full-width digits and slashes become ASCII, ㍻ becomes 平成.
    text = unicodedata.normalize("NFKC", text).strip()
    weekday: str | None = None
    if m := _WEEKDAY_SUFFIX.fullmatch(text):
        text, weekday = m.group("body"), m.group("wd")

    d: date | None = None
    if m := _GREGORIAN_SEPARATED.fullmatch(text) or _GREGORIAN_KANJI.fullmatch(text):
        year, month, day = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        d = _make_date(year, month, day, f"{year}年{month}月{day}日")
    elif m := _WAREKI.fullmatch(text):
        token = m.group("era")
        era = _ERA_BY_NAME.get(token) or _ERA_BY_LETTER[token.upper()]
        month = int(m.group("m1") or m.group("m2"))
        day = int(m.group("d1") or m.group("d2"))
        d = _parse_wareki(era, m.group("y"), month, day)
    if d is None:
        raise ValueError(f"日付として読めません: {original}")
    if weekday is not None and _WEEKDAYS[d.weekday()] != weekday:
        raise ValueError(
            f"曜日が合いません: {original}（{d.year}年{d.month}月{d.day}日は{_WEEKDAYS[d.weekday()]}曜日です）"
        )
    return d


# ---------------------------------------------------------------------------
# 年度 (fiscal years, April to March)
# ---------------------------------------------------------------------------


_FISCAL_YEAR_FIRST_MONTH = 4  # 年度 start on April 1 (地方自治法 208条)


def fiscal_year(d: date) -> int:
    """The 年度 of d, named by the calendar year in which it starts on April 1."""
    return d.year if d.month >= _FISCAL_YEAR_FIRST_MONTH else d.year - 1


def fiscal_year_range(fy: int) -> tuple[date, date]:
    """First and last day of 年度 fy: April 1 to March 31 of the next year."""
    return date(fy, 4, 1), date(fy + 1, 3, 31)


def _fiscal_era(fy: int) -> tuple[Era, int]:
    """The era and era year used to name 年度 fy."""
    # Municipal convention names a 年度 after its calendar year's era as finally known:
    # FY2019 began under 平成 on 2019-04-01 yet is called 令和元年度, and FY1988 stays 昭和63年度.
    # Taking the era in force on December 31 of fy gives exactly that.
    era = _era_of(date(fy, 12, 31))
    return era, fy - era.start.year + 1


def fiscal_year_label(fy: int) -> str:
    """The wareki label of 年度 fy, e.g. "令和7年度" for 2025 and "令和元年度" for 2019."""
    era, year = _fiscal_era(fy)
    return f"{_year_text(era, year)}度"


def era_short_prefix(fy: int) -> str:
    """The short era prefix of 年度 fy used in case numbers, e.g. "R7" or "H30"."""
    era, year = _fiscal_era(fy)
    return f"{era.letter}{year}"


# ---------------------------------------------------------------------------
# Staff names
# ---------------------------------------------------------------------------


def staff_name(user) -> str:
    """A staff member's name as Japanese screens and forms write it, family name first (佐藤　美咲).

    The one helper for every header, list, export and printed form; the login id when no name is set.
    """
    if user is None:
        return ""
    family, given = (getattr(user, "last_name", "") or "").strip(), (getattr(user, "first_name", "") or "").strip()
    return f"{family}\u3000{given}".strip("\u3000") or getattr(user, "username", "")


_HONORIFICS = ("さん", "さま", "様", "ちゃん", "くん", "君", "氏", "殿", "先生")


def with_honorific(name: str) -> str:
    """Add さん to a name unless it already carries an honorific (あかりちゃん, not あかりちゃんさん)."""
    name = (name or "").strip()
    if not name or name.endswith(_HONORIFICS):
        return name
    return f"{name}さん"


# ---------------------------------------------------------------------------
# Case numbers (R7-000123)
# ---------------------------------------------------------------------------

# Every dash an IME or a word processor may put between the era year and the sequence:
# hyphen-minus, hyphen, non-breaking hyphen, figure dash, en/em dash, horizontal bar, minus
# sign, katakana prolonged sound mark and its half-width form (NFKC leaves the last ones alone).
_CASE_NUMBER_DASHES = re.compile("[\\-\u2010-\u2015\u2212\u30fc\uff70\u2500]")
_CASE_NUMBER = re.compile(r"(?P<era>[A-Z])0*(?P<year>[0-9]{1,3})-(?P<seq>[0-9]{1,6})")
CASE_NUMBER_DIGITS = 6


def fold_case_number(text: str) -> str:
    """Fold a typed case number or a fragment of one: NFKC, upper case, one kind of dash, no spaces."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    return re.sub(r"\s+", "", _CASE_NUMBER_DASHES.sub("-", folded))


def normalize_case_number(text: str) -> str:
    """Return a typed case number in the stored form: Ｒ８－０００００７, R8-7 and r8-7 all become R8-000007.

    Text that is not a whole case number (a part typed into a search box) comes back folded
    (see fold_case_number), so it can still be matched as a fragment.
    """
    folded = fold_case_number(text)
    if m := _CASE_NUMBER.fullmatch(folded):
        return f"{m.group('era')}{int(m.group('year'))}-{int(m.group('seq')):0{CASE_NUMBER_DIGITS}d}"
    return folded


def is_case_number(text: str) -> bool:
    """Whether the text, once normalised, is a whole case number."""
    return bool(_CASE_NUMBER.fullmatch(normalize_case_number(text)))


# ---------------------------------------------------------------------------
# Age
# ---------------------------------------------------------------------------


def age_on(birth: date, on: date) -> int:
    """Age in whole years on a day, counted up on the birthday (Feb 29 births: on March 1)."""
    # The ordinary calendar rule that people expect on screen. The legal rule (年齢計算ニ関スル
    # 法律: one day earlier) matters for eligibility cut-offs and must be handled there.
    if on < birth:
        raise ValueError("基準日が生年月日より前です")
    # Tuple comparison makes a Feb 29 birthday count as passed on March 1 in common years.
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_band(age: int) -> str:
    """A coarse age band for statistics: "10歳未満", "10代" … "80代", "90歳以上"."""
    if age < 0:
        raise ValueError("年齢が負の値です")
    if age < 10:
        return "10歳未満"
    if age >= 90:
        return "90歳以上"
    return f"{age // 10 * 10}代"


# ---------------------------------------------------------------------------
# Comparing records (名寄せ): keys only, never stored as the record's value
# ---------------------------------------------------------------------------


def phone_key(text: str) -> str:
    """Return the ASCII digits of a phone number typed any way (０３－１２３４, 03(1234)), for comparison only."""
    return "".join(c for c in unicodedata.normalize("NFKC", text or "") if "0" <= c <= "9")


def address_key(text: str) -> str:
    """Return an address folded for comparison: search_key, with 丁目・番地・番・号 written as hyphens."""
    key = search_key(text or "")
    key = re.sub(r"(\d)(?:丁目|番地|番|の)(?=\d)", r"\1-", key)
    key = re.sub(r"(\d)(?:号|番地|番)$", r"\1", key)
    # A long-vowel mark or a minus typed between digits is a hyphen (2ー3ー4 typed with the IME).
    return re.sub(r"(?<=\d)[ー−‐―](?=\d)", "-", key)


def _trigrams(text: str) -> set[str]:
    # pg_trgm's rule: each run of letters and digits is padded with two spaces before and one after.
    grams: set[str] = set()
    for word in re.findall(r"\w+", text):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: str, b: str) -> float:
    """Return pg_trgm's similarity of two strings (shared trigrams / all trigrams), computed in Python."""
    left, right = _trigrams(a), _trigrams(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)
