"""Places as Excel-friendly CSV (UTF-8 with BOM, or cp932 with a report) or XLSX."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.spreadsheets import Replacement, build_xlsx, encode_csv
from places.resources import PlaceResource


@dataclass
class ExportFile:
    content: bytes
    content_type: str
    extension: str
    replacements: list[Replacement] = field(default_factory=list)


def export_places(queryset, *, file_format: str = "csv", encoding: str = "utf-8-sig") -> ExportFile:
    """Export places through PlaceResource (every text cell formula-neutralised)."""
    dataset = PlaceResource().export(queryset)
    header = list(dataset.headers)
    rows = [list(row) for row in dataset]
    if file_format == "xlsx":
        content = build_xlsx([("居場所", header, rows)])
        return ExportFile(content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    content, replacements = encode_csv(header, rows, encoding=encoding)
    # Windows-31J is the registered MIME name of cp932.
    charset = "Windows-31J" if encoding == "cp932" else "utf-8"
    return ExportFile(content, f"text/csv; charset={charset}", "csv", replacements)
