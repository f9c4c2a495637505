"""The layering rules of decision 0032 are checked, not only stated: `make lint` runs import-linter
over the contracts in pyproject.toml, and a new arrow fails with the rule's name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE = "Channels and deliveries import no domain that announces and no shell (decision 0032)"


def lint_imports(tree: Path) -> str:
    """What ``lint-imports`` says of the packages under ``tree`` (pyproject.toml's contracts), and its exit status."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    return f"{result.returncode}\n" + " ".join(result.stdout.split())


def test_the_contracts_hold_and_a_new_arrow_from_a_channel_to_a_domain_breaks_the_named_one(tmp_path: Path) -> None:
    assert lint_imports(ROOT).startswith("0\n"), lint_imports(ROOT)
    for package in ("service", "workers", "config"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    mail = tmp_path / "service" / "channels" / "mail.py"
    mail.write_text(mail.read_text() + "\nfrom service.digests.planning import DIGEST  # noqa: E402\n")
    said = lint_imports(tmp_path)
    assert said.startswith("1\n") and f"{RULE} BROKEN" in said
    assert "service.channels.mail -> service.digests.planning" in said
