"""Keeping the English catalogue in step with the code: extract, merge, find what is untranslated.

``make i18n`` (``python -m service.i18n_catalogue``) extracts every msgid from the Python
modules and templates named in ``babel.cfg`` and merges them into
``service/locale/en/LC_MESSAGES/messages.po``: new msgids arrive with an empty English
text, msgids no longer used are dropped. No fuzzy matching: a guessed translation of a
changed sentence would be shown as if someone had checked it. The output has no source
locations and is sorted, so two branches adding strings merge as plain text.
``tests/unit/test_i18n.py`` fails while any msgid has no English.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "babel.cfg"
PO_FILE = Path(__file__).resolve().parent / "locale" / "en" / "LC_MESSAGES" / "messages.po"
# Babel's keywords plus service.i18n.NP_ (a msgid with its context, marked for later).
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}


def extract(root: Path = ROOT, mapping: Path = MAPPING) -> Catalog:
    """Every msgid under ``root`` (Python ``gettext``/``N_``/``NP_``/``_``, templates' ``_``) per ``mapping``.

    Returns a template catalogue (no translations). Source: Babel's extractors, the
    ``jinja2`` one being Jinja2's own (``jinja2.ext.babel_extract``).
    """
    with mapping.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    template = Catalog(project="bantin", locale=None, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        root, method_map, options_map, keywords=KEYWORDS
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read_catalogue(path: Path = PO_FILE) -> Catalog:
    """The English catalogue as Babel reads it."""
    with path.open("rb") as handle:
        return read_po(handle, locale="en")


def untranslated(template: Catalog, catalogue: Catalog) -> list[str]:
    """The msgids of ``template`` that ``catalogue`` lacks, leaves empty or marks fuzzy, sorted."""
    missing: list[str] = []
    for message in template:
        if not message.id:
            continue
        found = catalogue.get(message.id, context=message.context)
        text = found.string if found is not None else None
        complete = all(text) if isinstance(text, tuple) else bool(text)
        if found is None or not complete or found.fuzzy:
            missing.append(str(message.id))
    return sorted(missing)


def update(path: Path = PO_FILE) -> list[str]:
    """Merge the extracted msgids into the catalogue at ``path``; returns those still without English."""
    template = extract()
    catalogue = read_catalogue(path) if path.exists() else Catalog(locale="en", project="bantin")
    catalogue.update(template, no_fuzzy_matching=True, update_creation_date=False)
    buffer = io.BytesIO()
    write_po(buffer, catalogue, omit_header=False, no_location=True, sort_output=True, ignore_obsolete=True, width=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return untranslated(template, read_catalogue(path))


def main() -> int:
    """``make i18n``: update the catalogue, list what needs English; exit status 1 if anything does."""
    missing = update()
    for msgid in missing:
        print(f"no English yet: {msgid}")
    print(f"{PO_FILE.relative_to(ROOT)}: {len(missing)} msgid(s) without English")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
