"""A hazard's trace neighbourhood drawn as SVG on the server (no JavaScript, no CDN).

Pure: takes a sub-graph (`graph.neighbourhood`) and returns SVG text. Columns follow the trace
of IEC 62304 7.3.3 from left to right: software items → hazards → risk controls →
requirements → tests. Colours repeat the chips of the pages and always come with words (the
code and a status line), so the picture never relies on colour alone.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from traceability import graph as tg

COLUMNS = [tg.SOFTWARE_ITEM, tg.HAZARD, tg.CONTROL, tg.REQUIREMENT, tg.TEST]
COLUMN_TITLES = {
    tg.SOFTWARE_ITEM: "Software items",
    tg.HAZARD: "Hazards",
    tg.CONTROL: "Risk controls",
    tg.REQUIREMENT: "Requirements",
    tg.TEST: "Tests",
}
BOX_W, BOX_H, COL_W, ROW_H, TOP, LEFT = 168, 44, 200, 56, 40, 12
FILL = {
    "ok": ("#e3f4e1", "#2f6b2f"),
    "warn": ("#fff4cc", "#7a5b00"),
    "bad": ("#fde2e0", "#8a1f17"),
    "none": ("#f1f3f6", "#45505c"),
}
RESULT_TEXT = {"pass": "pass", "fail": "FAIL", "blocked": "blocked", "not_run": "not run"}


def _tone_and_status(graph: nx.DiGraph, node, controls: dict) -> tuple[str, str]:
    attrs = graph.nodes[node]
    kind = node[0]
    if kind == tg.HAZARD:
        residual = attrs.get("residual_acceptability") or ""
        tone = {"acceptable": "ok", "investigate": "warn", "unacceptable": "bad"}.get(
            residual, "none"
        )
        return tone, f"{attrs.get('category', '')} · residual {residual or 'not estimated'}"
    if kind == tg.CONTROL:
        state = controls.get(node)
        if state is None:
            return "none", ""
        tone = (
            "ok"
            if state["verified"]
            else (
                "bad" if tg.FAILED in (state["implementation"], state["effectiveness"]) else "warn"
            )
        )
        return tone, f"impl. {state['implementation']} · eff. {state['effectiveness']}"
    if kind == tg.TEST:
        result = attrs.get("latest_result")
        tone = {"pass": "ok", "fail": "bad"}.get(result or "", "warn")
        return tone, f"latest: {RESULT_TEXT.get(result, 'never run')}"
    if kind == tg.SOFTWARE_ITEM:
        soup = " · SOUP" if attrs.get("is_soup") else ""
        return "none", f"class {attrs.get('safety_class') or '?'}{soup}"
    return "none", attrs.get("level", "")


def _short(text: str, limit: int = 26) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_trace_svg(
    graph: nx.DiGraph,
    focus,
    url_for: Callable[[tuple], str] | None = None,
    controls: dict | None = None,
) -> str:
    """SVG of `graph` (a hazard's neighbourhood) with `focus` highlighted.

    `url_for(node)` gives each box a link (followed when the SVG is inlined); `controls` is
    `graph.control_verification` of the whole product so control colours match the matrix.
    """
    controls = controls if controls is not None else tg.control_verification(graph)
    columns: dict[str, list] = {kind: tg.nodes_of(graph, kind) for kind in COLUMNS}
    if focus in columns[tg.HAZARD]:  # the focus hazard first in its column
        columns[tg.HAZARD].remove(focus)
        columns[tg.HAZARD].insert(0, focus)
    rows = max((len(nodes) for nodes in columns.values()), default=1) or 1
    width = LEFT * 2 + COL_W * len(COLUMNS)
    height = TOP + rows * ROW_H + 16
    position = {}

    def place(kind: str) -> None:
        c = COLUMNS.index(kind)
        for r, node in enumerate(columns[kind]):
            position[node] = (LEFT + c * COL_W, TOP + r * ROW_H)

    def by_neighbours(kind: str) -> None:
        """Order a column by the mean height of its already placed neighbours (barycentre
        heuristic), so that lines cross as little as possible; code order breaks ties."""

        def key(node):
            ys = [position[n][1] for n in nx.all_neighbors(graph, node) if n in position]
            return (sum(ys) / len(ys) if ys else float("inf"), tg.node_key(graph, node))

        columns[kind].sort(key=key)
        place(kind)

    place(tg.HAZARD)
    for kind in (tg.CONTROL, tg.REQUIREMENT, tg.TEST, tg.SOFTWARE_ITEM):
        by_neighbours(kind)

    focus_code = graph.nodes[focus].get("code", "") if focus in graph else ""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="trace-title trace-desc" font-family="system-ui, sans-serif">',
        f'<title id="trace-title">Trace neighbourhood of {escape(focus_code)}</title>',
        f'<desc id="trace-desc">{len(position)} items linked to {escape(focus_code)}: software '
        "items, hazards, risk controls, requirements and tests. Dashed orange lines are suspect "
        "links.</desc>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#7b8794"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for c, kind in enumerate(COLUMNS):
        x = LEFT + c * COL_W
        out.append(
            f'<text x="{x}" y="22" font-size="12" font-weight="600" fill="#45505c">'
            f"{COLUMN_TITLES[kind]}</text>"
        )

    for source, target, data in sorted(
        graph.edges(data=True),
        key=lambda e: (position.get(e[0], (0, 0)), position.get(e[1], (0, 0))),
    ):
        if source not in position or target not in position:
            continue
        (x1, y1), (x2, y2) = position[source], position[target]
        suspect = bool(data.get("suspect"))
        stroke = 'stroke="#d9822b" stroke-dasharray="5 3"' if suspect else 'stroke="#9aa5b1"'
        kinds = ", ".join(ref.kind.replace("_", " ") for ref in tg.edge_links(data))
        if x2 > x1:
            sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2
        elif x2 < x1:
            sx, sy, ex, ey = x1, y1 + BOX_H / 2, x2 + BOX_W, y2 + BOX_H / 2
        else:  # same column (hazard → hazard): an arc on the right side
            sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H / 2, x2 + BOX_W, y2 + BOX_H / 2
        mx = (sx + ex) / 2 if x1 != x2 else sx + 30
        out.append(
            f'<path d="M {sx:.0f} {sy:.0f} C {mx:.0f} {sy:.0f}, {mx:.0f} {ey:.0f}, {ex:.0f} '
            f'{ey:.0f}" fill="none" {stroke} stroke-width="1.4" marker-end="url(#arrow)">'
            f"<title>{escape(kinds)}{' (suspect)' if suspect else ''}</title></path>"
        )

    for node, (x, y) in position.items():
        attrs = graph.nodes[node]
        tone, status = _tone_and_status(graph, node, controls)
        fill, ink = FILL[tone]
        border = 'stroke="#1f3b5c" stroke-width="2.5"' if node == focus else f'stroke="{ink}"'
        title = f"{attrs.get('code', '')} {attrs.get('title', '')}"
        box = [
            f"<g><title>{escape(title)}</title>",
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="5" fill="{fill}" '
            f"{border}/>",
            f'<text x="{x + 8}" y="{y + 15}" font-size="12" font-weight="700" fill="{ink}">'
            f"{escape(attrs.get('code', ''))}</text>",
            f'<text x="{x + 8}" y="{y + 28}" font-size="10.5" fill="#1d2733">'
            f"{escape(_short(attrs.get('title', '')))}</text>",
            f'<text x="{x + 8}" y="{y + 40}" font-size="9.5" fill="{ink}">'
            f"{escape(_short(status, 34))}</text>",
            "</g>",
        ]
        url = url_for(node) if url_for else ""
        if url:
            out.append(f'<a href={quoteattr(url)} target="_top">{"".join(box)}</a>')
        else:
            out.append("".join(box))
    if not position:
        out.append(f'<text x="{LEFT}" y="{TOP + 20}" font-size="12">Nothing to show.</text>')
    out.append("</svg>")
    return "\n".join(out)
