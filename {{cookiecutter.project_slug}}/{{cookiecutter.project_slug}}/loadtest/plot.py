"""The run over time as one self-contained HTML file: throughput and latency per second,
drawn as inline SVG (no script, no network)."""

import html

WIDTH, HEIGHT, MARGIN = 720, 220, 48
STYLE = (
    "body { font: 14px system-ui, sans-serif; margin: 2em; max-width: 720px }"
    " th { text-align: left; padding-right: 2em }"
    " figcaption { font-weight: 600; margin: 1em 0 .3em }"
)


def polyline(points, x_max, y_max, colour):
    if not points:
        return ""
    scaled = " ".join(
        f"{MARGIN + x / max(x_max, 1) * (WIDTH - 2 * MARGIN):.1f},"
        f"{HEIGHT - MARGIN - y / max(y_max, 1e-9) * (HEIGHT - 2 * MARGIN):.1f}"
        for x, y in points
    )
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{scaled}"/>'


def chart(title, lines, unit):
    """``lines``: (label, colour, [(second, value), ...])."""
    x_max = max((x for _, _, points in lines for x, _ in points), default=1)
    y_max = max((y for _, _, points in lines for _, y in points), default=1)
    bottom = HEIGHT - MARGIN
    legend = " ".join(
        f'<tspan fill="{colour}">&#9632; {html.escape(label)}</tspan>' for label, colour, _ in lines
    )
    return f"""<figure><figcaption>{html.escape(title)}</figcaption>
<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img">
<path d="M{MARGIN} {MARGIN} V{bottom} H{WIDTH - MARGIN}" fill="none" stroke="#888"/>
<text x="{MARGIN}" y="{MARGIN - 10}" font-size="12">{y_max:,.1f} {html.escape(unit)}</text>
<text x="{WIDTH - MARGIN}" y="{bottom + 18}" font-size="12" text-anchor="end">{x_max} s</text>
<text x="{MARGIN}" y="{HEIGHT - 8}" font-size="12">{legend}</text>
{"".join(polyline(points, x_max, y_max, colour) for _, colour, points in lines)}
</svg></figure>"""


def write_html(path, result):
    series = result.get("series", [])
    unit = result["unit"]
    throughput = [(s["second"], s["count"]) for s in series]
    p50 = [(s["second"], s["p50"]) for s in series if s["p50"] is not None]
    p99 = [(s["second"], s["p99"]) for s in series if s["p99"] is not None]
    figures = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(str(value))}</td></tr>"
        for name, value in {**result["figures"], **result.get("latency_ms", {})}.items()
    )
    page = f"""<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Load test: {html.escape(result["scenario"])}</title>
<style>{STYLE}</style>
<h1>{html.escape(result["scenario"])}</h1>
<p>{html.escape(result["description"])} against {html.escape(result["server"])}</p>
<table>{figures}</table>
{chart(f"{unit} per second", [(unit, "#2563eb", throughput)], unit)}
{chart("latency per second (ms)", [("p50", "#16a34a", p50), ("p99", "#dc2626", p99)], "ms")}
</html>
"""
    with open(path, "w", encoding="utf-8") as file:
        file.write(page)
