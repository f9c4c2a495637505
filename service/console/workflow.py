"""Console: the review workflow, its stages in order and who holds each (admins only; decision 0042).

Thin: the form is read here, ``service.staff.workflow.replace_stages`` checks and writes it.
The form shows the stored stages and one empty row to add a stage (up to MAX_STAGES); a row
whose name is emptied is removed. A stage is held by every editor and admin, by every admin,
or by the reviewers ticked in its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from service.audit.log import record
from service.auth.sessions import SignedIn, push_flash
from service.console.common import console_router, html_page, see_other
from service.console.security import AdminUser, CheckedForm
from service.db.engine import session_scope
from service.db.models import User, UserRole
from service.errors import InvalidField
from service.i18n import gettext
from service.staff.workflow import MAX_NAME, MAX_STAGES, StageInput, replace_stages, stage_label, stages

router = console_router()
HOLDERS = ("editor", "admin", "members")


@dataclass
class Row:
    """One stage row of the form as shown: its name, who holds it, the ticked usernames."""

    name: str = ""
    holder: str = "editor"
    members: set[str] = field(default_factory=set)


def _reviewers() -> list[tuple[str, str]]:
    """(username, display name) of every active editor and admin: who a stage may name."""
    with session_scope() as session:
        rows = session.execute(
            select(User.username, User.display_name)
            .where(User.active.is_(True), User.role.in_([UserRole.EDITOR.value, UserRole.ADMIN.value]))
            .order_by(User.display_name, User.username)
        )
        return [(username, name) for username, name in rows]


def _page(user: SignedIn, rows: list[Row], errors: dict[str, str], status_code: int = 200,
          default: str = "") -> HTMLResponse:  # fmt: skip
    return html_page(
        "workflow.html",
        user,
        status_code=status_code,
        rows=rows,
        errors=errors,
        reviewers=_reviewers(),
        max_name=MAX_NAME,
        default_name=default,
    )


@router.get("/workflow", response_class=HTMLResponse)
def workflow(user: AdminUser) -> Response:
    """The stages as stored (none: the default single stage, shown as the first row) and an empty row."""
    with session_scope() as session:
        stored = stages(session)
    rows = [Row(stage_label(s), s.role or "members", set(s.members)) for s in stored]
    if len(rows) < MAX_STAGES:
        rows.append(Row())
    return _page(user, rows, {}, default=stage_label(stored[0]) if stored[0].default else "")


def _read(posted: dict[str, str]) -> list[Row]:
    rows = []
    for number in range(1, MAX_STAGES + 1):
        prefix = f"stage_{number}_"
        members = {key[len(prefix + "member_") :] for key in posted if key.startswith(prefix + "member_")}
        rows.append(Row(posted.get(prefix + "name", "").strip(), posted.get(prefix + "holder", "editor"), members))
    return rows


def _error_words(refused: InvalidField) -> str:
    if refused.code == "not_a_reviewer":
        return gettext("%(name)s không phải biên tập viên hay quản trị đang hoạt động.", name=refused.params["name"])
    if refused.code == "too_long":
        return gettext("Tên bước dài quá %(limit)s ký tự.", limit=refused.params["limit"])
    if refused.code == "required" and refused.field.endswith("_members"):
        return gettext("Chọn ít nhất một người giữ bước này.")
    if refused.code == "required":
        return gettext("Hãy đặt tên cho bước này.")
    return gettext("Người giữ bước không hợp lệ; hãy chọn trong danh sách.")


@router.post("/workflow", response_class=HTMLResponse)
def save_workflow(user: AdminUser, posted: CheckedForm) -> Response:
    """Save the stages in the form's order (rows with no name and nobody ticked are left out).
    422 with the typed rows and the message by the wrong field; nothing is saved then."""
    rows = _read(posted)
    kept = [(number, row) for number, row in enumerate(rows, start=1) if row.name or row.members]
    for number, row in kept:
        if row.holder not in HOLDERS:
            return _page(user, rows, {f"stage_{number}_holder": _error_words(InvalidField("x", "unknown_holder"))}, 422)
    wanted = [
        StageInput(row.name, None if row.holder == "members" else row.holder,
                   tuple(sorted(row.members)) if row.holder == "members" else ())
        for _, row in kept
    ]  # fmt: skip
    with session_scope() as session:
        before = [stage_label(s) for s in stages(session)]
        try:
            saved = replace_stages(session, wanted)
        except InvalidField as refused:
            session.rollback()
            index = int(refused.field.split("_")[1]) - 1 if refused.field.startswith("stage_") else 0
            number = kept[index][0] if kept else 1
            kind = refused.field.rsplit("_", 1)[-1] if refused.field.startswith("stage_") else "name"
            return _page(user, rows, {f"stage_{number}_{kind}": _error_words(refused)}, 422)
        after = [stage_label(s) for s in saved]
        record(session, "workflow.update", "workflow", None, {"stages": before}, {"stages": after})
        push_flash(session, user.session_id, gettext("Đã lưu quy trình duyệt: %(stages)s.", stages=" → ".join(after)))
    return see_other("/console/workflow")
