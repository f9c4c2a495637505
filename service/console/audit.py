"""Console: the audit log (admins only): filter by person, action, object and time; export CSV.

GET only: reading the log changes nothing (and writes no row of its own). An unknown
action or object type, or a time that is not one, is a 422 with the message by its field
(decision 0020), never an unfiltered list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from config.settings import get_settings
from service.audit.log import ACTIONS
from service.audit.queries import OBJECT_TYPES, AuditFilter, audit_page, csv_chunks
from service.auth.sessions import SignedIn
from service.console.common import console_router, html_page
from service.console.forms import filter_error
from service.console.security import AdminUser
from service.console.times import parse_local_time
from service.db.engine import read_scope
from service.db.models import AuditEvent
from service.db.types import utcnow
from service.inputs import PageNumber, SearchText

router = console_router()
PAGE_SIZE = 50
FILTERS = ("person", "action", "object_type", "object_id", "since", "until")
_DATE_ONLY = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")


def _instant(raw: str) -> tuple[datetime | None, str | None]:
    """A local "dd/mm/yyyy HH:mm" (or a day alone: its midnight) in BANTIN_TIMEZONE; (None, None) when empty."""
    raw = raw.strip()
    if not raw:
        return None, None
    return parse_local_time(f"{raw} 00:00" if _DATE_ONLY.fullmatch(raw) else raw, get_settings().zone)


def _chosen(values: dict[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    errors = {
        name: error
        for name, error in (
            ("action", filter_error(values["action"], ACTIONS)),
            ("object_type", filter_error(values["object_type"], OBJECT_TYPES)),
        )
        if error
    }
    since, error = _instant(values["since"])
    if error:
        errors["since"] = error
    until, error = _instant(values["until"])
    if error:
        errors["until"] = error
    chosen = AuditFilter(
        person=values["person"].strip() or None,
        action=values["action"] or None,
        object_type=values["object_type"] or None,
        object_id=values["object_id"].strip() or None,
        since=since,
        until=until,
    )
    return chosen, errors


def _filters(
    person: SearchText = "",
    action: SearchText = "",
    object_type: SearchText = "",
    object_id: SearchText = "",
    since: SearchText = "",
    until: SearchText = "",
) -> dict[str, str]:
    """The filters of the query string, as typed (the page shows them back)."""
    values = {"person": person, "action": action, "object_type": object_type, "object_id": object_id}
    return values | {"since": since, "until": until}


Filters = Annotated[dict[str, str], Depends(_filters)]


@router.get("/audit", response_class=HTMLResponse)
def audit(user: AdminUser, values: Filters, page: PageNumber = 1) -> Response:
    """The audit log, newest first, PAGE_SIZE a page; times shown in BANTIN_TIMEZONE."""
    chosen, errors = _chosen(values)
    rows: list[AuditEvent] = []
    total = 0
    if not errors:
        with read_scope() as session:
            rows, total = audit_page(session, chosen, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return _page(user, values, errors, rows, total, page)


def _page(
    user: SignedIn, values: dict[str, str], errors: dict[str, str], rows: list[AuditEvent], total: int, page: int
) -> Response:
    query = urlencode({k: values[k] for k in FILTERS if values[k]})
    return html_page(
        "audit.html",
        user,
        status_code=422 if errors else 200,
        values=values,
        errors=errors,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        query=query,
        actions=ACTIONS,
        object_types=OBJECT_TYPES,
        zone=get_settings().zone,
    )


@router.get("/audit.csv")
def audit_csv(user: AdminUser, values: Filters) -> Response:
    """Every row the same filters match, as CSV (UTF-8, times in UTC, ISO 8601); a bad filter is the page's 422."""
    chosen, errors = _chosen(values)
    if errors:
        return _page(user, values, errors, [], 0, 1)

    def body() -> Iterator[bytes]:
        with read_scope() as session:
            for text in csv_chunks(session, chosen):
                yield text.encode("utf-8")

    name = f"bantin-audit-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    return StreamingResponse(
        body(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
