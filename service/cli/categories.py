"""``bantin categories``: the categories readers see (service/articles/categories.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import fail, print_table

categories_app = typer.Typer(help="Categories readers see.", no_args_is_help=True)


@categories_app.command("create")
def create(name: Annotated[str, typer.Argument(help="the category's name, as readers see it")]) -> None:
    """Create a category for readers (or list an existing one): public at once, before any
    article uses it — on /subscribe, the Telegram keyboard, its page and its feeds."""
    from pydantic import TypeAdapter, ValidationError

    from config.settings import get_settings
    from service.articles.categories import create_listed_category
    from service.articles.schemas import Categories
    from service.db.engine import session_scope
    from service.db.types import utcnow
    from service.feeds.publish import render_scope
    from service.feeds.scopes import category_scope

    try:
        (clean,) = TypeAdapter(Categories).validate_python([name])
    except ValidationError as exc:
        raise fail(f"name {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    with session_scope() as session:
        category = create_listed_category(session, clean, utcnow())
        # Its (empty) feeds answer at once, like the site's on a fresh install.
        render_scope(session, category_scope(category.slug), utcnow(), get_settings())
        summary = f"category {category.name} (/categories/{category.slug}) is public"
    typer.echo(summary)


@categories_app.command("list")
def list_() -> None:
    """Every category: slug, whether readers see it, name."""
    from sqlalchemy import select

    from service.articles.categories import is_public
    from service.db.engine import session_scope
    from service.db.models import Category

    with session_scope() as session:
        rows = session.execute(select(Category.slug, Category.name, is_public()).order_by(Category.slug)).all()
    print_table(
        ("slug", "readers", "name"), [(s, "public" if p else "not public (drafts only)", n) for s, n, p in rows]
    )
