"""公表用 suppression: no hidden cell comes back by one subtraction from the cells shown (issue 16, item 10)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.suppression import TOTAL, equations, suppressed_cells

THRESHOLD = 3


@st.composite
def tables(draw):
    """Rows of 12 small monthly counts with their totals, some of them parts of a parent row that is their sum."""
    n = draw(st.integers(min_value=1, max_value=6))
    rows = {}
    for i in range(n):
        months = draw(st.lists(st.integers(min_value=0, max_value=6), min_size=12, max_size=12))
        rows[f"r{i}"] = (sum(months), months)
    parts = {}
    if n >= 2 and draw(st.booleans()):
        children = draw(st.lists(st.sampled_from(sorted(rows)), min_size=2, max_size=n, unique=True))
        months = [sum(rows[c][1][m] for c in children) for m in range(12)]
        rows["parent"] = (sum(months), months)
        parts["parent"] = children
    if draw(st.booleans()):
        rows["yearly_only"] = (draw(st.integers(min_value=0, max_value=6)), [])
    return rows, parts


def _value(rows, cell):
    total, months = rows[cell[0]]
    return total if cell[1] == TOTAL else months[cell[1]]


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_hidden_cell_is_one_subtraction_away_from_the_cells_shown(table):
    rows, parts = table
    hidden = suppressed_cells(rows, THRESHOLD, parts)
    for key, (total, months) in rows.items():
        for column, value in [(TOTAL, total), *enumerate(months)]:
            if 0 < value < THRESHOLD:
                assert (key, column) in hidden, (key, column, value)
    for equation in equations(rows, parts):
        # The equation holds on the data, so with one hidden cell it would be that cell = sum - the others.
        assert _value(rows, equation[0]) == sum(_value(rows, c) for c in equation[1:])
        assert sum(cell in hidden for cell in equation) != 1, equation
        # Nor pinned by the range a small count must be in (1 … THRESHOLD-1): parts hiding only small counts
        # whose sum is their least or their most give each one away.
        parts = [c for c in equation[1:] if c in hidden]
        small = all(0 < _value(rows, c) < THRESHOLD for c in parts)
        if equation[0] not in hidden and len(parts) >= 2 and small:
            rest = sum(_value(rows, c) for c in parts)
            assert rest not in {len(parts), len(parts) * (THRESHOLD - 1)}, equation


def test_a_small_month_hides_the_total_and_not_the_zeros():
    rows = {"a": (5, [0, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0])}
    assert suppressed_cells(rows, THRESHOLD) == {("a", 2), ("a", TOTAL)}


def test_two_small_months_hide_their_total_too():
    """A 年度計 of 2 over two hidden months would say each is 1."""
    rows = {"a": (2, [1, 1] + [0] * 10)}
    assert suppressed_cells(rows, THRESHOLD) == {("a", 0), ("a", 1), ("a", TOTAL)}


def test_rows_that_add_up_to_another_row_hide_a_second_part():
    """相談経路 rows add up to 新規相談: a route of 1 would be the new cases minus the other routes."""
    rows = {
        "new": (9, [9] + [0] * 11),
        "route.window": (8, [8] + [0] * 11),
        "route.visit": (1, [1] + [0] * 11),
    }
    hidden = suppressed_cells(rows, THRESHOLD, {"new": ["route.window", "route.visit"]})
    assert ("route.visit", 0) in hidden and ("route.visit", TOTAL) in hidden
    # The month column and the total column each hide a second cell, and each row hides two cells.
    for equation in equations(rows, {"new": ["route.window", "route.visit"]}):
        assert sum(cell in hidden for cell in equation) != 1


def test_no_threshold_hides_nothing():
    assert suppressed_cells({"a": (1, [1] + [0] * 11)}, None) == set()
