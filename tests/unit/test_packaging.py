"""What installing Bantin takes: the lock files (``make lock``) hold every requirement of
pyproject.toml at a version it allows, each with its hashes; 0.x dependencies have upper
bounds; the wheel holds the service and its data files, and nothing else of ours."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
BUILD_IN = REPO / "requirements" / "build.in"


def pins(lock: Path) -> dict[str, tuple[Version, list[str]]]:
    """``{name: (version, hashes)}`` of a lock in pip's hash-checking format."""
    found: dict[str, tuple[Version, list[str]]] = {}
    text = lock.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split(" --hash=")
        name, _, version = requirement.split(";", 1)[0].strip().partition("==")
        assert version, f"{lock.name}: not pinned with ==: {line[:80]}"
        found[canonicalize_name(name)] = (Version(version.strip()), [o.strip() for o in options])
    return found


def requirements(*extras: str) -> list[Requirement]:
    listed = list(PROJECT["dependencies"])
    for extra in extras:
        listed += PROJECT["optional-dependencies"][extra]
    listed += [line for line in BUILD_IN.read_text().splitlines() if line and not line.startswith("#")]
    return [Requirement(text) for text in listed]


def unsatisfied(lock: Path, wanted: list[Requirement]) -> list[str]:
    pinned = pins(lock)
    problems = []
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            problems.append(f"{requirement}: not in {lock.name}")
        elif pinned[name][0] not in requirement.specifier:
            problems.append(f"{requirement}: {lock.name} holds {pinned[name][0]}")
    return problems


def test_each_lock_holds_every_requirement_at_a_version_pyproject_allows() -> None:
    # A dependency added or re-bounded in pyproject.toml without `make lock` fails here.
    runtime, dev = REPO / "requirements" / "runtime.txt", REPO / "requirements" / "dev.txt"
    assert unsatisfied(runtime, requirements("apprise")) == []
    assert unsatisfied(dev, requirements(*PROJECT["optional-dependencies"])) == []


def test_every_pin_has_hashes_and_the_tests_run_the_versions_the_image_ships() -> None:
    runtime = pins(REPO / "requirements" / "runtime.txt")
    dev = pins(REPO / "requirements" / "dev.txt")
    for lock in (runtime, dev):
        assert [name for name, (_, hashes) in lock.items() if not hashes] == []
        assert all(h.startswith("sha256:") for _, hashes in lock.values() for h in hashes)
    assert {name: dev[name][0] for name in runtime if dev.get(name, (None,))[0] != runtime[name][0]} == {}


def test_the_locked_build_backend_is_the_one_pyproject_builds_with() -> None:
    listed = [line for line in BUILD_IN.read_text().splitlines() if line and not line.startswith("#")]
    assert sorted(listed) == sorted(PYPROJECT["build-system"]["requires"])


def test_every_0x_dependency_has_an_upper_bound() -> None:
    # Below 1.0 a minor release may break its API: `make lock UPGRADE=1` must not take one.
    locked = pins(REPO / "requirements" / "dev.txt")
    unbounded = [
        str(requirement)
        for requirement in requirements(*PROJECT["optional-dependencies"])
        if locked[canonicalize_name(requirement.name)][0].major == 0
        and not any(spec.operator in {"<", "<=", "==", "~="} for spec in requirement.specifier)
    ]
    assert unbounded == []


def test_the_wheel_holds_the_service_and_its_files_and_not_bench_or_tests(tmp_path: Path) -> None:
    # From a copy of the sources, bench/ included: setuptools reuses a checkout's build/
    # folder, which an older build may have left holding packages no longer included.
    source = tmp_path / "source"
    for folder in ("service", "workers", "config", "bench"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    # As the image builds it: no dependencies, the installed (locked) setuptools.
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-w", str(tmp_path), str(source)], check=True, capture_output=True, timeout=240)
    (wheel,) = tmp_path.glob("bantin-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names if not name.startswith("bantin-")}
    assert top == {"service", "workers", "config"}
    # The data files the image needs at run time, which only package-data puts in a wheel.
    for expected in (
        "service/locale/en/LC_MESSAGES/messages.po",
        "service/web/templates/base.html",
        "service/console/templates/base.html",
        "service/db/migrations/env.py",
        "config/key_dates.yaml",
    ):
        assert expected in names, expected
    assert any(name.startswith("service/console/static/vendor/") for name in names)
