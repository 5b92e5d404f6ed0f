"""Small-count suppression for publication (公表用): primary cells and the complementary cells that protect them.

A table publishes cells that are tied by equations: a row's 年度計 is the sum of its months, and a figure whose
rows add up to another figure (相談経路 to 新規相談) gives one equation per column. A small count hidden alone in
one of these equations comes straight back by one subtraction from the cells shown (zeros included). So after
hiding every count 0 < n < threshold (primary suppression), each equation that hides exactly one cell gets a
second one hidden (complementary suppression), until every equation hides none or at least two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

TOTAL = "total"

Cell = tuple[str, object]  # (row key, month index 0-11 or TOTAL)


def equations(
    rows: Mapping[str, tuple[int, Sequence]], parts: Mapping[str, Iterable[str]] | None = None
) -> list[list[Cell]]:
    """Return every equation tying the cells: each row's total and months, each parent row and its parts."""
    found: list[list[Cell]] = []
    for key, (_total, months) in rows.items():
        if months:
            found.append([(key, TOTAL), *((key, m) for m in range(len(months)))])
    for parent, children in (parts or {}).items():
        children = [c for c in children if c in rows]
        if parent not in rows or not children:
            continue
        found.append([(parent, TOTAL), *((c, TOTAL) for c in children)])
        width = len(rows[parent][1])
        if width and all(len(rows[c][1]) == width for c in children):
            for m in range(width):
                found.append([(parent, m), *((c, m) for c in children)])
    return found


def _value(rows, cell: Cell) -> int:
    key, column = cell
    total, months = rows[key]
    value = total if column == TOTAL else months[column]
    return value if isinstance(value, int) else 0


def _pinned(rows, equation: list[Cell], hidden: set[Cell], primary: set[Cell], threshold: int) -> bool:
    """Whether the hidden parts of a shown sum can only be one set of values.

    Every primary cell is known to be 1 … threshold-1; parts hiding only primaries whose sum (the shown sum minus
    the shown parts) is the least or the most they could add up to give each value away.
    """
    if equation[0] in hidden:
        return False
    parts = [cell for cell in equation[1:] if cell in hidden]
    if len(parts) < 2 or not all(cell in primary for cell in parts):
        return False
    rest = _value(rows, equation[0]) - sum(_value(rows, c) for c in equation[1:] if c not in hidden)
    return rest in {len(parts), len(parts) * (threshold - 1)}


def suppressed_cells(
    rows: Mapping[str, tuple[int, Sequence]],
    threshold: int | None,
    parts: Mapping[str, Iterable[str]] | None = None,
) -> set[Cell]:
    """Return the cells to hide: every 0 < n < threshold, and complements until no equation hides just one."""
    if not threshold:
        return set()
    hidden: set[Cell] = set()
    for key, (total, months) in rows.items():
        for column, value in [(TOTAL, total), *enumerate(months)]:
            if isinstance(value, int) and 0 < value < threshold:
                hidden.add((key, column))
    primary = set(hidden)
    tied = equations(rows, parts)
    changed = True
    while changed:
        changed = False
        for key, (_total, months) in rows.items():
            # A row with a hidden month hides its 年度計: two small months and their total pin each other down
            # (a total of 2 over two hidden months is 1 and 1).
            if (key, TOTAL) not in hidden and any((key, m) in hidden for m in range(len(months))):
                hidden.add((key, TOTAL))
                changed = True
        for equation in tied:
            if not (
                sum(cell in hidden for cell in equation) == 1 or _pinned(rows, equation, hidden, primary, threshold)
            ):
                continue
            # The complement: a row's total first (the months stay readable), else the smallest count
            # shown; a zero only when nothing else is left, since hiding a zero hides nothing.
            shown = [cell for cell in equation if cell not in hidden]
            shown.sort(key=lambda c: (_value(rows, c) == 0, c[1] != TOTAL, _value(rows, c), str(c)))
            hidden.add(shown[0])
            changed = True
    return hidden


def apply(
    rows: Mapping[str, tuple[int, Sequence]],
    threshold: int | None,
    marker: str,
    parts: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, tuple[object, list]]:
    """Return each row's (total, months) for publication, hidden cells replaced by the marker."""
    hidden = suppressed_cells(rows, threshold, parts)
    return {
        key: (
            marker if (key, TOTAL) in hidden else total,
            [marker if (key, m) in hidden else value for m, value in enumerate(months)],
        )
        for key, (total, months) in rows.items()
    }
