"""A listing's cards (home, categories), each rendered once per process and then reused (decision 49).

A card is a pure function of what it shows — ``service.site.pages.Card``, a frozen value
carrying the article's id, slug, title, summary, cover, dates and categories — of the
page's language, of whether it leads the first page, and of the build (templates, time
zone, catalogue: ``Branding.build_id``). That tuple is its key, so nothing has to be
invalidated: an edit, a withdrawal or a new category makes a different ``Card`` (or none)
and so a different key, and what is no longer shown ages out of the LRU. This is not a
second page cache: whole pages stay in ``generation_pages.RENDERED``, keyed by the site's
generation; this only spares re-rendering the same article's card on every listing page
that shows it — the home page and its categories after each publish, a page deep in the
archive next to the one before it (rendering twenty cards was ~0.7 ms of a deep page's
~2.3 ms of CPU; bench/README.md, bench.pages).
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup

from service.i18n import language
from service.site.pages import Card, Listing
from service.web.templating import branding, environment

CARD_TEMPLATE = "_listing_card.html"
# About 2.5 KB each (the HTML and the Card it is keyed by): at most ~5 MB per process,
# room for the first pages of the home page and of a hundred categories in both languages.
HELD_CARDS = 2048


def listing_cards(listing: Listing) -> list[Markup]:
    """The HTML of each of ``listing``'s cards, in order, in the request's language."""
    build_id, lang = branding().build_id, language()
    first_page = listing.before is None
    return [_card(build_id, lang, first_page and n == 0, card) for n, card in enumerate(listing.cards)]


@lru_cache(maxsize=HELD_CARDS)
def _card(build_id: str, lang: str, lead: bool, card: Card) -> Markup:
    # build_id and lang are only the key: the template reads the same from the context
    # it renders in (the request's language, this build's filters and catalogue).
    html = environment().get_template(CARD_TEMPLATE).render(item=card, lead=lead)
    return Markup(html)  # noqa: S704 - the output of an autoescaped template
