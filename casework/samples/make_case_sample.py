"""Write a case-migration file as an older system exports it: cp932, CRLF, 和暦 birth dates, full-width digits.

Run: python -m casework.samples.make_case_sample [rows] [out.csv] [org1,org2]. The committed
cases_sample_cp932.csv (the demo's file) is 24 rows for the demo's organizations; the tests build
1,000 rows for theirs with build_sample().
"""

from __future__ import annotations

import csv
import io
import random
import sys
from pathlib import Path

HEADER = [
    "世帯番号",
    "世帯名",
    "個人ID",
    "氏",
    "名",
    "氏フリガナ",
    "名フリガナ",
    "生年月日",
    "性別",
    "続柄",
    "電話番号",
    "ケース番号",
    "分野",
    "状態",
    "主担当機関",
    "受付日",
    "終結日",
    "相談経路",
    "主な相談内容",
    "主訴",
    "同意日",
    "同意方法",
    "同意説明者",
    "支援経過日",
    "支援経過種別",
    "支援経過内容",
    "支援経過記録者",
]
# cp932-only characters on purpose (髙, 﨑, ①): shift_jis cannot read them.
FAMILY = [("髙橋", "タカハシ"), ("山﨑", "ヤマサキ"), ("佐藤", "サトウ"), ("渡邊", "ワタナベ"), ("斉藤", "サイトウ")]
GIVEN = [
    ("一郎", "イチロウ"),
    ("ハル", "ハル"),
    ("美咲", "ミサキ"),
    ("健太", "ケンタ"),
    ("トメ", "トメ"),
    ("陽向", "ヒナタ"),
]
DOMAINS = ["高齢", "障害", "子ども", "生活困窮", "高齢・障害", "子ども・生活困窮"]
STATES = [("受付", ""), ("支援中", ""), ("終結", "R7.3.31")]
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def _wareki_birth(rng: random.Random) -> str:
    year = rng.randint(20, 63)  # 昭和20年〜63年
    text = f"昭和{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
    # Some windows typed with the IME in full-width mode.
    return text.translate(FULL) if rng.random() < 0.3 else text


def build_rows(count: int, organizations: list[str], seed: int = 2026) -> list[list[str]]:
    """count rows: households of one to three persons, one case per household."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible sample data, not a secret
    rows: list[list[str]] = []
    household = 0
    while len(rows) < count:
        household += 1
        family, family_kana = FAMILY[household % len(FAMILY)]
        size = min(rng.randint(1, 3), count - len(rows))
        state, closed = STATES[household % len(STATES)]
        org = organizations[household % len(organizations)]
        for member in range(size):
            given, given_kana = GIVEN[(household + member) % len(GIVEN)]
            subject = member == 0
            rows.append(
                [
                    f"H{household:05d}",
                    f"{family}世帯",
                    f"P{household:05d}-{member + 1}",
                    family,
                    given,
                    family_kana,
                    given_kana,
                    _wareki_birth(rng),
                    "男" if (household + member) % 2 else "女",
                    "本人" if subject else ["子", "配偶者", "親"][member % 3],
                    f"０９０-{household % 10000:04d}-{member:04d}" if subject else "",
                    f"K{household:05d}" if subject else "",
                    DOMAINS[household % len(DOMAINS)] if subject else "",
                    state if subject else "",
                    org if subject else "",
                    "令和6年4月1日" if subject else "",
                    closed if subject else "",
                    "本人" if subject else "",
                    "その他" if subject else "",
                    "家計と通院の相談①" if subject else "",
                    "R6.4.10" if subject else "",
                    "書面" if subject else "",
                    "相談員 山口" if subject else "",
                    "2024/04/15" if subject else "",
                    "訪問" if subject else "",
                    "自宅を訪問し、生活の状況を確認した。" if subject else "",
                    "相談員 山口" if subject else "",
                ]
            )
    return rows


def build_sample(count: int, organizations: list[str], seed: int = 2026) -> bytes:
    """The file's bytes: cp932 with CRLF, as Excel on Japanese Windows saves 「CSV（コンマ区切り）」."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(build_rows(count, organizations, seed))
    return buffer.getvalue().encode("cp932")


DEMO_ORGANIZATIONS = ["みなみ地域包括支援センター", "障害者相談支援センターあおば", "こども家庭センター"]

if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).with_name("cases_sample_cp932.csv")
    orgs = sys.argv[3].split(",") if len(sys.argv) > 3 else DEMO_ORGANIZATIONS
    out.write_bytes(build_sample(count, orgs))
    print(f"{out}: {count} rows")
