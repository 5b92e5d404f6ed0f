"""Write places_sample_cp932.csv: a places file as Japanese Excel saves it (cp932, CRLF).

Run: python places/samples/make_sample.py (the file is committed; rerun after editing ROWS).
"""

import csv
import io
from pathlib import Path

HEADER = [
    "外部ID",
    "運営団体",
    "名称",
    "種別",
    "地区",
    "住所",
    "開催日時",
    "対象",
    "活動",
    "配慮",
    "費用",
    "参加支援の受入",
    "誓約書提出日",
    "担当者",
    "電話番号",
]
ROWS = [
    [
        "SAMPLE-001",
        "NPO法人 まちの縁側",
        "縁側カフェ①号店",
        "コミュニティカフェ",
        "中央",
        "みどり市中央3-1 ㈱みどり商店 2階",
        "毎週月曜 10:00-12:00",
        "どなたでも",
        "お茶、おしゃべり",
        "車いす可、静かな部屋",
        "100円",
        "はい",
        "令和7年4月1日",
        "髙田",
        "0000-11-2222",
    ],
    [
        "SAMPLE-002",
        "みどり子ども食堂の会",
        "髙橋さんちの子ども食堂",
        "子ども食堂",
        "東",
        "みどり市東原1-2",
        "第2・第4土曜 11:00～14:00",
        "子ども、子育て家庭",
        "料理、食事",
        "アレルギー対応、子連れ可",
        "子ども無料",
        "はい",
        "2025/05/10",
        "髙橋",
        "0000-22-3333",
    ],
    [
        "SAMPLE-003",
        "ひだまりサロン運営委員会",
        "ひだまり体操教室②",
        "通いの場",
        "北",
        "みどり市北町2-3",
        "毎週水曜 10:00-11:00、第1金曜 13:00-14:30",
        "高齢者",
        "体操、歌",
        "車いす可、送迎あり",
        "無料",
        "いいえ",
        "",
        "山田",
        "0000-33-4444",
    ],
]


def main() -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    # cp932, never shift_jis: ①, ㈱ and 髙 exist only in cp932's extensions.
    Path(__file__).with_name("places_sample_cp932.csv").write_bytes(buffer.getvalue().encode("cp932"))


if __name__ == "__main__":
    main()
