"""axe-core on a page the browser tests visit: WCAG 2.0 and 2.1, levels A and AA.

Circular 26/2020/TT-BTTTT asks state websites to be accessible (issue 20 §5); the browser
tests call `assert_accessible(page)` once per page they visit, after the page has settled,
and fail on any violation. axe-core is vendored (tests/integration/vendor/axe-core, MPL-2.0,
its VERSION file says which release), so nothing is fetched at test time.

The script goes in through `page.evaluate`, which the DevTools protocol runs outside the
page's Content-Security-Policy: the pages keep the policy they are served with.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import pytest
from playwright.sync_api import Page

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")

# axe's tags for WCAG 2.0 and 2.1 at levels A and AA (its "best-practice" rules are advice, not law).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN = """async ([tags, exclude]) => {
  const context = exclude.length ? {exclude: exclude.map((selector) => [selector])} : document;
  const results = await axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact || '', help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
    summary: v.nodes.length ? (v.nodes[0].failureSummary || '') : '',
  }));
}"""


class Violation(TypedDict):
    """One rule broken on the page: axe's rule id, its impact, and a CSS selector per node."""

    id: str
    impact: str
    help: str
    targets: list[str]
    summary: str


def violations(page: Page, exclude: tuple[str, ...] = ()) -> list[Violation]:
    """axe's WCAG 2.0/2.1 A and AA violations on the page as it is now, outside the elements
    the CSS selectors ``exclude`` match (injects axe once per document)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    found: list[Violation] = page.evaluate(RUN, [WCAG_TAGS, list(exclude)])
    return found


def describe(url: str, found: list[Violation]) -> str:
    """A failure message a person can act on: rule, impact, what it asks, where, and why."""
    lines = [f"axe-core: {len(found)} WCAG 2.1 A/AA violation(s) on {url}"]
    for violation in found:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    at {target}" for target in violation["targets"][:8])
        if len(violation["targets"]) > 8:
            lines.append(f"    … and {len(violation['targets']) - 8} more")
        if violation["summary"]:
            lines.append("    " + violation["summary"].replace("\n", "\n    "))
    return "\n".join(lines)


def assert_accessible(page: Page, exclude: tuple[str, ...] = ()) -> None:
    """Fail the test if axe finds any WCAG 2.1 A/AA violation on the page.

    ``exclude``: selectors of what the browser itself puts in the page (never ours), each
    with the reason where it is passed."""
    found = violations(page, exclude)
    if found:
        pytest.fail(describe(page.url, found), pytrace=False)
