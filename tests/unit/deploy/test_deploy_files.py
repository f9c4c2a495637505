"""Docker does not run here, so the deploy files are checked for everything that can be
checked without it: they parse; Kubernetes manifests validate against the API schemas of a
current Kubernetes; every command they run is a real ``bantin`` command with real options;
every ``BANTIN_*`` setting they set exists (and their values pass the settings' own
validation); systemd units pass ``systemd-analyze verify``; the shapes an operator relies
on (probes, security contexts, one beat, a migration step first) are there."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer
import yaml
from dotenv import dotenv_values
from pydantic import ValidationError

from config.settings import Settings
from service.cli.main import app as bantin_app

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
KUBERNETES_VERSION = kubernetes_validate.utils.latest_version()
SETTING_NAMES = {f"BANTIN_{name.upper()}" for name in Settings.model_fields}
BANTIN_VARIABLE = re.compile(r"\bBANTIN_[A-Z0-9_]+\b")
CLI = typer.main.get_command(bantin_app)


# ---- helpers ---------------------------------------------------------------------------------


def bantin_command_problem(argv: list[str]) -> str | None:
    """None when ``argv`` (``bantin …``) names a real command with options it accepts."""
    command: Any = CLI  # typer's own (vendored) click classes
    args = list(argv[1:])
    path = ["bantin"]
    while isinstance(getattr(command, "commands", None), dict):  # a group
        if not args or args[0] not in command.commands:
            return f"{' '.join(path)}: no subcommand {args[:1]} (has {sorted(command.commands)})"
        path.append(args[0])
        command, args = command.commands[args[0]], args[1:]
    try:
        command.make_context(" ".join(path), args)
    except typer.TyperException as exc:  # the base of click's usage and parameter errors
        return f"{' '.join(argv)}: {exc}"
    return None


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                found.append((path.name, document))
    return found


def kinds() -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for _, doc in manifests()}


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"])
        for _, doc in manifests()
        if doc["kind"] in {"Deployment", "Job"}
    ]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def systemd_units() -> list[Path]:
    return sorted((DEPLOY / "systemd").glob("*.service"))


def every_command() -> list[tuple[str, list[str]]]:
    """(where, argv) for every command a deploy file runs in a Bantin image or unit."""
    found: list[tuple[str, list[str]]] = []
    for name, service in compose()["services"].items():
        if "build" not in service and not str(service.get("image", "")).startswith("bantin"):
            continue  # a third-party image (postgres, redis, rabbitmq) runs its own tools
        found.append((f"compose {name}", service["command"]))
        test = service.get("healthcheck", {}).get("test")
        if test:
            assert test[0] == "CMD", f"compose {name}: exec-form health check expected"
            found.append((f"compose {name} healthcheck", test[1:]))
    for where, spec in pod_specs():
        for container in spec["containers"] + spec.get("initContainers", []):
            found.append((where, container["command"] + container.get("args", [])))
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if "exec" in container.get(probe, {}):
                    found.append((f"{where} {probe}", container[probe]["exec"]["command"]))
    for instruction, rest in dockerfile_instructions():
        if instruction in {"CMD", "HEALTHCHECK"}:
            found.append((f"Dockerfile {instruction}", json.loads(rest[rest.index("[") :])))
    for unit in systemd_units():
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                argv = shlex.split(line.removeprefix("ExecStart="))
                found.append((unit.name, [Path(argv[0]).name, *argv[1:]]))
    return found


def every_setting() -> list[tuple[str, str, str]]:
    """(where, variable, value) for every BANTIN_* variable a deploy file sets."""
    found: list[tuple[str, str, str]] = []
    anchor = compose()["x-bantin"]["environment"]
    found += [("compose", key, str(value)) for key, value in anchor.items()]
    for _, doc in manifests():
        data = doc.get("data") or doc.get("stringData") or {}
        found += [(doc["metadata"]["name"], key, str(value)) for key, value in data.items()]
    for instruction, rest in dockerfile_instructions():
        if instruction == "ENV":
            found += [("Dockerfile", key, value) for key, value in re.findall(r"(\w+)=(\S+)", rest)]
    for unit in systemd_units():
        for line in unit.read_text().splitlines():
            if line.startswith("Environment="):
                key, value = line.removeprefix("Environment=").split("=", 1)
                found.append((unit.name, key, value))
    example = (DEPLOY / ".env.example").read_text()
    found += [(".env.example", key, "") for key in BANTIN_VARIABLE.findall(example)]
    return [item for item in found if item[1].startswith("BANTIN_")]


# ---- the checker itself can fail ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["bantin", "api", "--no-migrate", "--workers", "2"], None),
        (["bantin", "health", "worker", "--timeout", "10"], None),
        (["bantin", "serve"], "no subcommand ['serve']"),
        (["bantin", "api", "--workerz", "2"], "No such option: --workerz"),
        (["bantin", "api", "--port", "eighty"], "valid integer"),
        (["bantin", "db"], "no subcommand []"),
    ],
)
def test_the_command_checker_accepts_real_commands_and_refuses_others(argv: list[str], problem: str | None) -> None:
    found = bantin_command_problem(argv)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


# ---- every file --------------------------------------------------------------------------------


def test_every_deploy_file_parses() -> None:
    for path in DEPLOY.rglob("*.yaml"):
        assert list(yaml.safe_load_all(path.read_text())), path
    assert dotenv_values(DEPLOY / ".env.example")
    assert dockerfile_instructions()[0][0] == "FROM"
    assert systemd_units()


def test_every_command_is_a_real_bantin_command_with_real_options() -> None:
    commands = every_command()
    assert len(commands) >= 15
    problems = [f"{where}: {argv}" for where, argv in commands if argv[0] != "bantin"]
    problems += [
        f"{where}: {p}" for where, argv in commands if argv[0] == "bantin" and (p := bantin_command_problem(argv))
    ]
    assert problems == []


def test_which_proxies_are_trusted_is_bantins_one_setting() -> None:
    """One notion of the client (decision 0028): every deploy file starts the API through
    ``bantin api`` (which turns uvicorn's proxy handling off) and none gives uvicorn a trust
    list of its own; the operator is asked for BANTIN_TRUSTED_PROXIES where a proxy is
    assumed; nginx passes on only the header it writes."""
    starts = {where for where, argv in every_command() if argv[1:2] == ["api"]}
    assert starts == {"compose api", "Deployment/bantin-api", "Dockerfile CMD", "bantin-api.service"}
    own_trust = re.compile(r"(?i)forwarded[-_]allow[-_]ips|proxy[-_]headers|\buvicorn\s+[\w.]+:")
    assert [str(path) for path in DEPLOY.rglob("*") if path.is_file() and own_trust.search(path.read_text())] == []
    assert re.search(r"^# BANTIN_TRUSTED_PROXIES=", (DEPLOY / ".env.example").read_text(), re.M)
    assert "BANTIN_TRUSTED_PROXIES" in kinds()[("ConfigMap", "bantin")]["data"]
    nginx = (DEPLOY / "nginx" / "bantin.conf").read_text()
    assert nginx.count("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;") == nginx.count(
        'proxy_set_header Forwarded "";'
    )


def test_every_bantin_variable_is_a_real_setting_and_the_values_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = every_setting()
    assert len(settings) >= 20
    assert sorted({f"{where}: {key}" for where, key, _ in settings if key not in SETTING_NAMES}) == []
    # The ConfigMap and the example Secret together make a production configuration that loads.
    for key in [k for k in os.environ if k.startswith("BANTIN_")]:
        monkeypatch.delenv(key)
    for where, key, value in settings:
        if where == "bantin":
            monkeypatch.setenv(key, value)
    # The example Secret leaves the signing key to the operator: left empty, production refuses to start.
    with pytest.raises(ValidationError, match="BANTIN_SECRET_KEY"):
        Settings(_env_file=None)
    monkeypatch.setenv("BANTIN_SECRET_KEY", secrets.token_urlsafe(48))
    loaded = Settings(_env_file=None)
    assert loaded.environment == "production"
    assert loaded.effective_broker_url.startswith("redis://")


def test_env_example_lists_what_production_needs() -> None:
    example = (DEPLOY / ".env.example").read_text()
    for needed in ("BANTIN_BASE_URL", "BANTIN_SECRET_KEY", "BANTIN_DATABASE_URL", "BANTIN_REDIS_URL",
                   "BANTIN_BROKER_URL", "POSTGRES_PASSWORD", "BANTIN_SMTP_HOST", "BANTIN_EGRESS_ALLOW"):  # fmt: skip
        assert re.search(rf"^#? ?{needed}=", example, re.M), needed
    # Filled in, it loads as a production configuration.
    values = {k: v for k, v in dotenv_values(DEPLOY / ".env.example").items() if k.startswith("BANTIN_")}
    fields: dict[str, Any] = {key.removeprefix("BANTIN_").lower(): value for key, value in values.items()}
    assert fields["secret_key"] == "", "the example must not ship a usable signing key"
    fields["secret_key"] = secrets.token_urlsafe(48)
    assert Settings(_env_file=None, environment="production", **fields).base_url.startswith("https://")


# ---- compose ------------------------------------------------------------------------------------


def test_compose_services_health_checks_and_the_migration_first() -> None:
    services = compose()["services"]
    assert {"api", "worker", "beat", "postgres", "redis", "rabbitmq", "migrate"} <= set(services)
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]
    for name, service in services.items():
        if service.get("restart") == "no":  # a one-shot: nothing to probe while it runs
            assert service["healthcheck"] == {"disable": True}, name
        else:
            assert service["healthcheck"]["test"], name
    assert services["api"]["healthcheck"]["test"][1:] == ["bantin", "health", "api", "--path", "/readyz"]
    assert services["migrate"]["command"] == ["bantin", "db", "upgrade"]
    for role in ("api", "worker", "beat"):
        needs = services[role]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, role
        assert needs["postgres"]["condition"] == "service_healthy", role
        assert "--no-migrate" in services["api"]["command"]
    assert {"pgdata", "rabbitmq", "bantin-var"} <= set(compose()["volumes"])


# ---- Kubernetes ---------------------------------------------------------------------------------


def test_kubernetes_version_is_current() -> None:
    major, minor = (int(part) for part in KUBERNETES_VERSION.split(".")[:2])
    assert (major, minor) >= (1, 31)


@pytest.mark.parametrize(("file", "document"), manifests(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_manifest_validates_against_the_kubernetes_schema(file: str, document: dict[str, Any]) -> None:
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{file}: {exc.path}: {exc.message}")


def test_kubernetes_has_every_piece_an_operator_needs() -> None:
    found = kinds()
    for key in [("Deployment", "bantin-api"), ("Deployment", "bantin-worker"), ("Deployment", "bantin-beat"),
                ("Job", "bantin-migrate"), ("Service", "bantin-api"), ("ConfigMap", "bantin"), ("Secret", "bantin"),
                ("PodDisruptionBudget", "bantin-api"), ("HorizontalPodAutoscaler", "bantin-worker")]:  # fmt: skip
        assert key in found, key
    beat = found[("Deployment", "bantin-beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"] == {"type": "Recreate"}
    api = found[("Deployment", "bantin-api")]["spec"]
    [container] = api["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    pod_labels = api["template"]["metadata"]["labels"]
    assert found[("Service", "bantin-api")]["spec"]["selector"].items() <= pod_labels.items()
    assert found[("PodDisruptionBudget", "bantin-api")]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert found[("HorizontalPodAutoscaler", "bantin-worker")]["spec"]["scaleTargetRef"]["name"] == "bantin-worker"


@pytest.mark.parametrize(("where", "spec"), pod_specs(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_pod_runs_non_root_read_only_with_limits(where: str, spec: dict[str, Any]) -> None:
    assert spec["securityContext"]["runAsNonRoot"] is True, where
    assert spec["securityContext"]["runAsUser"] != 0, where
    empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["capabilities"]["drop"] == ["ALL"], where
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts["/tmp"] in empty_dirs and mounts["/var/lib/bantin"] in empty_dirs, where
        refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert refs == {"bantin"}, where


# ---- the image ----------------------------------------------------------------------------------


def test_the_image_is_multi_stage_pinned_non_root_without_bench_and_has_a_health_check() -> None:
    instructions = dockerfile_instructions()
    bases = [rest.split()[0] for instruction, rest in instructions if instruction == "FROM"]
    assert len(bases) >= 2, "multi-stage"
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", base), f"unpinned base {base}"
    users = [rest for instruction, rest in instructions if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert not any(instruction in {"COPY", "ADD"} and "bench" in rest for instruction, rest in instructions)
    assert any(instruction == "HEALTHCHECK" for instruction, _ in instructions)
    # What the image copies is the service's packages, all of them, and nothing else of ours.
    copied = {
        source
        for instruction, rest in instructions
        if instruction == "COPY" and "--from" not in rest
        for source in rest.split()[:-1]  # the last word is the destination
    }
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "bench"}
    assert copied == {"pyproject.toml", "README.md", "requirements/runtime.txt"} | packages, copied
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {"bench", "tests", ".git", ".venv", ".env"} <= set(ignored)


def test_the_image_installs_the_runtime_lock_and_then_bantin_alone() -> None:
    # Every dependency comes from the lock, each file checked against its hash; the project
    # itself adds nothing from the index and is built by the locked setuptools.
    runs = [shlex.split(rest) for instruction, rest in dockerfile_instructions() if instruction == "RUN"]
    installs = [argv[argv.index("install") + 1 :] for argv in runs if argv[0].endswith("pip") and "install" in argv]
    assert installs == [
        ["--require-hashes", "-r", "requirements/runtime.txt"],
        ["--no-deps", "--no-build-isolation", "."],
    ], installs


# ---- systemd ------------------------------------------------------------------------------------


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is needed to verify the units: `make test-deps` installs it (Debian's systemd)")
    bantin = Path(sys.executable).with_name("bantin")
    assert bantin.exists(), "the bantin entry point of this environment"
    for unit in systemd_units():
        # Verify the unit as it is, with the install path pointed at this checkout's bantin
        # (systemd-analyze checks that every ExecStart program exists).
        text = unit.read_text().replace("/srv/bantin/.venv/bin/bantin", str(bantin))
        (tmp_path / unit.name).write_text(text.replace("WorkingDirectory=/srv/bantin", f"WorkingDirectory={REPO}"))
    result = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # It exits 0 on unknown keys and bad values, but says so: any output is a defect.
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_every_role_unit_needs_the_migration_first() -> None:
    for unit in systemd_units():
        if unit.name == "bantin-migrate.service":
            assert "Type=oneshot" in unit.read_text()
            continue
        text = unit.read_text()
        assert "Requires=bantin-migrate.service" in text and "After=bantin-migrate.service" in text, unit.name


def worker_queues(argv: list[str]) -> list[str]:
    """The queues a ``bantin worker`` command takes (the CLI's default when it names none)."""
    import inspect

    from service.cli.main import worker

    default = inspect.signature(worker).parameters["queues"].default
    given = argv[argv.index("--queues") + 1] if "--queues" in argv else str(default)
    return [name for name in given.split(",") if name]


@pytest.mark.parametrize("deployment", ["compose", "kubernetes", "systemd"])
def test_each_deployment_takes_every_queue_and_no_worker_mixes_feeds_with_third_parties(deployment: str) -> None:
    """Decision 0031: a worker that renders feeds never waits on a subscriber's server, and
    every queue has a worker (a queue nobody takes would hold its deliveries for ever)."""
    from workers.queues import Queue, worker_role

    prefix = {"compose": "compose ", "kubernetes": "Deployment", "systemd": "bantin-"}[deployment]
    workers = [argv for where, argv in every_command() if where.startswith(prefix) and argv[:2] == ["bantin", "worker"]]
    assert len(workers) >= 2, workers
    roles = {worker_role(worker_queues(argv)) for argv in workers}  # ValueError for a mix
    assert roles == {"feeds", "outbound"}
    assert {name for argv in workers for name in worker_queues(argv)} == {queue.value for queue in Queue}
