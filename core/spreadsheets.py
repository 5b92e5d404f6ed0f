"""CSV and XLSX helpers that behave well with Excel on Japanese Windows.

Pure Python (openpyxl is imported only inside build_xlsx and read_xlsx_rows) so that it imports without
Django settings configured. Error messages are Japanese because they reach users as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

__all__ = [
    "GETA",
    "DecodeError",
    "Replacement",
    "build_xlsx",
    "decode_csv_bytes",
    "encode_csv",
    "neutralise_formula",
    "read_csv_rows",
]

# Characters that make Excel (or LibreOffice) read a cell as a formula. Excel on a Japanese
# locale also evaluates the full-width ＝＋－＠ typed with the IME in full-width mode, and the
# minus sign − (U+2212) becomes ＝－ (0x817C) when written as cp932.
_FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20\u2212")


def neutralise_formula(value: Any) -> Any:
    """Prefix a string that a spreadsheet would run as a formula with "'"; others unchanged."""
    if isinstance(value, str) and value[:1] in _FORMULA_TRIGGERS:
        return "'" + value
    return value


def unneutralise_formula(value: Any) -> Any:
    """Undo neutralise_formula on a cell read back: drop the one "'" it put before a formula trigger.

    A file exported here and imported again would otherwise store 「'+81-3-…」 as the phone number,
    and one more "'" on every round trip.
    """
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in _FORMULA_TRIGGERS:
        return value[1:]
    return value


# ---------------------------------------------------------------------------
# Reading CSV
# ---------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"
_DECODE_ENCODINGS = frozenset({"auto", "utf-8", "cp932"})
# Python's cp932 decodes the single bytes 0x80, 0xA0 and 0xFD-0xFF (never valid Shift_JIS)
# to U+0080 and private-use U+F8F0-U+F8F3. Seeing them means the file is not cp932 text.
_CP932_NON_TEXT = re.compile("[\u0080\uf8f0-\uf8f3]")


class DecodeError(ValueError):
    """A CSV file's bytes are not text in a supported encoding; names the failing line."""

    def __init__(self, line: int) -> None:
        self.line = line
        self.message = f"{line}行目の文字コードを読み取れません（UTF-8 または cp932 で保存してください）"
        super().__init__(self.message)


def _line_of_offset(data: bytes, offset: int) -> int:
    """1-based physical line holding byte offset (CRLF, LF and lone CR all end a line)."""
    # Safe on cp932 too: its trail bytes are never 0x0A or 0x0D.
    prefix = data[:offset]
    return prefix.count(b"\n") + prefix.count(b"\r") - prefix.count(b"\r\n") + 1


def _line_of_index(text: str, index: int) -> int:
    """1-based physical line holding character index in decoded text."""
    prefix = text[:index]
    return prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") + 1


def _decode_utf8(data: bytes) -> str:
    """Strict UTF-8 with an optional BOM; UnicodeDecodeError offsets refer to data."""
    body_start = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[body_start:].decode("utf-8")
    except UnicodeDecodeError as error:
        # Report the offset in data, BOM included, so line counting sees the same bytes.
        error.start += body_start
        raise


def _decode_cp932(data: bytes) -> str:
    """Strict cp932, also refusing the bytes Python maps to placeholders rather than text."""
    text = data.decode("cp932")
    if match := _CP932_NON_TEXT.search(text):
        raise DecodeError(_line_of_index(text, match.start()))
    return text


