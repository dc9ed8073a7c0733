"""The synthesized stacks (both stages) hold the guarantees issue 10 asks of the infrastructure,
and the template linters agree.

One module, so the app is synthesized once per run (pytest-xdist keeps a module on one worker).

cfn-lint and checkov on the synthesized templates (both stages, both regions).

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

from artspot.settings.required import REQUIRED_VARIABLES

from .conftest import ROOT, STAGES

CONTRACT_OUTPUTS = {
    "SiteUrl",
    "AppRunnerServiceArn",
    "EcsClusterName",
    "MigrateTaskDefinitionArn",
    "PrivateSubnetIds",
    "TaskSecurityGroupId",
    "WorkerServiceName",
    "BeatServiceName",
}
# Variables that carry a credential: they must come from Secrets Manager, never the template.
SECRET_VARIABLES = {
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "SHIPSTATION_API_KEY",
    "SHIPSTATION_API_SECRET",
    "SHIPSTATION_WEBHOOK_SECRET",
    "HEALTH_DETAIL_TOKEN",
}


def only(resources: dict[str, dict]) -> tuple[str, dict]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))


def container_of(assembly, stack: str, command: str) -> dict:
    for definition in assembly.resources(stack, "AWS::ECS::TaskDefinition").values():
        (container,) = definition["Properties"]["ContainerDefinitions"]
        if container.get("Command") == [command]:
            return container
    raise AssertionError(f"no task runs {command}")


def web_service(assembly, stack: str) -> dict:
    _, service = only(assembly.resources(stack, "AWS::AppRunner::Service"))
    return service["Properties"]


@pytest.mark.parametrize("stack", STAGES)
def test_each_stage_outputs_what_the_deploy_workflow_reads(assembly, stack):
    assert set(assembly.templates[stack]["Outputs"]) >= CONTRACT_OUTPUTS


def test_synth_needs_no_lookup_and_no_docker(assembly):
    """Offline: no context lookup left unresolved, no image built at synth time."""
    manifest = json.loads((assembly.outdir / "manifest.json").read_text())
    assert "missing" not in manifest
    asset_files = list(assembly.outdir.glob("*.assets.json"))
    assert len(asset_files) == 4
    for path in asset_files:
        assert json.loads(path.read_text()).get("dockerImages", {}) == {}, path.name
    # The ECS tasks run the pushed image by tag (imageTag context), from the artspot repository.
    worker = json.dumps(container_of(assembly, "ArtSpot-Staging", "scripts/worker")["Image"])
    assert "/artspot:test-sha" in worker


def test_production_database_is_multi_az_encrypted_protected_with_a_replica(assembly):
    from aws_cdk.assertions import Match

    template = assembly.template("ArtSpot-Production")
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "postgres",
            "MultiAZ": True,
            "StorageEncrypted": True,
            "KmsKeyId": Match.any_value(),
            "DeletionProtection": True,
            "BackupRetentionPeriod": 14,
        },
    )
    instances = assembly.resources("ArtSpot-Production", "AWS::RDS::DBInstance")
    primary = next(
        k for k, v in instances.items() if "SourceDBInstanceIdentifier" not in v["Properties"]
    )
    replica = next(v for v in instances.values() if "SourceDBInstanceIdentifier" in v["Properties"])
    # Its source is the encrypted primary, whose encryption a replica inherits.
    assert json.dumps(replica["Properties"]["SourceDBInstanceIdentifier"]).count(primary) == 1
    assert replica["Properties"]["DeletionProtection"] is True
    # The replica reaches the app as DATABASE_REPLICA_URL, through Secrets Manager.
    secrets = {
        s["Name"]
        for s in web_service(assembly, "ArtSpot-Production")["SourceConfiguration"][
            "ImageRepository"
        ]["ImageConfiguration"]["RuntimeEnvironmentSecrets"]
    }
    assert "DATABASE_REPLICA_URL" in secrets
    worker = container_of(assembly, "ArtSpot-Production", "scripts/worker")
    assert "DATABASE_REPLICA_URL" in {s["Name"] for s in worker["Secrets"]}


def test_staging_database_is_single_az_but_still_encrypted_and_protected(assembly):
    (instance,) = assembly.resources("ArtSpot-Staging", "AWS::RDS::DBInstance").values()
    properties = instance["Properties"]
    assert properties["MultiAZ"] is False
    assert properties["StorageEncrypted"] is True
    assert properties["DeletionProtection"] is True
    assert properties["BackupRetentionPeriod"] == 7


@pytest.mark.parametrize("stack", STAGES)
def test_redis_is_encrypted_with_an_auth_token_from_secrets_manager(assembly, stack):
    _, group = only(assembly.resources(stack, "AWS::ElastiCache::ReplicationGroup"))
    properties = group["Properties"]
    assert properties["AtRestEncryptionEnabled"] is True
    assert properties["TransitEncryptionEnabled"] is True
    assert properties["TransitEncryptionMode"] == "required"
    assert "{{resolve:secretsmanager:" in json.dumps(properties["AuthToken"])


def test_production_redis_fails_over_across_zones(assembly):
    assembly.template("ArtSpot-Production").has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {"NumCacheClusters": 2, "AutomaticFailoverEnabled": True, "MultiAZEnabled": True},
    )


@pytest.mark.parametrize("stack", STAGES)
def test_media_bucket_is_versioned_private_and_reachable_only_from_cloudfront(assembly, stack):
    from aws_cdk.assertions import Match

    template = assembly.template(stack)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "NoncurrentVersionTransitions": [
                                    Match.object_like({"StorageClass": "GLACIER"})
                                ]
                            }
                        )
                    ]
                )
            },
        },
    )
    _, policy = only(assembly.resources(stack, "AWS::S3::BucketPolicy"))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows, "CloudFront must be allowed to read"
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]
        distribution, _ = only(assembly.resources(stack, "AWS::CloudFront::Distribution"))
        assert distribution in json.dumps(source)
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)
    _, oac = only(assembly.resources(stack, "AWS::CloudFront::OriginAccessControl"))
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"


@pytest.mark.parametrize("stack", STAGES)
def test_waf_with_managed_rules_and_a_rate_rule_is_attached_to_the_distribution(assembly, stack):
    edge = f"{stack}-Edge"
    acl_id, acl = only(assembly.resources(edge, "AWS::WAFv2::WebACL"))
    properties = acl["Properties"]
    assert properties["Scope"] == "CLOUDFRONT"
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in properties["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert managed >= {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    (rate,) = [r for r in properties["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert "Block" in rate["Action"]
    # The distribution's WebACLId is a cross-region reference: the edge stack's export writer
    # stores this ACL's ARN in an SSM parameter of the stage's region, which a reader here reads.
    _, distribution = only(assembly.resources(stack, "AWS::CloudFront::Distribution"))
    reader, parameter = distribution["Properties"]["DistributionConfig"]["WebACLId"]["Fn::GetAtt"]
    assert (
        assembly.templates[stack]["Resources"][reader]["Type"] == "Custom::CrossRegionExportReader"
    )
    exports = {}
    for writer in assembly.resources(edge, "Custom::CrossRegionExportWriter").values():
        exports.update(writer["Properties"]["WriterProps"]["exports"])
    assert exports[parameter] == {"Fn::GetAtt": [acl_id, "Arn"]}


@pytest.mark.parametrize("stack", STAGES)
def test_cloudfront_honours_the_apps_cache_control_and_forwards_only_what_it_needs(assembly, stack):
    from aws_cdk.assertions import Match

    template = assembly.template(stack)
    template.has_resource_properties(
        "AWS::CloudFront::CachePolicy",
        {
            "CachePolicyConfig": Match.object_like(
                {
                    "MinTTL": 0,
                    "DefaultTTL": 0,
                    "ParametersInCacheKeyAndForwardedToOrigin": Match.object_like(
                        {
                            "CookiesConfig": {
                                "CookieBehavior": "whitelist",
                                "Cookies": ["sessionid", "csrftoken"],
                            },
                            "HeadersConfig": {"HeaderBehavior": "none"},
                        }
                    ),
                }
            )
        },
    )
    _, policy = only(assembly.resources(stack, "AWS::CloudFront::OriginRequestPolicy"))
    config = policy["Properties"]["OriginRequestPolicyConfig"]
    # The drop queue's ticket only: forwarded, but not part of the cache key (pages ignore it).
    assert config["CookiesConfig"] == {"CookieBehavior": "whitelist", "Cookies": ["dropq"]}
    assert config["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    assert "CloudFront-Viewer-Address" in config["HeadersConfig"]["Headers"]
    assert "Host" not in config["HeadersConfig"]["Headers"]
    _, distribution = only(assembly.resources(stack, "AWS::CloudFront::Distribution"))
    origins = distribution["Properties"]["DistributionConfig"]["Origins"]
    assert len(origins) == 2
    assert sum("S3OriginConfig" in o for o in origins) == 1


@pytest.mark.parametrize("stack", STAGES)
def test_every_alarm_notifies_the_one_sns_topic(assembly, stack):
    topic, _ = only(assembly.resources(stack, "AWS::SNS::Topic"))
    alarms = assembly.resources(stack, "AWS::CloudWatch::Alarm")
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}], name
    metrics = {a["Properties"]["MetricName"] for a in alarms.values()}
    assert metrics >= {
        "5xxStatusResponses",
        "RequestLatency",
        "OutboxWaiting",
        "CPUUtilization",
        "FreeStorageSpace",
        "DatabaseConnections",
        "DatabaseMemoryUsagePercentage",
    }
    assert any(a["Properties"].get("ExtendedStatistic") == "p99" for a in alarms.values())


@pytest.mark.parametrize("stack", STAGES)
def test_outbox_alarm_reads_the_relays_log_lines(assembly, stack):
    _, metric_filter = only(assembly.resources(stack, "AWS::Logs::MetricFilter"))
    properties = metric_filter["Properties"]
    (transformation,) = properties["MetricTransformations"]
    assert transformation["MetricName"] == "OutboxWaiting"
    assert transformation["MetricValue"] == "$waiting"
    # The filter sits on the relay's log group, the one scripts/relay writes to.
    relay = container_of(assembly, stack, "scripts/relay")
    assert properties["LogGroupName"] == relay["LogConfiguration"]["Options"]["awslogs-group"]
    # Space-delimited: any fields, then the backlog, then the literal "wait.".
    pattern = properties["FilterPattern"]
    assert re.fullmatch(r'\[\.\.\., ?waiting, ?suffix ?= ?"?wait\."?\]', pattern), pattern


@pytest.mark.parametrize("broker_up", [True, False])
def test_the_relay_prints_the_backlog_where_the_filter_reads_it(monkeypatch, broker_up):
    """The metric filter takes the last-but-one field of a line ending in "wait."; the relay's
    two lines (sent, broker down) must keep that shape. Only the format is under test here, so
    the relay's database work is replaced by fixed answers (tests/test_outbox.py covers it)."""
    from io import StringIO

    from django.core.management import call_command

    from core import outbox

    def relay():
        if not broker_up:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return 2

    monkeypatch.setattr(outbox, "relay", relay)
    monkeypatch.setattr(outbox, "waiting_count", lambda: 37)
    out, err = StringIO(), StringIO()
    call_command("relay_outbox", stdout=out, stderr=err)
    lines = (out.getvalue() + err.getvalue()).strip().splitlines()
    assert lines
    for line in lines:
        *_, waiting, suffix = line.split(" ")
        assert (waiting, suffix) == ("37", "wait."), line


