"""The genogram and ecomap, laid out by Graphviz on the server and returned as a cleaned SVG fragment.

Both draw only what the case page already shows its viewer: the case's household and the relatives
recorded on it, the case team, informal supports, and what the apps above casework contribute for
the same case and viewer (places a person attends, through ECOMAP_SOURCES). Labels are set as plain
Graphviz strings (escaped by Graphviz), and the SVG is parsed and rebuilt from an allowlist of
elements and attributes before it reaches a page, so nothing typed into a name can become markup.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from casework.models import Case, HouseholdMember, Person, Relative, SupportTie

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "Noto Sans CJK JP"
R = HouseholdMember.Relationship

# Generations relative to 本人 (0); a relationship not listed sits beside 本人.
GENERATION = {
    R.GRANDPARENT: -2,
    R.PARENT: -1,
    R.PARENT_IN_LAW: -1,
    R.SELF: 0,
    R.SPOUSE: 0,
    R.SIBLING: 0,
    R.OTHER_RELATIVE: 0,
    R.OTHER: 0,
    R.CHILD: 1,
    R.GRANDCHILD: 2,
}


# ---------------------------------------------------------------------------
# What the drawings are made of
# ---------------------------------------------------------------------------


@dataclass
class Figure:
    """One person on the genogram: a household member or a relative outside the household."""

    key: str
    name: str
    gender: str
    relationship: str
    age: int | None
    deceased: bool = False
    subject: bool = False
    in_household: bool = False
    partnership: str = ""
    note: str = ""


@dataclass(frozen=True)
class EcoTie:
    """One line on the ecomap: who or what is around the household, how strong, supportive or stressful."""

    label: str
    kind: str  # organization, place, informal
    strength: str = "normal"  # strong, normal, weak
    quality: str = "supportive"  # supportive, stressful
    note: str = ""


# Apps above casework add ties for a case and viewer: func(case, viewer) -> list[EcoTie].
ECOMAP_SOURCES: list[Callable] = []


def register_ecomap_source(func: Callable) -> Callable:
    """Register func(case, viewer) -> list[EcoTie]; registering twice keeps one."""
    if func not in ECOMAP_SOURCES:
        ECOMAP_SOURCES.append(func)
    return func


def _age(person_or_relative) -> int | None:
    if isinstance(person_or_relative, Person):
        return person_or_relative.age
    if person_or_relative.birth_date:
        from core.japanese import age_on

        end = person_or_relative.died_on or timezone.localdate()
        return age_on(person_or_relative.birth_date, end)
    return person_or_relative.age


def genogram_figures(case: Case) -> list[Figure]:
    """Return the persons the case's genogram draws: its household (current and former) and recorded relatives."""
    subject_ids = set(case.subject_rows.values_list("person_id", flat=True))
    figures: list[Figure] = []
    members = HouseholdMember.objects.filter(household_id=case.household_id).select_related("person").order_by("id")
    seen: set[int] = set()
    for m in members:
        if m.person_id in seen:
            continue
        seen.add(m.person_id)
        p = m.person
        figures.append(
            Figure(
                key=f"p{p.pk}",
                name=p.display_name,
                gender=p.gender,
                relationship=m.relationship,
                age=p.age,
                subject=p.pk in subject_ids,
                in_household=m.lives_together and m.until is None,
                partnership="married" if m.relationship == R.SPOUSE else "",
                note=m.relationship_note,
            )
        )
    for r in Relative.objects.filter(household_id=case.household_id).order_by("id"):
        figures.append(
            Figure(
                key=f"r{r.pk}",
                name=r.name,
                gender=r.gender,
                relationship=r.relationship,
                age=_age(r),
                deceased=r.is_deceased,
                partnership=r.partnership,
                note=" ".join(x for x in [r.relationship_note, r.lives_in] if x),
            )
        )
    return figures


def ecomap_ties(case: Case, viewer) -> list[EcoTie]:
    """Return every tie the case's ecomap draws for this viewer: team, informal supports, contributed ties."""
    ties = [
        EcoTie(
            label=row.organization.name,
            kind="organization",
            strength="strong" if row.organization_id == case.lead_organization_id else "normal",
            note=row.role_note or ("主担当" if row.organization_id == case.lead_organization_id else ""),
        )
        for row in case.team_rows.filter(ended_at__isnull=True).select_related("organization").order_by("added_at")
    ]
    ties += [
        EcoTie(label=t.name, kind="informal", strength=t.strength, quality=t.quality, note=t.get_kind_display())
        for t in SupportTie.objects.filter(case=case).order_by("id")
    ]
    for source in ECOMAP_SOURCES:
        ties += source(case, viewer)
    return ties