# How many Japanese characters (kana, CJK, full-width forms) must have decoded as UTF-8
# before a failure for the file to count as UTF-8. cp932 bytes rarely form even one of them
# when read as UTF-8, and three before the first invalid byte practically never.
_UTF8_EVIDENCE = 3
_JAPANESE_CHARACTER = re.compile("[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _looks_like_japanese_utf8(valid_prefix: bytes) -> bool:
    """Whether the bytes before a UTF-8 error already held real Japanese UTF-8 text."""
    text = valid_prefix.removeprefix(_BOM).decode("utf-8")
    return len(_JAPANESE_CHARACTER.findall(text)) >= _UTF8_EVIDENCE


def decode_csv_bytes(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Decode an uploaded CSV strictly as UTF-8 (BOM or not) or cp932; returns (text, encoding)."""
    if encoding not in _DECODE_ENCODINGS:
        raise ValueError(f"対応していない文字コードです: {encoding}")
    utf8_name = "utf-8-sig" if data.startswith(_BOM) else "utf-8"
    if encoding == "cp932":
        try:
            return _decode_cp932(data), "cp932"
        except UnicodeDecodeError as error:
            raise DecodeError(_line_of_offset(data, error.start)) from None
    try:
        return _decode_utf8(data), utf8_name
    except UnicodeDecodeError as utf8_error:
        # A BOM says UTF-8 for certain, and so does an explicit choice: no fallback then.
        if encoding == "utf-8" or data.startswith(_BOM):
            raise DecodeError(_line_of_offset(data, utf8_error.start)) from None
        utf8_line = _line_of_offset(data, utf8_error.start)
        if _looks_like_japanese_utf8(data[: utf8_error.start]):
            # Japanese text read fine as UTF-8 up to here: the file is UTF-8 with a damaged
            # byte, or has cp932 rows pasted in. Falling back would turn it all into mojibake.
            raise DecodeError(utf8_line) from None
    # cp932, never shift_jis: Excel's "CSV" on Japanese Windows writes cp932, whose NEC and
    # IBM extensions (①, ㈱, 髙) shift_jis cannot decode.
    try:
        return _decode_cp932(data), "cp932"
    except UnicodeDecodeError as cp932_error:
        cp932_line = _line_of_offset(data, cp932_error.start)
    except DecodeError as cp932_error:
        cp932_line = cp932_error.line
    # Both failed. The decoder that read further is most likely the file's real encoding,
    # so its failure is the line the user should look at.
    raise DecodeError(max(utf8_line, cp932_line))


def read_csv_rows(data: bytes, encoding: str = "auto") -> tuple[list[str], list[dict[str, str]], str]:
    """Parse an uploaded CSV into (header, rows as dicts, encoding used)."""
    text, used = decode_csv_bytes(data, encoding)
    # newline="" hands line endings to the csv module, which handles CRLF, LF, lone CR and
    # newlines inside quoted cells; str.splitlines() would also split on U+2028 and friends.
    reader = csv.reader(io.StringIO(text, newline=""))
    records = iter(enumerate(reader, start=1))
    try:
        _, header = next(records, (0, []))
        # Excel leaves empty cells after the last used column; they are not columns.
        while header and header[-1] == "":
            header.pop()
        _check_header(header)
        rows: list[dict[str, str]] = []
        for number, record in records:
            if not any(record):
                continue  # Blank lines and rows of bare commas carry nothing.
            extra = record[len(header) :]
            if any(extra):
                raise ValueError(f"{number}行目に見出しより多くの値があります")
            cells = record[: len(header)] + [""] * (len(header) - len(record))
            rows.append(dict(zip(header, cells, strict=True)))
    except csv.Error as error:
        raise ValueError(f"CSVとして読めません（{reader.line_num}行目付近）: {error}") from None
    return header, rows, used


def _check_header(header: list[str]) -> None:
    """Refuse header rows that would make columns collide or vanish in the row dicts."""
    seen: set[str] = set()
    for column, name in enumerate(header, start=1):
        if name == "":
            raise ValueError(f"見出し行の{column}列目が空です")
        if name in seen:
            raise ValueError(f"見出し行に同じ列名が複数あります: {name}")
        seen.add(name)


# ---------------------------------------------------------------------------
# Writing CSV
# ---------------------------------------------------------------------------

# The geta mark: the Japanese typesetting convention for "this character cannot be shown".
GETA = "\u3013"
_ENCODE_ENCODINGS = frozenset({"utf-8-sig", "cp932"})
# Same character, different code point in cp932: write the cp932 form rather than a geta.
_CP932_EQUIVALENTS = {"\u2014": "\u2015", "\u00a5": "\uffe5"}  # — → ―, ¥ → ￥


class Replacement(NamedTuple):
    """A character cp932 cannot hold, replaced by 〓 (row 1 is the header, columns from 1)."""

    row: int
    column: int
    character: str


def _cell_text(value: Any) -> str:
    """A cell as CSV text, formula-neutralised when it is (or becomes) a string."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    # Everything else (str, lazy translations, model instances) is text a user may control.
    return neutralise_formula(str(value))


def _to_cp932(text: str, row: int, column: int, replaced: list[Replacement]) -> str:
    """Text cp932 can encode: known equivalents swapped, anything else made 〓 and recorded."""
    out: list[str] = []
    for original in text:
        char = _CP932_EQUIVALENTS.get(original, original)
        try:
            char.encode("cp932")
        except UnicodeEncodeError:
            replaced.append(Replacement(row, column, original))
            char = GETA
        out.append(char)
    return "".join(out)


def _neutralise_cp932(text: str) -> str:
    """Neutralise a cell whose first character, read back from cp932, starts a formula."""
    first = text[:1]
    if first and first.encode("cp932").decode("cp932") in _FORMULA_TRIGGERS:
        return "'" + text
    return text


def encode_csv(
    header: list[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8-sig"
) -> tuple[bytes, list[Replacement]]:
    """Write an Excel-ready CSV (CRLF, neutralised cells); returns (bytes, cp932 replacements)."""
    if encoding not in _ENCODE_ENCODINGS:
        raise ValueError(f"対応していない文字コードです: {encoding}")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    replaced: list[Replacement] = []
    for row_number, record in enumerate([header, *rows], start=1):
        cells = [_cell_text(value) for value in record]
        if encoding == "cp932":
            # Neutralise again after conversion: cp932 maps some characters onto formula triggers.
            cells = [
                _neutralise_cp932(_to_cp932(cell, row_number, column, replaced))
                for column, cell in enumerate(cells, start=1)
            ]
        writer.writerow(cells)
    # Every unencodable character was replaced above, so strict encoding cannot fail here.
    return buffer.getvalue().encode(encoding), replaced


# ---------------------------------------------------------------------------
# Writing XLSX
# ---------------------------------------------------------------------------

_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_MAX = 31
# Control characters the XLSX format cannot store (tab, LF and CR are allowed).
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _sheet_title(title: str, index: int, used: set[str]) -> str:
    """A title Excel accepts: no []:*?/\\, not quoted at the ends, 31 chars, unique."""
    clean = _SHEET_TITLE_FORBIDDEN.sub("", title).strip().strip("'")
    clean = clean[:_SHEET_TITLE_MAX] or f"Sheet{index}"
    candidate, n = clean, 2
    # Excel compares sheet names case-insensitively.
    while candidate.casefold() in used:
        suffix = f"({n})"
        candidate = clean[: _SHEET_TITLE_MAX - len(suffix)] + suffix
        n += 1
    used.add(candidate.casefold())
    return candidate


def _xlsx_value(value: Any) -> Any:
    """A cell value openpyxl writes safely: dates stay dates, text is neutralised."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            # Excel has no time zones; converting here would mean guessing the user's zone.
            raise ValueError("タイムゾーン付きの日時はExcelに書けません（現地時刻に変換してください）")
        return value
    if isinstance(value, date):
        return value
    # Replace rather than drop unstorable control characters, so nothing vanishes unseen.
    return neutralise_formula(_XLSX_ILLEGAL.sub(GETA, str(value)))


def build_xlsx(sheets: list[tuple[str, list[str], Iterable[Sequence[Any]]]]) -> bytes:
    """Build a workbook with one sheet per (title, header, rows); header bold, cells neutralised."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    bold = Font(bold=True)
    for index, (title, header, rows) in enumerate(sheets, start=1):
        sheet = workbook.create_sheet(_sheet_title(title, index, used))
        sheet.append([_xlsx_value(name) for name in header])
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        for row_index, record in enumerate(rows, start=2):
            for column, value in enumerate(record, start=1):
                cell = sheet.cell(row=row_index, column=column, value=_xlsx_value(value))
                # Japanese readers expect 2025/04/01 rather than openpyxl's ISO default.
                if isinstance(value, datetime):
                    cell.number_format = "yyyy/mm/dd hh:mm:ss"
                elif isinstance(value, date):
                    cell.number_format = "yyyy/mm/dd"
    if not sheets:
        # A workbook needs at least one sheet to open in Excel.
        workbook.create_sheet("Sheet1")
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


class SheetProblem(ValueError):
    """An upload that cannot be read as a workbook; the Japanese message names no cell content."""


def xlsx_cell_text(value: Any) -> str:
    """An XLSX cell as the text a person would have typed."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx_rows(data: bytes, *, max_columns: int) -> list[list[str]]:
    """Read the first sheet's rows as typed text; raise SheetProblem for a non-workbook or a far too wide sheet."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise SheetProblem("Excelファイル（.xlsx）として読めません") from None
    try:
        sheet = workbook.worksheets[0]
        # Refuse a sheet far too wide before reading its cells (the header checks are per column).
        if (sheet.max_column or 0) > max_columns * 4:
            raise SheetProblem(f"列が多すぎます（{sheet.max_column}列）。{max_columns}列までにしてください")
        return [[xlsx_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
