"""Building places files for the import tests."""

import csv
import io

HEADER = ["外部ID", "運営団体", "名称", "種別", "地区", "開催日時", "対象", "活動", "配慮", "参加支援の受入"]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(operator, name, *, external_id="", kind="コミュニティカフェ", area="中央", schedule="毎週水曜 10:00-12:00"):
    return [external_id, operator, name, kind, area, schedule, "どなたでも", "料理、手芸", "車いす可", "はい"]
