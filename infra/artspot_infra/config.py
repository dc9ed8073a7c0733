"""Per-stage configuration: the one place where staging and production differ.

Edit the domain, hosted zone and alarm address before the first deploy (infra/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The ECR repository the deploy workflow pushes to (created once, see infra/README.md).
ECR_REPOSITORY = "artspot"
# CloudFront only accepts WAF web ACLs and ACM certificates from this region.
EDGE_REGION = "us-east-1"


@dataclass(frozen=True)
class AlarmThresholds:
    """When CloudWatch tells the on-call address (each alarm goes to the stage's SNS topic)."""

    web_5xx_per_5min: int = 10
    web_p99_latency_ms: int = 3000
    outbox_waiting: int = 50  # messages waiting for the broker, from the relay's log lines
    db_cpu_percent: int = 80
    db_free_storage_gb: int = 5
    db_connections: int = 80
    redis_memory_percent: int = 80


@dataclass(frozen=True)
class StageConfig:
    """Sizes and switches of one stage; ``stack_name`` is what the deploy workflow names."""

    name: str  # "staging" or "production": prefixes resource names and secrets
    stack_name: str
    region: str
    availability_zones: tuple[str, str]
    vpc_cidr: str
    domain_name: str  # the site (and media under /media/) on CloudFront
    hosted_zone_id: str  # Route 53 zone of domain_name: certificate, alias, SES DKIM records
    hosted_zone_name: str
    from_email: str
    alarm_email: str
    # Network: NAT for Stripe, ShipStation and SES; interface endpoints keep AWS traffic private.
    nat_gateways: int
    interface_endpoints: bool
    # RDS PostgreSQL
    db_instance_type: str
    db_storage_gb: int
    db_max_storage_gb: int
    db_multi_az: bool
    db_read_replica: bool
    db_backup_days: int
    # ElastiCache Redis: replicas > 0 means Multi-AZ with automatic failover.
    redis_node_type: str
    redis_replicas: int
    # App Runner web service
    web_cpu: str
    web_memory: str
    web_min_instances: int
    web_max_instances: int
    web_max_concurrency: int
    # ECS Fargate: worker (scaled by count), beat and relay (always exactly one each).
    task_cpu: int
    task_memory_mib: int
    worker_count: int
    log_retention_days: int
    waf_rate_limit_per_5min: int
    # X-Ray tracing; `cdk deploy -c tracing=true|false` overrides it.
    tracing: bool
    alarms: AlarmThresholds = field(default_factory=AlarmThresholds)

    @property
    def title(self) -> str:
        return self.name.capitalize()

    @property
    def web_image_tag(self) -> str:
        """The ECR tag App Runner follows; the deploy workflow moves it after the migrations."""
        return f"web-{self.name}"


STAGING = StageConfig(
    name="staging",
    stack_name="ArtSpot-Staging",
    region="eu-west-2",
    availability_zones=("eu-west-2a", "eu-west-2b"),
    vpc_cidr="10.40.0.0/16",
    domain_name="staging.artspot.example",
    hosted_zone_id="Z0000000000000STAGING",
    hosted_zone_name="artspot.example",
    from_email="ArtSpot <hello@staging.artspot.example>",
    alarm_email="ops@artspot.example",
    nat_gateways=1,
    interface_endpoints=False,
    db_instance_type="t4g.micro",
    db_storage_gb=20,
    db_max_storage_gb=50,
    db_multi_az=False,
    db_read_replica=False,
    db_backup_days=7,
    redis_node_type="cache.t4g.micro",
    redis_replicas=0,
    web_cpu="0.25 vCPU",
    web_memory="0.5 GB",
    web_min_instances=1,
    web_max_instances=2,
    web_max_concurrency=50,
    task_cpu=256,
    task_memory_mib=512,
    worker_count=1,
    log_retention_days=30,
    waf_rate_limit_per_5min=1000,
    tracing=False,
)

PRODUCTION = StageConfig(
    name="production",
    stack_name="ArtSpot-Production",
    region="eu-west-2",
    availability_zones=("eu-west-2a", "eu-west-2b"),
    vpc_cidr="10.41.0.0/16",
    domain_name="artspot.example",
    hosted_zone_id="Z000000000000000PROD",
    hosted_zone_name="artspot.example",
    from_email="ArtSpot <hello@artspot.example>",
    alarm_email="ops@artspot.example",
    nat_gateways=1,
    interface_endpoints=True,
    db_instance_type="t4g.small",
    db_storage_gb=20,
    db_max_storage_gb=200,
    db_multi_az=True,
    db_read_replica=True,
    db_backup_days=14,
    redis_node_type="cache.t4g.micro",
    redis_replicas=1,
    web_cpu="1 vCPU",
    web_memory="2 GB",
    web_min_instances=1,
    web_max_instances=5,
    web_max_concurrency=80,
    task_cpu=256,
    task_memory_mib=512,
    worker_count=1,
    log_retention_days=90,
    waf_rate_limit_per_5min=2000,
    tracing=True,
)

STAGES: tuple[StageConfig, ...] = (STAGING, PRODUCTION)
