"""Tests for core.spreadsheets: Excel-friendly CSV and XLSX on Japanese Windows."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest

from core.spreadsheets import (
    GETA,
    DecodeError,
    build_xlsx,
    decode_csv_bytes,
    encode_csv,
    neutralise_formula,
    read_csv_rows,
)

# --- formula neutralisation -------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+A1", "-1", "@SUM(A1:A2)", "\tcmd", "\rcmd", "＝1+1", "＋A1", "－1", "＠SUM(A1)"],
)
def test_neutralise_formula_prefixes_quote(value):
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["山田", "", "1+1", " =1", "a=b", 5, -1, None, 1.5])
def test_neutralise_formula_leaves_the_rest(value):
    assert neutralise_formula(value) == value


# --- decoding uploads -------------------------------------------------------


def test_cp932_extensions_decode_where_shift_jis_fails():
    text = "①㈱髙"
    data = text.encode("cp932")
    # The point of cp932: NEC and IBM extensions that shift_jis knows nothing about.
    with pytest.raises(UnicodeEncodeError):
        text.encode("shift_jis")
    with pytest.raises(UnicodeDecodeError):
        data.decode("shift_jis")
    assert decode_csv_bytes(data) == (text, "cp932")
    assert decode_csv_bytes(data, "cp932") == (text, "cp932")


def test_utf8_with_and_without_bom():
    assert decode_csv_bytes("氏名\r\n髙橋\r\n".encode("utf-8-sig")) == (
        "氏名\r\n髙橋\r\n",
        "utf-8-sig",
    )
    assert decode_csv_bytes("氏名\n".encode()) == ("氏名\n", "utf-8")
    assert decode_csv_bytes("氏名\n".encode("utf-8-sig"), "utf-8") == ("氏名\n", "utf-8-sig")
    assert decode_csv_bytes(b"") == ("", "utf-8")


def test_undecodable_byte_reports_its_line():
    data = "氏名,住所\r\n山田,東京\r\n".encode("cp932") + b"\xff\xff\r\n"
    with pytest.raises(DecodeError) as excinfo:
        decode_csv_bytes(data)
    assert excinfo.value.line == 3
    assert str(excinfo.value).startswith("3行目の文字コードを読み取れません")
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize("encoding", ["auto", "utf-8"])
def test_broken_utf8_reports_its_line(encoding):
    data = "氏名\n山田\n".encode() + "髙橋".encode()[:-1] + b"\n"
    with pytest.raises(DecodeError) as excinfo:
        decode_csv_bytes(data, encoding)
    assert excinfo.value.line == 3


def test_utf8_file_with_cp932_rows_pasted_in_is_not_read_as_mojibake():
    data = "氏名,住所\r\n山田,東京\r\n".encode() + "髙橋,大阪\r\n".encode("cp932")
    assert data.decode("cp932")  # cp932 would "succeed", turning the UTF-8 part into mojibake
    with pytest.raises(DecodeError) as excinfo:
        decode_csv_bytes(data)
    assert excinfo.value.line == 3


def test_bom_file_never_falls_back_to_cp932():
    data = "a\n".encode("utf-8-sig") + "髙".encode("cp932")
    with pytest.raises(DecodeError) as excinfo:
        decode_csv_bytes(data)
    assert excinfo.value.line == 2


def test_explicit_cp932_rejects_bytes_that_are_not_text():
    with pytest.raises(DecodeError) as excinfo:
        decode_csv_bytes(b"a\r\nb\r\n\x80\r\n", "cp932")
    assert excinfo.value.line == 3


def test_unknown_encoding_is_refused():
    with pytest.raises(ValueError, match="対応していない"):
        decode_csv_bytes(b"a", "shift_jis")


def test_read_csv_rows_handles_crlf_quotes_and_blank_lines():
    data = '氏名,メモ,,\r\n髙橋,"一行目\r\n二行目",,\r\n,,,\r\n"山田, 太郎",\r\n'.encode("cp932")
    header, rows, used = read_csv_rows(data)
    assert used == "cp932"
    assert header == ["氏名", "メモ"]
    assert rows == [
        {"氏名": "髙橋", "メモ": "一行目\r\n二行目"},
        {"氏名": "山田, 太郎", "メモ": ""},
    ]
    assert read_csv_rows(b"") == ([], [], "utf-8")


def test_read_csv_rows_refuses_values_beyond_the_header():
    with pytest.raises(ValueError, match="3行目"):
        read_csv_rows(b"a,b\r\n1,2\r\n1,2,3\r\n")


@pytest.mark.parametrize("header", [b"a,a\r\n", b"a,,b\r\n"])
def test_read_csv_rows_refuses_colliding_headers(header):
    with pytest.raises(ValueError, match="見出し"):
        read_csv_rows(header + b"1,2,3\r\n")


# --- encoding exports -------------------------------------------------------


def test_utf8_sig_export_has_bom_and_crlf():
    data, replaced = encode_csv(["氏名", "生年月日"], [["𠮷田", date(1980, 6, 15)]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "氏名,生年月日\r\n𠮷田,1980-06-15\r\n"
    assert replaced == []


def test_cp932_export_reports_unencodable_characters():
    rows = [["山田", "東京"], ["鈴木", "𠮷田"], ["葛\U000e0100飾", "①㈱髙"]]
    data, replaced = encode_csv(["氏名", "住所"], rows, encoding="cp932")
    assert data.decode("cp932") == (f"氏名,住所\r\n山田,東京\r\n鈴木,{GETA}田\r\n葛{GETA}飾,①㈱髙\r\n")
    # The header is row 1, so the second data row is row 3.
    assert replaced == [(3, 2, "\U00020bb7"), (4, 1, "\U000e0100")]
    assert replaced[0].row == 3
    assert replaced[0].column == 2
    assert replaced[0].character == "𠮷"


def test_cp932_export_maps_equivalent_characters():
    data, replaced = encode_csv(["a"], [["〜−—¥"]], encoding="cp932")
    assert replaced == []
    assert data.decode("cp932") == "a\r\n～－―￥\r\n"


def test_csv_export_neutralises_formula_cells():
    cells = ["=1+1", "+A1", "-1", "@SUM(A1)", "\tx", "\rx", "＝1", "山田"]
    numbers = [-1, 2.5, Decimal("3"), None, True]
    data, _ = encode_csv(["=見出し"], [cells, numbers])
    written = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert written == [
        ["'=見出し"],
        ["'=1+1", "'+A1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "'＝1", "山田"],
        # Real numbers are numbers, not formulas, and stay as they are.
        ["-1", "2.5", "3", "", "True"],
    ]


def test_encode_csv_refuses_unknown_encoding():
    with pytest.raises(ValueError, match="対応していない"):
        encode_csv(["a"], [], encoding="shift_jis")


def test_csv_round_trip_through_reader():
    header = ["氏名", "メモ"]
    rows = [["髙橋", "改行\nあり"], ["=危険", "①"]]
    for encoding in ("utf-8-sig", "cp932"):
        data, _ = encode_csv(header, rows, encoding=encoding)
        read_header, read_rows, used = read_csv_rows(data)
        assert read_header == header
        assert used == encoding
        assert read_rows == [
            {"氏名": "髙橋", "メモ": "改行\nあり"},
            {"氏名": "'=危険", "メモ": "①"},
        ]


# --- xlsx -------------------------------------------------------------------


def test_xlsx_round_trip():
    openpyxl = pytest.importorskip("openpyxl")
    data = build_xlsx(
        [
            (
                "[相談]一覧: 2025/04*?\\" + "あ" * 40,
                ["氏名", "受付日", "日時", "件数"],
                [
                    ["𠮷田", date(2025, 4, 1), datetime(2025, 4, 1, 9, 30), 3],
                    ['=HYPERLINK("x")', None, None, -1],
                    ["\x07bell", None, None, Decimal("1.5")],
                ],
            ),
            ("[相談]一覧: 2025/04*?\\" + "あ" * 40, ["a"], []),
            ("", ["b"], [["-x"]]),
        ]
    )
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    first, second, third = workbook.worksheets
    assert first.title == ("相談一覧 202504" + "あ" * 40)[:31]
    # Same cleaned title again: made unique within Excel's 31 characters.
    assert second.title == first.title[:28] + "(2)"
    assert third.title == "Sheet3"
    for title in (first.title, second.title, third.title):
        assert not set(title) & set("[]:*?/\\")

    assert [cell.value for cell in first[1]] == ["氏名", "受付日", "日時", "件数"]
    assert all(cell.font.bold for cell in first[1])
    assert first["A2"].value == "𠮷田"
    assert first["B2"].value == datetime(2025, 4, 1)  # read back as a date, not text
    assert first["B2"].is_date
    assert first["C2"].value == datetime(2025, 4, 1, 9, 30)
    assert first["D2"].value == 3
    assert first["A3"].value == '\'=HYPERLINK("x")'
    assert first["A3"].data_type == "s"
    assert first["D3"].value == -1
    assert first["A4"].value == f"{GETA}bell"
    assert third["A2"].value == "'-x"


def test_xlsx_refuses_aware_datetimes():
    pytest.importorskip("openpyxl")
    from datetime import UTC

    with pytest.raises(ValueError, match="タイムゾーン"):
        build_xlsx([("s", ["t"], [[datetime(2025, 4, 1, tzinfo=UTC)]])])


def test_xlsx_without_sheets_still_opens():
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.load_workbook(io.BytesIO(build_xlsx([])))
    assert len(workbook.worksheets) == 1
