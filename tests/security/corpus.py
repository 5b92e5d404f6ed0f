"""The hostile-input corpus: values a careless paste or an attacker may send to any field.

Each value says whether the application must refuse it (NUL and bytes that are not UTF-8) or may
either store it exactly as typed or refuse it with a Japanese message (everything else).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote_from_bytes


@dataclass(frozen=True)
class Hostile:
    """One corpus value and what the application must do with it."""

    label: str
    value: str
    # NUL and undecodable bytes must be refused with a message, never stored.
    must_refuse: bool = False
    # Markup that must never reach a page unescaped once stored.
    markup: bool = False
    # A cell an export must neutralise when the value starts it.
    formula: bool = False


# What the hostile tests did, printed at the end of the run (tests/conftest.py).
TALLY: Counter[str] = Counter()

LONG_TEXT = "長" * 100_000

CORPUS: tuple[Hostile, ...] = (
    Hostile("long_100k", LONG_TEXT),
    Hostile("nul", "山\x00田", must_refuse=True),
    Hostile("nul_only", "\x00", must_refuse=True),
    # Lone surrogates cannot be UTF-8: over HTTP they arrive as the bytes ED A0 80 / ED BF BF.
    Hostile("lone_surrogate_high", "山\ud800田", must_refuse=True),
    Hostile("lone_surrogate_low", "\udfff", must_refuse=True),
    Hostile("rtl_override", "\u202eコピー.exe"),
    Hostile("zero_width_space", "山\u200b田"),
    Hostile("bom_inside", "\ufeff山田"),
    Hostile("halfwidth_kana", "ｶﾀｶﾅ"),
    Hostile("hyphen_lookalikes", "1‐2-3‒4–5—6―7−8ｰ9ー0"),
    Hostile("non_bmp_and_ivs", "𠮷野 葛\U000e0100"),
    Hostile("formula_equals", "=1+1", formula=True),
    Hostile("formula_cmd", "+cmd|' /C calc'!A0", formula=True),
    Hostile("formula_minus", "-2+3", formula=True),
    Hostile("formula_at", "@SUM(1)", formula=True),
    Hostile("formula_tab", "\t=1", formula=True),
    Hostile("formula_cr", "\r=1", formula=True),
    Hostile("formula_fullwidth", "＝1+1", formula=True),
    Hostile("script_tag", "<script>alert(1)</script>", markup=True),
    Hostile("attribute_breakout", '"><img src=x onerror=alert(1)>', markup=True),
    Hostile("javascript_url", "javascript:alert(1)"),
    Hostile("wareki_nonsense", "令和99年13月45日"),
    Hostile("huge_integer", "9" * 400),
    Hostile("float_overflow", "1e309"),
    Hostile("negative_zero", "-0"),
    Hostile("not_a_number", "NaN"),
    Hostile("sql_quote", "'; DROP TABLE casework_case; --"),
    Hostile("crlf_lines", "一行目\r\n二行目"),
)

MARKUP_NEEDLES = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


def by_label(label: str) -> Hostile:
    return next(h for h in CORPUS if h.label == label)


def form_bytes(value: str) -> bytes:
    """Encode a value as a browser's form would, lone surrogates becoming the invalid bytes they arrive as."""
    return value.encode("utf-8", "surrogatepass")


def urlencoded(data: dict[str, str | list[str]]) -> bytes:
    """A urlencoded body whose values may hold lone surrogates (percent-encoded, not valid UTF-8)."""
    parts = []
    for key, values in data.items():
        for value in values if isinstance(values, list) else [values]:
            parts.append(f"{quote_from_bytes(form_bytes(key))}={quote_from_bytes(form_bytes(str(value)))}")
    return "&".join(parts).encode("ascii")


def stored_form(value: str) -> str:
    """What 'stored exactly as typed' means for a form field: Django strips surrounding whitespace."""
    return value.strip()


# --- JSON and WebSocket --------------------------------------------------------------------------

# Deep enough to blow Python's recursion limit, small enough to pass a 64 KB frame limit.
DEEPLY_NESTED_JSON = "[" * 20_000 + "]" * 20_000
DEEPLY_NESTED_OBJECT = '{"type":' * 5_000 + '"note"' + "}" * 5_000
JSON_LONE_SURROGATE = '{"type": "note", "item": 1, "notes": "\\ud800", "based_on_version": 1}'
TEN_MB_FRAME = json.dumps({"type": "note", "notes": "x" * (10 * 1024 * 1024)})
NOT_JSON = ("not json", "{'type': 'ping'}", " ", "null", "[]", "1e309", '"ping"', "\x00")
UNKNOWN_TYPES = ("drop_table", "__class__", "handle_note", "", None, 1, ["note"], {"a": 1})

# --- Unsafe redirect targets -------------------------------------------------------------------

UNSAFE_NEXT = (
    "//evil.example",
    "https://evil.example",
    "http://evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "\t//evil.example",
    "///evil.example",
    "https:evil.example",
    " //evil.example",
)

# --- Content types -----------------------------------------------------------------------------

WRONG_CONTENT_TYPES = (
    ("application/json", b'{"household_name": "x"}'),
    ("text/plain", b"household_name=x"),
    ("application/xml", b"<a>x</a>"),
    ("multipart/form-data", b"--nobound\r\n"),  # no boundary parameter
    ("multipart/form-data; boundary=zz", b"garbage without parts"),
)
