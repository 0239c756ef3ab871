"""The access matrix as a picture: SVG, and a self-contained HTML page (no external
assets, no scripts), both written with the standard library only."""

from __future__ import annotations

from html import escape

from crossdock.service.access.matrix import AccessMatrix, Cell

_COLOURS = {
    "pull+push": "#2e7d32",
    "pull": "#1565c0",
    "push": "#ef6c00",
    "none": "#e0e0e0",
}
_CELL_W, _CELL_H, _LABEL_W, _HEADER_H, _GROUP_H = 120, 26, 360, 150, 24


def _colour(cell: Cell) -> str:
    return _COLOURS.get(cell.label.replace("?", ""), "#e0e0e0")


def _text_colour(cell: Cell) -> str:
    return "#000000" if cell.label == "none" else "#ffffff"


def _rows(matrix: AccessMatrix) -> list[tuple[str, int | None]]:
    """Row labels in order: an account heading (index None), then its principals."""
    rows: list[tuple[str, int | None]] = []
    account = None
    for index, principal in enumerate(matrix.principals):
        if principal.account_id != account:
            account = principal.account_id
            rows.append((f"account {account}", None))
        rows.append((principal.label, index))
    return rows


def render_svg(matrix: AccessMatrix) -> str:
    """An SVG document: principals down the side, repositories across the top."""
    rows = _rows(matrix)
    width = _LABEL_W + _CELL_W * max(1, len(matrix.repositories)) + 20
    height = _HEADER_H + sum(_GROUP_H if i is None else _CELL_H for _, i in rows) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<title>crossdock access matrix</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for column, repository in enumerate(matrix.repositories):
        x = _LABEL_W + column * _CELL_W + _CELL_W // 2
        label = escape(f"{repository.account_id}/{repository.name}")
        out.append(
            f'<text x="{x}" y="{_HEADER_H - 8}" transform="rotate(-35 {x} {_HEADER_H - 8})"'
            f">{label}</text>"
        )
    y = _HEADER_H
    for label, index in rows:
        if index is None:
            out.append(f'<text x="4" y="{y + 17}" font-weight="bold">{escape(label)}</text>')
            y += _GROUP_H
            continue
        out.append(f'<text x="16" y="{y + 17}">{escape(label)}</text>')
        for column, cell in enumerate(matrix.cells[index]):
            x = _LABEL_W + column * _CELL_W
            dash = ' stroke-dasharray="4 2"' if "?" in cell.label else ""
            repository = matrix.repositories[column]
            tip = escape(f"{matrix.principals[index].arn} on {repository.arn}: {cell.label}")
            out.append(
                f'<g><title>{tip}</title><rect x="{x + 2}" y="{y + 2}" width="{_CELL_W - 4}"'
                f' height="{_CELL_H - 4}" fill="{_colour(cell)}" stroke="#555555"{dash}/>'
                f'<text x="{x + _CELL_W // 2}" y="{y + 17}" text-anchor="middle"'
                f' fill="{_text_colour(cell)}">{escape(cell.label)}</text></g>'
            )
        y += _CELL_H
    legend = "pull+push, pull, push, none; ? = conditional (depends on the request)"
    out.append(f'<text x="4" y="{y + 24}">{escape(legend)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbbbbb; padding: 4px 8px; text-align: center; }
th.principal { text-align: left; font-weight: normal; }
tr.account th { background: #f2f2f2; text-align: left; }
td.pull-push { background: #2e7d32; color: #ffffff; }
td.pull { background: #1565c0; color: #ffffff; }
td.push { background: #ef6c00; color: #ffffff; }
td.none { background: #eeeeee; color: #555555; }
td.conditional { border: 2px dashed #000000; }
"""


def render_html(matrix: AccessMatrix) -> str:
    """A self-contained HTML page with the matrix as a table (inline CSS only)."""
    head = "".join(
        f'<th title="{escape(r.arn)}">{escape(r.account_id)}/{escape(r.name)}</th>'
        for r in matrix.repositories
    )
    body: list[str] = []
    span = len(matrix.repositories) + 1
    for label, index in _rows(matrix):
        if index is None:
            body.append(f'<tr class="account"><th colspan="{span}">{escape(label)}</th></tr>')
            continue
        principal = matrix.principals[index]
        cells = []
        for cell in matrix.cells[index]:
            classes = cell.label.replace("?", "").replace("+", "-")
            if "?" in cell.label:
                classes += " conditional"
            cells.append(f'<td class="{classes}">{escape(cell.label)}</td>')
        body.append(
            f'<tr><th class="principal" title="{escape(principal.arn)}">'
            f"{escape(label)}</th>{''.join(cells)}</tr>"
        )
    rows = "\n".join(body)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>crossdock access matrix</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<h1>Access matrix</h1>\n"
        "<p>Effective pull and push access (both sides, SCPs and boundaries); "
        "<code>?</code> marks access that depends on the request (conditional).</p>\n"
        f"<table>\n<tr><th>principal</th>{head}</tr>\n{rows}\n</table>\n</body>\n</html>\n"
    )