@pytest.mark.parametrize("stack", STAGES)
def test_beat_runs_as_exactly_one_task_that_never_overlaps(assembly, stack):
    services = assembly.resources(stack, "AWS::ECS::Service")
    beat = [s for s in services.values() if s["Properties"]["ServiceName"].endswith("-beat")]
    (beat,) = beat
    properties = beat["Properties"]
    assert properties["DesiredCount"] == 1
    assert properties["DeploymentConfiguration"]["MaximumPercent"] == 100
    assert properties["DeploymentConfiguration"]["MinimumHealthyPercent"] == 0
    assert "ScalableTarget" not in json.dumps(assembly.templates[stack]["Resources"])
    task_definitions = assembly.resources(stack, "AWS::ECS::TaskDefinition")
    definition = task_definitions[properties["TaskDefinition"]["Ref"]]
    assert definition["Properties"]["ContainerDefinitions"][0]["Command"] == ["scripts/beat"]


@pytest.mark.parametrize("stack", STAGES)
def test_web_on_app_runner_in_the_vpc_with_readiness_and_scaling_limits(assembly, stack):
    web = web_service(assembly, stack)
    assert web["HealthCheckConfiguration"]["Path"] == "/readyz/"
    assert web["NetworkConfiguration"]["EgressConfiguration"]["EgressType"] == "VPC"
    # The workflow starts the web deployment after the migrate task, not CloudFormation.
    assert web["SourceConfiguration"]["AutoDeploymentsEnabled"] is False
    _, scaling = only(assembly.resources(stack, "AWS::AppRunner::AutoScalingConfiguration"))
    assert 1 <= scaling["Properties"]["MinSize"] <= scaling["Properties"]["MaxSize"]
    migrate = container_of(assembly, stack, "scripts/migrate")
    assert ":test-sha" in json.dumps(migrate["Image"])


