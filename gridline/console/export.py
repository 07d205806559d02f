"""CSV exports: UTF-8 with a byte-order mark so that Excel opens Chinese text correctly.

Cells that a spreadsheet would take for a formula (starting with = + - @) are prefixed with ``'``:
residents write the text, and it must never run as a formula on a supervisor's computer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from fastapi.responses import Response

from gridline.console.case_list import CaseRow, time_to_acknowledge, time_to_resolve
from gridline.console.grids import GridTree
from gridline.console.rendering import console_text, local_time
from gridline.domain.privacy import mask_text

BOM = "\ufeff"


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def _minutes(delta: object) -> str:
    from datetime import timedelta

    if not isinstance(delta, timedelta):
        return ""
    return f"{delta.total_seconds() / 60:.1f}"


def cases_csv(rows: Sequence[CaseRow], tree: GridTree, tz: ZoneInfo, lang: str) -> str:
    """One line per case. The summary is masked like on screen (phone numbers inside the text)."""

    def _(key: str) -> str:
        return console_text(key, lang)

    header = [
        _("col.ref"), _("col.created"), _("col.grid_code"), _("col.grid"), _("col.category"),
        _("col.priority"), _("col.status"), _("col.channel"), _("col.staff"), _("col.acknowledged"),
        _("col.tta_min"), _("col.resolved"), _("col.ttr_min"), _("col.sla_breached"), _("col.rating"),
        _("col.confidence"), _("col.reports"), _("col.summary"),
    ]
    lines = []
    for row in rows:
        c = row.case
        lines.append([
            c.ref,
            local_time(c.created_at, tz),
            c.grid_code or "",
            tree.name(c.grid_code),
            console_text(f"category.{c.category}", lang),
            console_text(f"priority.{c.priority}", lang),
            console_text(f"status.{c.status}", lang),
            console_text(f"channel.{c.channel}", lang),
            row.staff_name,
            local_time(c.acknowledged_at, tz),
            _minutes(time_to_acknowledge(c)),
            local_time(c.resolved_at, tz),
            _minutes(time_to_resolve(c)),
            _("yes") if row.sla.breached else _("no"),
            c.rating if c.rating is not None else "",
            f"{c.nlu_confidence:.2f}" if c.nlu_confidence is not None else "",
            c.report_count,
            mask_text(c.summary),
        ])
    return write_csv(header, lines)


def csv_response(body: str, filename: str) -> Response:
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