# ---------------------------------------------------------------------------
# Graphviz
# ---------------------------------------------------------------------------


def _quote(text: str) -> str:
    """Quote a label for the DOT language (Graphviz escapes it again in the SVG)."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", str(text))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**attrs) -> str:
    return "[" + ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items() if v is not None) + "]"


def _person_nodes(f: Figure) -> list[str]:
    """Return the symbol (age inside) and, below it, the name of one person."""
    shape = {"male": "box", "female": "circle"}.get(f.gender, "diamond")
    size = {"box": ("0.62", "0.62"), "circle": ("0.66", "0.66"), "diamond": ("0.75", "0.75")}[shape]
    symbol = f"  {f.key} " + _attrs(
        id=f.key,
        label="" if f.age is None else str(f.age),
        shape=shape,
        width=size[0],
        height=size[1],
        fixedsize="true",
        peripheries="2" if f.subject else "1",
        penwidth="1.6",
        fontsize="12",
        style="filled",
        fillcolor="#e6e6e6" if f.deceased else "white",
        **{"class": "deceased" if f.deceased else ("subject" if f.subject else "person")},
    )
    lines = [f.name or "（氏名不明）"]
    if f.deceased:
        lines[0] += "（故）"
    if f.note:
        lines.append(f.note[:24])
    name = f"  {f.key}n " + _attrs(
        id=f"{f.key}n", label="\n".join(lines), shape="plaintext", fontsize="9.5", height="0.3", margin="0.02"
    )
    return [symbol, name, f"  {f.key} -- {f.key}n [style=invis, weight=20];"]


def genogram_dot(figures: list[Figure], *, household_label: str = "同居世帯") -> str:
    """Return the DOT source of a genogram: generations as ranks, couples joined, children below, the household enclosed.

    Each generation takes two ranks: the symbols (with the couples' joining points) and, below them,
    the names (with the points the children's lines drop from).
    """
    by_rel: dict[str, list[Figure]] = {}
    for f in figures:
        by_rel.setdefault(f.relationship, []).append(f)
    self_fig = (by_rel.get(R.SELF) or [None])[0]
    lines = [
        "graph genogram {",
        f'  graph [rankdir=TB, newrank=true, splines=ortho, nodesep=0.35, ranksep=0.14, fontname="{FONT}", bgcolor="transparent"];',
        f'  node [fontname="{FONT}", color="#222222"];',
        '  edge [color="#222222", penwidth=1.4];',
    ]
    inside = [f for f in figures if f.in_household]
    outside = [f for f in figures if not f.in_household]
    if inside:
        lines.append("  subgraph cluster_household {")
        lines.append(
            "    graph "
            + _attrs(
                label=household_label, style="dashed,rounded", color="#555555", fontsize="9", labeljust="l", margin="10"
            )
        )
        for f in inside:
            lines += ["  " + x for x in _person_nodes(f)]
        lines.append("  }")
    for f in outside:
        lines += _person_nodes(f)

    edges: list[str] = []
    ranks: dict[int, list[str]] = {}

    def place(key: str, rank: int) -> None:
        ranks.setdefault(rank, []).append(key)

    for f in figures:
        generation = GENERATION.get(f.relationship, 0)
        place(f.key, generation * 2)
        place(f"{f.key}n", generation * 2 + 1)

    def point(name: str, rank: int, *, visible: bool) -> str:
        lines.append(
            f"  {name} "
            + _attrs(shape="point", width="0.06" if visible else "0.01", label="", style=None if visible else "invis")
        )
        place(name, rank)
        return name

    def union(
        name: str, a: Figure | None, b: Figure | None, generation: int, partnership: str = "married"
    ) -> str | None:
        """Join a couple through a small point; return the point their children's lines drop from."""
        if a and b:
            mark = {"separated": "／", "divorced": "／／"}.get(partnership, "")
            point(name, generation * 2, visible=False)
            style = "dashed" if partnership == "separated" else "solid"
            edges.append(f"  {a.key} -- {name} " + _attrs(style=style, xlabel=mark or None, fontsize="12"))
            edges.append(f"  {name} -- {b.key} " + _attrs(style=style))
            top = name
        elif a or b:
            top = (a or b).key
        else:
            return None
        hub = point(f"{name}_kids", generation * 2 + 1, visible=False)
        edges.append(f"  {top} -- {hub};")
        return hub

    def children_of(hub: str | None, kids: list[Figure]) -> None:
        for kid in kids:
            if hub and kid:
                edges.append(f"  {hub} -- {kid.key};")

    spouses = by_rel.get(R.SPOUSE, [])
    current = next((s for s in spouses if s.partnership in ("", "married", "bereaved")), None)
    couple = union("u_self", self_fig, current, 0, current.partnership if current else "married") if self_fig else None
    for i, s in enumerate(x for x in spouses if x is not current):
        union(f"u_ex{i}", self_fig, s, 0, s.partnership)

    parents = by_rel.get(R.PARENT, [])
    father = next((p for p in parents if p.gender == "male"), None)
    mother = next((p for p in parents if p is not father), None)
    siblings = [self_fig, *by_rel.get(R.SIBLING, [])] if self_fig else by_rel.get(R.SIBLING, [])
    if parents:
        children_of(union("u_parents", father, mother, -1), siblings)
    elif len(siblings) > 1:
        # Siblings without recorded parents still hang from one common line.
        hub = point("u_sibs_kids", -1, visible=False)
        children_of(hub, siblings)

    grandparents = by_rel.get(R.GRANDPARENT, [])
    if grandparents:
        gf = next((g for g in grandparents if g.gender == "male"), None)
        gm = next((g for g in grandparents if g is not gf), None)
        children_of(union("u_grand", gf, gm, -2), [father or mother] if (father or mother) else [])
    in_laws = by_rel.get(R.PARENT_IN_LAW, [])
    if in_laws and current:
        lf = next((g for g in in_laws if g.gender == "male"), None)
        lm = next((g for g in in_laws if g is not lf), None)
        children_of(union("u_inlaw", lf, lm, -1), [current])

    children = by_rel.get(R.CHILD, [])
    children_of(couple, children)
    grandchildren = by_rel.get(R.GRANDCHILD, [])
    if grandchildren and children:
        children_of(union("u_child0", children[0], None, 1), grandchildren)
    for f in [*by_rel.get(R.OTHER_RELATIVE, []), *by_rel.get(R.OTHER, [])]:
        if self_fig:
            edges.append(f"  {self_fig.key} -- {f.key} " + _attrs(style="dotted", constraint="false"))

    for rank in sorted(ranks):
        lines.append("  { rank=same; " + "; ".join(ranks[rank]) + "; }")
    lines += edges
    lines.append("}")
    return "\n".join(lines)


def ecomap_dot(centre_lines: list[str], ties: list[EcoTie]) -> str:
    """Return the DOT source of an ecomap: the household in the centre, every tie around it."""
    lines = [
        "graph ecomap {",
        f'  graph [layout=neato, overlap=false, sep="+14", splines=true, fontname="{FONT}", bgcolor="transparent"];',
        f'  node [fontname="{FONT}", fontsize=9.5, color="#222222"];',
        "  centre "
        + _attrs(
            label="\n".join(centre_lines),
            shape="box",
            style="rounded,filled",
            fillcolor="#f4f4f4",
            penwidth="2",
            pos="0,0!",
            margin="0.15,0.1",
        ),
    ]
    shapes = {"organization": ("box", "white"), "place": ("ellipse", "#f7f7f7"), "informal": ("ellipse", "white")}
    for i, tie in enumerate(ties):
        shape, fill = shapes.get(tie.kind, ("ellipse", "white"))
        label = tie.label if not tie.note else f"{tie.label}\n（{tie.note}）"
        lines.append(f"  t{i} " + _attrs(label=label, shape=shape, style="filled", fillcolor=fill))
        width = {"strong": "3.6", "normal": "1.6", "weak": "1.2"}[
            tie.strength if tie.strength in ("strong", "weak") else "normal"
        ]
        style = "dashed" if tie.strength == "weak" else "solid"
        color = "#b3261e" if tie.quality == "stressful" else "#222222"
        lines.append(
            f"  centre -- t{i} "
            + _attrs(
                penwidth=width,
                style=style,
                color=color,
                len="2.3",
                label="✕ ストレス" if tie.quality == "stressful" else None,
                fontcolor=color,
                fontsize="8.5",
            )
        )
    lines.append("}")
    return "\n".join(lines)


def render_svg(dot_source: str, *, engine: str = "dot", prefix: str = "d") -> str:
    """Lay the graph out with Graphviz's dot (Debian package) and return the cleaned SVG fragment."""
    import graphviz

    raw = graphviz.Source(dot_source, engine=engine).pipe(format="svg", encoding="utf-8")
    return clean_svg(raw, prefix=prefix)


# ---------------------------------------------------------------------------
# The SVG allowlist
# ---------------------------------------------------------------------------

ALLOWED_ELEMENTS = {"svg", "g", "title", "text", "polygon", "polyline", "ellipse", "path", "line", "rect", "circle"}
ALLOWED_ATTRIBUTES = {
    "id", "class", "viewBox", "width", "height", "transform", "points", "d", "cx", "cy", "rx", "ry", "r",
    "x", "y", "x1", "y1", "x2", "y2", "fill", "stroke", "stroke-width", "stroke-dasharray", "font-family",
    "font-size", "font-weight", "text-anchor", "fill-opacity", "stroke-opacity",
}  # fmt: skip


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _cross(group: ET.Element) -> None:
    """Draw the deceased's cross over the shape of a node."""
    xs: list[float] = []
    ys: list[float] = []
    for child in group:
        tag = _local(child.tag)
        if tag == "polygon":
            for pair in child.get("points", "").split():
                x, _, y = pair.partition(",")
                xs.append(float(x))
                ys.append(float(y))
        elif tag == "ellipse":
            cx, cy, rx, ry = (float(child.get(k, "0")) for k in ("cx", "cy", "rx", "ry"))
            xs += [cx - rx * 0.72, cx + rx * 0.72]
            ys += [cy - ry * 0.72, cy + ry * 0.72]
    if not xs:
        return
    x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
    ET.SubElement(
        group,
        f"{{{SVG_NS}}}path",
        {"d": f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f} M{x1:.1f},{y2:.1f} L{x2:.1f},{y1:.1f}", "stroke": "#222222",
         "stroke-width": "1.2", "fill": "none"},
    )  # fmt: skip


def _clean(element: ET.Element) -> ET.Element | None:
    tag = _local(element.tag)
    if tag not in ALLOWED_ELEMENTS:
        return None
    out = ET.Element(f"{{{SVG_NS}}}{tag}")
    for name, value in element.attrib.items():
        if _local(name) in ALLOWED_ATTRIBUTES and not value.lstrip().lower().startswith(("javascript:", "url(")):
            out.set(_local(name), value)
    out.text = element.text if tag in {"text", "title"} else None
    for child in element:
        cleaned = _clean(child)
        if cleaned is not None:
            out.append(cleaned)
    return out


def clean_svg(raw: str, *, prefix: str = "d") -> str:
    """Rebuild Graphviz's SVG from the allowlist, add the crosses over the deceased, make it scale to its box."""
    # The input is Graphviz's own output; its DOCTYPE goes, and an entity declaration is never expected.
    raw = re.sub(r"<!DOCTYPE[^>]*>", "", raw)
    if "<!ENTITY" in raw:
        raise ValueError("unexpected entity declaration in Graphviz output")
    root = ET.fromstring(raw.encode("utf-8"))  # noqa: S314
    svg = _clean(root)
    # Two drawings on one page must not share element ids (Graphviz numbers them graph0, node1, ...).
    for element in svg.iter():
        if element.get("id"):
            element.set("id", f"{prefix}-{element.get('id')}")
    for group in svg.iter(f"{{{SVG_NS}}}g"):
        if "deceased" in (group.get("class") or "").split():
            _cross(group)
    # The viewBox keeps the proportions; CSS may shrink it to its box.
    svg.set("class", "drawing")
    svg.set("role", "img")
    ET.register_namespace("", SVG_NS)
    return ET.tostring(svg, encoding="unicode")


def genogram_svg(case: Case) -> str:
    """Return the case household's genogram as a cleaned SVG fragment."""
    return render_svg(genogram_dot(genogram_figures(case)), prefix="genogram")


def ecomap_svg(case: Case, viewer) -> str:
    """Return the case's ecomap for this viewer as a cleaned SVG fragment."""
    rows = HouseholdMember.objects.filter(household_id=case.household_id, until__isnull=True, lives_together=True)
    members = list(rows.select_related("person").order_by("id"))
    centre = [case.household.name] + [
        f"{m.person.display_name}" + (f"（{m.person.age}）" if m.person.age is not None else "") for m in members
    ]
    return render_svg(ecomap_dot(centre, ecomap_ties(case, viewer)), engine="neato", prefix="ecomap")