@pytest.mark.parametrize("stack", STAGES)
def test_every_process_gets_what_production_settings_require(assembly, stack):
    image = web_service(assembly, stack)["SourceConfiguration"]["ImageRepository"]
    web_env = {v["Name"] for v in image["ImageConfiguration"]["RuntimeEnvironmentVariables"]}
    web_secrets = {v["Name"] for v in image["ImageConfiguration"]["RuntimeEnvironmentSecrets"]}
    assert set(REQUIRED_VARIABLES) <= web_env | web_secrets
    assert web_secrets >= SECRET_VARIABLES
    assert not SECRET_VARIABLES & web_env
    for command in ("scripts/worker", "scripts/beat", "scripts/relay", "scripts/migrate"):
        container = container_of(assembly, stack, command)
        env = {v["Name"] for v in container["Environment"]}
        secrets = {v["Name"] for v in container["Secrets"]}
        assert set(REQUIRED_VARIABLES) <= env | secrets, command
        assert secrets >= SECRET_VARIABLES and not SECRET_VARIABLES & env, command


# --- No secret value in plain text -----------------------------------------------------------
SECRET_LOOKING = re.compile(
    r"sk_(live|test)_[0-9A-Za-z]{8,}|rk_live_|whsec_[0-9A-Za-z]{8,}"
    r"|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY"
    r"|[a-z][a-z0-9+]*://[^/\s:@{}]*:[^@\s{}]+@"  # a URL with a literal password
)
# Properties that hold a credential: only a Secrets Manager reference may stand there.
CREDENTIAL_KEYS = re.compile(r"\w*password|authtoken|secretstring|searchstring", re.I)


def strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", key
            yield from strings(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}/{index}")
    elif isinstance(node, str):
        yield path, node


def plaintext_findings(template: dict) -> list[str]:
    findings = [f"{p}: {s[:40]}" for p, s in strings(template) if SECRET_LOOKING.search(s)]
    for resource_id, resource in template.get("Resources", {}).items():
        for path, value in _credential_properties(resource.get("Properties", {})):
            text = json.dumps(value)
            if "{{resolve:secretsmanager:" not in text:
                findings.append(f"{resource_id}{path}: not a Secrets Manager reference")
    return findings


def _credential_properties(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if CREDENTIAL_KEYS.fullmatch(key) and not isinstance(value, bool):
                yield f"{path}/{key}", value
            else:
                yield from _credential_properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _credential_properties(value, f"{path}/{index}")


def test_no_secret_value_in_plain_text_in_any_template(assembly):
    for name, template in assembly.templates.items():
        assert plaintext_findings(template) == [], name


def test_the_secret_scan_finds_planted_secrets():
    planted = {
        "Resources": {
            "Db": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {"MasterUserPassword": "hunter22"},
            },
            "Redis": {
                "Type": "AWS::ElastiCache::ReplicationGroup",
                "Properties": {"AuthToken": {"Fn::Join": ["", ["abc", "def"]]}},
            },
            "Web": {
                "Type": "AWS::AppRunner::Service",
                "Properties": {
                    "Env": [
                        {"Name": "STRIPE_SECRET_KEY", "Value": "sk_live_0123456789abcdef"},
                        {"Name": "DATABASE_URL", "Value": "postgres://artspot:pw@db:5432/a"},
                    ]
                },
            },
        }
    }
    findings = plaintext_findings(planted)
    assert len(findings) == 4, findings


@pytest.mark.parametrize("stack", STAGES)
def test_every_app_secret_is_a_secrets_manager_secret(assembly, stack):
    secrets = assembly.resources(stack, "AWS::SecretsManager::Secret")
    image = web_service(assembly, stack)["SourceConfiguration"]["ImageRepository"]
    for pair in image["ImageConfiguration"]["RuntimeEnvironmentSecrets"]:
        assert pair["Value"]["Ref"] in secrets, pair["Name"]
    for command in ("scripts/worker", "scripts/migrate"):
        for pair in container_of(assembly, stack, command)["Secrets"]:
            assert pair["ValueFrom"]["Ref"] in secrets, pair["Name"]
    for secret in secrets.values():
        properties = secret["Properties"]
        assert "KmsKeyId" in properties
        assert "GenerateSecretString" in properties or "{{resolve:secretsmanager:" in json.dumps(
            properties["SecretString"]
        )


# --- cfn-lint and checkov ----------------------------------------------------------------

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
