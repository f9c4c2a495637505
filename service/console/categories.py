"""Console: which categories the public pages' menu shows, in which order (admins only).

Thin: the form is read here, ``service.site.navigation.set_menu`` writes it. A category
in the menu shows only while it is public (a published article uses it), so an admin
may place one before its first article goes out.
"""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import HTMLResponse

from service.auth.sessions import SignedIn, push_flash
from service.console.common import console_router, html_page, see_other
from service.console.security import AdminUser, CheckedForm
from service.db.engine import session_scope
from service.i18n import gettext
from service.site.navigation import MAX_MENU_POSITION, MenuChoice, menu_choices, set_menu

router = console_router()


# What the form holds for a category: (in the menu, the place as typed).
Values = dict[int, tuple[bool, str]]


def _page(
    user: SignedIn, choices: list[MenuChoice], values: Values, errors: dict[int, str], status_code: int = 200
) -> HTMLResponse:
    return html_page(
        "categories.html",
        user,
        status_code=status_code,
        choices=choices,
        values=values,
        errors=errors,
        max_position=MAX_MENU_POSITION,
    )


@router.get("/categories", response_class=HTMLResponse)
def categories(user: AdminUser) -> Response:
    """Every category: whether the menu shows it and where, its published articles."""
    with session_scope() as session:
        choices = menu_choices(session)
    values = {c.id: (c.menu_position is not None, str(c.menu_position or "")) for c in choices}
    return _page(user, choices, values, {})


@router.post("/categories", response_class=HTMLResponse)
def save_menu(user: AdminUser, posted: CheckedForm) -> Response:
    """Save the menu: ``menu-<id>`` checked puts a category in it, at ``place-<id>`` (1 to
    MAX_MENU_POSITION; empty: after the others, in the order listed). 422 with the typed
    values and a message by each wrong place; nothing is saved then."""
    with session_scope() as session:
        choices = menu_choices(session)
    values: Values = {}
    errors: dict[int, str] = {}
    chosen: dict[int, int] = {}
    last = 0
    for choice in choices:
        checked = posted.get(f"menu-{choice.id}") == "on"
        typed = posted.get(f"place-{choice.id}", "").strip()
        values[choice.id] = (checked, typed)
        if not checked or not typed:
            continue
        if not (typed.isascii() and typed.isdigit() and 1 <= int(typed) <= MAX_MENU_POSITION):
            errors[choice.id] = gettext("Thứ tự là một số từ 1 đến %(max)s.", max=MAX_MENU_POSITION)
            continue
        chosen[choice.id] = int(typed)
        last = max(last, int(typed))
    if errors:
        return _page(user, choices, values, errors, 422)
    for choice in choices:  # checked without a place: after the others, in the listed order
        if values[choice.id][0] and choice.id not in chosen:
            last = min(last + 1, MAX_MENU_POSITION)
            chosen[choice.id] = last
    with session_scope() as session:
        set_menu(session, chosen)
        push_flash(session, user.session_id, gettext("Đã lưu menu chuyên mục của trang công khai."))
    return see_other("/console/categories")
