#!/usr/bin/env python3
"""The ArtSpot CDK app: `cdk synth` / `cdk deploy ArtSpot-Staging` (see infra/README.md).

Context: ``imageTag`` (default "latest") is the ECR tag of the image the ECS tasks run;
``tracing`` ("true"/"false") overrides each stage's X-Ray switch.
"""

from __future__ import annotations

import os

from artspot_infra.config import EDGE_REGION, STAGES
from artspot_infra.edge import EdgeStack
from artspot_infra.stack import ArtSpotStack
from aws_cdk import App, Environment, Stack


def _flag(value: object, default: bool) -> bool:
    if value is None:
        return default
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"context 'tracing' must be true or false, not {value!r}")
    return text == "true"


def build(app: App) -> dict[str, Stack]:
    """Add both stages (each a regional stack and its us-east-1 edge stack); return them by name."""
    image_tag = str(app.node.try_get_context("imageTag") or "latest")
    # The account comes from the credentials at deploy time; offline it stays a token.
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    stacks: dict[str, Stack] = {}
    for config in STAGES:
        edge = EdgeStack(
            app,
            f"{config.stack_name}-Edge",
            config=config,
            env=Environment(account=account, region=EDGE_REGION),
            cross_region_references=True,
            description=f"ArtSpot {config.name}: WAF and certificate for CloudFront (us-east-1)",
        )
        stack = ArtSpotStack(
            app,
            config.stack_name,
            config=config,
            image_tag=image_tag,
            tracing=_flag(app.node.try_get_context("tracing"), config.tracing),
            web_acl_arn=edge.web_acl.attr_arn,
            certificate=edge.certificate,
            env=Environment(account=account, region=config.region),
            cross_region_references=True,
            description=f"ArtSpot {config.name}",
        )
        stacks[edge.stack_name] = edge
        stacks[stack.stack_name] = stack
    return stacks


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
