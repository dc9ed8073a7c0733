"""cfn-lint and checkov on the synthesized templates (both stages, both regions).

Both tools live in their own venv (.venv-tools, made by `make install-test` from
infra/requirements-tools.txt) because checkov pins libraries below what the app needs. checkov's
accepted findings are the table in infra/README.md ("checkov exceptions"), read here so the two
cannot drift: a finding not in the table fails, and so does a row that no longer matches anything.
"""

from __future__ import annotations

import json
import re
import subprocess
from fnmatch import fnmatch
from pathlib import Path

import pytest

from .conftest import ROOT

TOOLS = ROOT / ".venv-tools" / "bin"
README = ROOT / "infra" / "README.md"


def tool(name: str) -> str:
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make install-test` (it builds .venv-tools)")
    return str(path)


@pytest.fixture(scope="module")
def lint_runs(assembly):
    """Start both linters at once (each takes tens of seconds) and collect their output."""
    templates = sorted(str(p) for p in Path(assembly.outdir).glob("*.template.json"))
    assert len(templates) == 4
    checkov_args = [tool("checkov"), "--framework", "cloudformation", "-o", "json", "--quiet"]
    for template in templates:
        checkov_args += ["-f", template]
    processes = {
        "cfn-lint": subprocess.Popen(
            [tool("cfn-lint"), "--format", "json", *templates],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        "checkov": subprocess.Popen(
            checkov_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ),
    }
    return {name: process.communicate(timeout=240) for name, process in processes.items()}


def test_cfn_lint_reports_no_errors(lint_runs):
    stdout, stderr = lint_runs["cfn-lint"]
    findings = json.loads(stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000] or stderr


def readme_exceptions() -> list[tuple[str, str, str, str]]:
    """Rows of the README's checkov table: (check, stack glob, resource glob, reason)."""
    text = README.read_text()
    section = text.split("## checkov exceptions", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"CKV2?_AWS_\d+", cells[0]):
            rows.append(tuple(cells))
    return rows


def test_the_exceptions_table_is_read_and_every_row_has_a_reason():
    rows = readme_exceptions()
    assert len(rows) >= 5
    for check, stack, resource, reason in rows:
        assert stack and resource and len(reason) > 20, check


def test_checkov_fails_nothing_outside_the_readme_exceptions(lint_runs):
    stdout, stderr = lint_runs["checkov"]
    reports = json.loads(stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        (f["check_id"], Path(f["file_path"]).name.removesuffix(".template.json"), f["resource"])
        for report in reports
        for f in report["results"]["failed_checks"]
    ]
    passed = sum(report["summary"]["passed"] for report in reports)
    assert passed > 100, stderr  # checkov really read the templates
    rows = readme_exceptions()
    used = set()
    unexplained = []
    for check, stack, resource in failed:
        matches = [
            row
            for row in rows
            if row[0] == check and fnmatch(stack, row[1]) and fnmatch(resource, row[2])
        ]
        used.update(matches)
        if not matches:
            unexplained.append(f"{check} {stack} {resource}")
    assert unexplained == [], "not in infra/README.md's checkov exceptions"
    stale = [row[:3] for row in rows if row not in used]
    assert stale == [], "exceptions that no longer match a finding: remove them from the README"
