"""One stage of ArtSpot in its home region: network, data, web, workers, CDN, email and alarms.

Resource names and secrets carry the stage name (``artspot/<stage>/...``), so staging and
production can share an account. Nothing here looks anything up at synth time, and the only
image is the one the deploy workflow pushed to ECR.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Fn, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_apprunner as apprunner
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from .config import ECR_REPOSITORY, StageConfig

# Generated passwords go into URLs (DATABASE_URL, REDIS_URL): letters and digits only.
URL_SAFE_EXCLUDE = "".join(sorted(set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ")))
APP_PORT = 8000
# Header CloudFront adds on its way to App Runner; the regional WAF drops requests without it.
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
# Only these reach the app; everything else a browser sends stays at the edge.
APP_COOKIES = ("sessionid", "csrftoken")
QUEUE_COOKIES = ("dropq",)  # forwarded to the app, never in the cache key
APP_HEADERS = (
    "CloudFront-Viewer-Address",  # the client address (TRUSTED_PROXY_HEADER=cloudfront)
    "Origin",  # Django's CSRF check
    "Referer",  # Django's CSRF check on HTTPS without Origin
    "Stripe-Signature",  # the Stripe webhook
    "X-Health-Token",  # /readyz/ detail
    "X-Requested-With",
    "Accept",
)
# Secrets the operator fills in after the first deploy (infra/README.md); generated until then.
PROVIDER_SECRETS = (
    "EMAIL_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "SHIPSTATION_API_KEY",
    "SHIPSTATION_API_SECRET",
)
# Metric the relay's log lines feed ("Relayed N message(s); M wait." / "Broker unavailable
# (...); M wait.", printed by `manage.py relay_outbox --loop`): M, the outbox backlog.
# tests/infra/test_infra.py holds the command's real output against this pattern.
OUTBOX_METRIC = "OutboxWaiting"


class ArtSpotStack(Stack):
    """Everything one stage runs, in its home region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        image_tag: str,
        tracing: bool,
        web_acl_arn: str,
        certificate: acm.ICertificate,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.prefix = f"artspot-{config.name}"
        self.app_secrets: dict[str, secretsmanager.ISecret] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}

        self.key = self._key()
        self.topic = self._alarm_topic()
        self.zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=config.hosted_zone_id, zone_name=config.hosted_zone_name
        )
        self.vpc = self._network()
        self.web_sg = ec2.SecurityGroup(
            self, "WebSecurityGroup", vpc=self.vpc, description="App Runner VPC connector"
        )
        self.task_sg = ec2.SecurityGroup(
            self, "TaskSecurityGroup", vpc=self.vpc, description="ECS tasks (worker, beat, relay)"
        )
        self.media = self._media_bucket()
        self._database()
        self._redis()
        for name in ("SECRET_KEY", "HEALTH_DETAIL_TOKEN", *PROVIDER_SECRETS):
            self._secret(name)
        self._secret("SHIPSTATION_WEBHOOK_SECRET")
        self.origin_verify = self._secret("ORIGIN_VERIFY", inject=False)
        self._email()

        self.repository = ecr.Repository.from_repository_name(self, "Repository", ECR_REPOSITORY)
        self.app_environment = {
            "DJANGO_SETTINGS_MODULE": "artspot.settings.production",
            "ALLOWED_HOSTS": f"{config.domain_name},.awsapprunner.com",
            "CSRF_TRUSTED_ORIGINS": f"https://{config.domain_name}",
            "WAGTAILADMIN_BASE_URL": f"https://{config.domain_name}",
            "AWS_STORAGE_BUCKET_NAME": self.media.bucket_name,
            "AWS_S3_REGION_NAME": self.region,
            # Media is served by the site's own distribution under /media/ (keys start "media/").
            "AWS_S3_CUSTOM_DOMAIN": config.domain_name,
            "AWS_LOCATION": "media",
            "DEFAULT_FROM_EMAIL": config.from_email,
            "TRUSTED_PROXY_HEADER": "cloudfront",
            "LOG_FORMAT": "json",
        }
        self.web = self._web(tracing)
        self.distribution = self._cdn(web_acl_arn, certificate)
        self._tasks(image_tag, tracing)
        self._alarms()
        self._outputs()

    # --- Foundations --------------------------------------------------------------------------
    def _key(self) -> kms.Key:
        key = kms.Key(
            self,
            "Key",
            alias=f"alias/{self.prefix}",
            description=f"ArtSpot {self.config.name}: secrets, database, Redis, logs, alarms",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{self.partition}:logs:{self.region}:{self.account}:*"
                        )
                    }
                },
            )
        )
        # CloudWatch alarms publish to the encrypted SNS topic.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        return key

    def _alarm_topic(self) -> sns.Topic:
        topic = sns.Topic(self, "Alarms", topic_name=f"{self.prefix}-alarms", master_key=self.key)
        topic.add_subscription(subscriptions.EmailSubscription(self.config.alarm_email))
        return topic

    def _log_group(self, construct_id: str, name: str) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=f"/artspot/{self.config.name}/{name}",
            retention=_retention(self.config.log_retention_days),
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _secret(
        self, env_name: str, *, value: SecretValue | None = None, inject: bool = True
    ) -> secretsmanager.Secret:
        """A secret named artspot/<stage>/<env_name>; generated unless ``value`` is given."""
        secret = secretsmanager.Secret(
            self,
            "Secret" + env_name.title().replace("_", ""),
            secret_name=f"artspot/{self.config.name}/{env_name}",
            description=f"ArtSpot {self.config.name}: {env_name}",
            encryption_key=self.key,
            secret_string_value=value,
            generate_secret_string=None
            if value
            else secretsmanager.SecretStringGenerator(
                exclude_characters=URL_SAFE_EXCLUDE, password_length=50
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        if inject:
            self.app_secrets[env_name] = secret
        return secret

    def _network(self) -> ec2.Vpc:
        config = self.config
        flow_logs = self._log_group("FlowLogs", "vpc-flow-rejects")
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.vpc_cidr),
            availability_zones=list(config.availability_zones),
            nat_gateways=config.nat_gateways,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
                ec2.SubnetConfiguration(
                    name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
            flow_logs={
                "Rejected": ec2.FlowLogOptions(
                    traffic_type=ec2.FlowLogTrafficType.REJECT,
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                )
            },
        )
        if config.interface_endpoints:
            # Secrets, image pulls and logs stay inside the VPC (and off the NAT's data charge).
            endpoints = {
                "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
                "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
                "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
                "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
            }
            for name, service in endpoints.items():
                vpc.add_interface_endpoint(
                    name,
                    service=service,
                    subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                )
        return vpc

    # --- Data ---------------------------------------------------------------------------------
    def _media_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "Media",
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="old-versions-to-glacier",
                    noncurrent_version_transitions=[
                        s3.NoncurrentVersionTransition(
                            storage_class=s3.StorageClass.GLACIER,
                            transition_after=Duration.days(30),
                        )
                    ],
                    noncurrent_version_expiration=Duration.days(365),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )

    def _database(self) -> None:
        config = self.config
        sg = ec2.SecurityGroup(self, "DatabaseSecurityGroup", vpc=self.vpc, description="RDS")
        for source in (self.web_sg, self.task_sg):
            sg.add_ingress_rule(source, ec2.Port.tcp(5432), "PostgreSQL from the app")
        isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        parameters = rds.ParameterGroup(
            self,
            "DatabaseParameters",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_9),
            parameters={"rds.force_ssl": "1", "log_min_duration_statement": "1000"},
        )
        common = {
            "instance_type": ec2.InstanceType(config.db_instance_type),
            "vpc": self.vpc,
            "vpc_subnets": isolated,
            "security_groups": [sg],
            "deletion_protection": True,
            "removal_policy": RemovalPolicy.SNAPSHOT,
            "auto_minor_version_upgrade": True,
            "monitoring_interval": Duration.seconds(60),
            "cloudwatch_logs_exports": ["postgresql", "upgrade"],
            "iam_authentication": True,
            "parameter_group": parameters,
            "copy_tags_to_snapshot": True,
        }
        self.db = rds.DatabaseInstance(
            self,
            "Database",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_9),
            credentials=rds.Credentials.from_generated_secret(
                "artspot",
                secret_name=f"artspot/{config.name}/db-master",
                encryption_key=self.key,
                exclude_characters=URL_SAFE_EXCLUDE,
            ),
            database_name="artspot",
            multi_az=config.db_multi_az,
            allocated_storage=config.db_storage_gb,
            max_allocated_storage=config.db_max_storage_gb,
            storage_type=rds.StorageType.GP3,
            # The replica inherits the encryption (and key) of its source.
            storage_encrypted=True,
            storage_encryption_key=self.key,
            backup_retention=Duration.days(config.db_backup_days),
            preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:03:30-sun:04:30",
            **common,
        )
        password = self.db.secret.secret_value_from_json("password").unsafe_unwrap()
        self._secret(
            "DATABASE_URL", value=self._db_url(password, self.db.db_instance_endpoint_address)
        )
        self.replica = None
        if config.db_read_replica:
            self.replica = rds.DatabaseInstanceReadReplica(
                self,
                "DatabaseReplica",
                source_database_instance=self.db,
                **common,
            )
            self._secret(
                "DATABASE_REPLICA_URL",
                value=self._db_url(password, self.replica.db_instance_endpoint_address),
            )

    def _db_url(self, password: str, host: str) -> SecretValue:
        # A dynamic reference to the master secret: the template never holds the password.
        return SecretValue.unsafe_plain_text(
            Fn.join(
                "", ["postgres://artspot:", password, "@", host, ":5432/artspot?sslmode=require"]
            )
        )

    def _redis(self) -> None:
        config = self.config
        sg = ec2.SecurityGroup(self, "RedisSecurityGroup", vpc=self.vpc, description="Redis")
        for source in (self.web_sg, self.task_sg):
            sg.add_ingress_rule(source, ec2.Port.tcp(6379), "Redis from the app")
        token = self._secret("REDIS_AUTH_TOKEN", inject=False)
        subnets = elasticache.CfnSubnetGroup(
            self,
            "RedisSubnets",
            description=f"ArtSpot {config.name} Redis",
            subnet_ids=self.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
            ).subnet_ids,
        )
        failover = config.redis_replicas > 0
        self.redis = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_id=f"{self.prefix}",
            replication_group_description=f"ArtSpot {config.name}: cache and Celery broker",
            engine="redis",
            engine_version="7.1",
            cache_node_type=config.redis_node_type,
            num_cache_clusters=1 + config.redis_replicas,
            automatic_failover_enabled=failover,
            multi_az_enabled=failover,
            at_rest_encryption_enabled=True,
            kms_key_id=self.key.key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=token.secret_value.unsafe_unwrap(),
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[sg.security_group_id],
            port=6379,
            snapshot_retention_limit=1 if not failover else 7,
            auto_minor_version_upgrade=True,
        )
        url = Fn.join(
            "",
            [
                "rediss://:",
                token.secret_value.unsafe_unwrap(),
                "@",
                self.redis.attr_primary_end_point_address,
                ":6379/0?ssl_cert_reqs=required",
            ],
        )
        self._secret("REDIS_URL", value=SecretValue.unsafe_plain_text(url))

    def _email(self) -> None:
        """SES identity for the sending domain, DKIM-signed through records in the zone."""
        identity = ses.EmailIdentity(
            self, "EmailIdentity", identity=ses.Identity.domain(self.config.domain_name)
        )
        for n in (1, 2, 3):
            route53.CnameRecord(
                self,
                f"Dkim{n}",
                zone=self.zone,
                record_name=getattr(identity, f"dkim_dns_token_name{n}"),
                domain_name=getattr(identity, f"dkim_dns_token_value{n}"),
            )

    # --- Web on App Runner --------------------------------------------------------------------
    def _web(self, tracing: bool) -> apprunner.CfnService:
        config = self.config
        access_role = iam.Role(
            self,
            "WebAccessRole",
            assumed_by=iam.ServicePrincipal("build.apprunner.amazonaws.com"),
            description="App Runner pulls the image from ECR",
        )
        self.repository.grant_pull(access_role)
        self.web_role = iam.Role(
            self,
            "WebInstanceRole",
            assumed_by=iam.ServicePrincipal("tasks.apprunner.amazonaws.com"),
            description="The running web service: media bucket, its secrets, traces",
        )
        self.media.grant_read_write(self.web_role)
        for secret in self.app_secrets.values():
            secret.grant_read(self.web_role)
        if tracing:
            self.web_role.add_managed_policy(
                iam.ManagedPolicy.from_aws_managed_policy_name("AWSXRayDaemonWriteAccess")
            )
        connector = apprunner.CfnVpcConnector(
            self,
            "WebVpcConnector",
            subnets=self.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            ).subnet_ids,
            security_groups=[self.web_sg.security_group_id],
        )
        scaling = apprunner.CfnAutoScalingConfiguration(
            self,
            "WebScaling",
            auto_scaling_configuration_name=f"{self.prefix}-web",
            min_size=config.web_min_instances,
            max_size=config.web_max_instances,
            max_concurrency=config.web_max_concurrency,
        )
        observability = apprunner.CfnObservabilityConfiguration(
            self,
            "WebTracing",
            observability_configuration_name=f"{self.prefix}-web",
            trace_configuration=apprunner.CfnObservabilityConfiguration.TraceConfigurationProperty(
                vendor="AWSXRAY"
            ),
        )
        env = {**self.app_environment, "USE_X_FORWARDED_HOST": "true"}
        service = apprunner.CfnService(
            self,
            "Web",
            service_name=f"{self.prefix}-web",
            source_configuration=apprunner.CfnService.SourceConfigurationProperty(
                authentication_configuration=apprunner.CfnService.AuthenticationConfigurationProperty(
                    access_role_arn=access_role.role_arn
                ),
                # Deployments are started by the deploy workflow, after the migrate task.
                auto_deployments_enabled=False,
                image_repository=apprunner.CfnService.ImageRepositoryProperty(
                    image_identifier=f"{self.repository.repository_uri}:{config.web_image_tag}",
                    image_repository_type="ECR",
                    image_configuration=apprunner.CfnService.ImageConfigurationProperty(
                        port=str(APP_PORT),
                        runtime_environment_variables=[
                            apprunner.CfnService.KeyValuePairProperty(name=k, value=v)
                            for k, v in sorted(env.items())
                        ],
                        runtime_environment_secrets=[
                            apprunner.CfnService.KeyValuePairProperty(name=k, value=s.secret_arn)
                            for k, s in sorted(self.app_secrets.items())
                        ],
                    ),
                ),
            ),
            instance_configuration=apprunner.CfnService.InstanceConfigurationProperty(
                cpu=config.web_cpu,
                memory=config.web_memory,
                instance_role_arn=self.web_role.role_arn,
            ),
            network_configuration=apprunner.CfnService.NetworkConfigurationProperty(
                egress_configuration=apprunner.CfnService.EgressConfigurationProperty(
                    egress_type="VPC", vpc_connector_arn=connector.attr_vpc_connector_arn
                ),
                ingress_configuration=apprunner.CfnService.IngressConfigurationProperty(
                    is_publicly_accessible=True
                ),
            ),
            health_check_configuration=apprunner.CfnService.HealthCheckConfigurationProperty(
                protocol="HTTP",
                path="/readyz/",
                interval=10,
                timeout=5,
                healthy_threshold=1,
                unhealthy_threshold=5,
            ),
            auto_scaling_configuration_arn=scaling.attr_auto_scaling_configuration_arn,
            observability_configuration=apprunner.CfnService.ServiceObservabilityConfigurationProperty(
                observability_enabled=tracing,
                observability_configuration_arn=observability.attr_observability_configuration_arn
                if tracing
                else None,
            ),
        )
        service.node.add_dependency(self.web_role)

        # App Runner answers only requests that came through CloudFront (and so through the
        # CloudFront WAF): CloudFront adds a secret header, this regional WAF requires it.
        origin_acl = wafv2.CfnWebACL(
            self,
            "WebOriginAcl",
            name=f"{self.prefix}-origin",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(block={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{self.prefix}-origin",
                sampled_requests_enabled=True,
            ),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="FromCloudFront",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(allow={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                                single_header={"Name": ORIGIN_VERIFY_HEADER.lower()}
                            ),
                            positional_constraint="EXACTLY",
                            search_string=self.origin_verify.secret_value.unsafe_unwrap(),
                            text_transformations=[
                                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                            ],
                        )
                    ),
                    visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                        cloud_watch_metrics_enabled=True,
                        metric_name=f"{self.prefix}-origin-from-cloudfront",
                        sampled_requests_enabled=True,
                    ),
                )
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebOriginAclAssociation",
            resource_arn=service.attr_service_arn,
            web_acl_arn=origin_acl.attr_arn,
        )
        return service

    # --- CloudFront ---------------------------------------------------------------------------
    def _cdn(self, web_acl_arn: str, certificate: acm.ICertificate) -> cloudfront.Distribution:
        config = self.config
        pages = cloudfront.CachePolicy(
            self,
            "PagesCachePolicy",
            cache_policy_name=f"{self.prefix}-pages",
            comment="The app's Cache-Control (s-maxage) decides; signed-in visitors never share",
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.seconds(0),
            max_ttl=Duration.days(365),
            cookie_behavior=cloudfront.CacheCookieBehavior.allow_list(*APP_COOKIES),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        app_requests = cloudfront.OriginRequestPolicy(
            self,
            "AppOriginRequestPolicy",
            origin_request_policy_name=f"{self.prefix}-app",
            comment="Only the headers the app reads; cookies travel in the cache key",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*APP_HEADERS),
            # The drop queue's ticket (drops.queue) reaches the app without splitting the cache:
            # no cached page depends on it.
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.allow_list(*QUEUE_COOKIES),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
        )
        security_headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{self.prefix}-security",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    preload=True,
                    override=False,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=False),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=False,
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.SAMEORIGIN, override=False
                ),
            ),
        )
        app_origin = origins.HttpOrigin(
            self.web.attr_service_url,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers={
                # Django builds absolute URLs for the site's host, not App Runner's.
                "X-Forwarded-Host": config.domain_name,
                ORIGIN_VERIFY_HEADER: self.origin_verify.secret_value.unsafe_unwrap(),
            },
        )
        media_origin = origins.S3BucketOrigin.with_origin_access_control(self.media)
        cached_assets = {
            "cache_policy": cloudfront.CachePolicy.CACHING_OPTIMIZED,
            "viewer_protocol_policy": cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            "response_headers_policy": security_headers,
            "compress": True,
        }
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"ArtSpot {config.name}",
            domain_names=[config.domain_name],
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            web_acl_id=web_acl_arn,
            default_behavior=cloudfront.BehaviorOptions(
                origin=app_origin,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=pages,
                origin_request_policy=app_requests,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=security_headers,
                compress=True,
            ),
            additional_behaviors={
                "/static/*": cloudfront.BehaviorOptions(origin=app_origin, **cached_assets),
                "/media/*": cloudfront.BehaviorOptions(origin=media_origin, **cached_assets),
            },
        )
        for record_type, construct_id in (
            (route53.ARecord, "SiteA"),
            (route53.AaaaRecord, "SiteAaaa"),
        ):
            record_type(
                self,
                construct_id,
                zone=self.zone,
                record_name=config.domain_name,
                target=route53.RecordTarget.from_alias(targets.CloudFrontTarget(distribution)),
            )
        return distribution

    # --- Background work on ECS Fargate -------------------------------------------------------
    def _tasks(self, image_tag: str, tracing: bool) -> None:
        config = self.config
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=self.prefix,
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="Worker, beat, relay and migrate: media bucket, traces",
        )
        self.media.grant_read_write(task_role)
        if tracing:
            task_role.add_managed_policy(
                iam.ManagedPolicy.from_aws_managed_policy_name("AWSXRayDaemonWriteAccess")
            )
        image = ecs.ContainerImage.from_ecr_repository(self.repository, image_tag)
        environment = {
            **self.app_environment,
            "CLOUDFRONT_DISTRIBUTION_ID": self.distribution.distribution_id,
        }
        secrets = {k: ecs.Secret.from_secrets_manager(s) for k, s in self.app_secrets.items()}

        def task_definition(name: str, command: str) -> ecs.FargateTaskDefinition:
            definition = ecs.FargateTaskDefinition(
                self,
                f"{name.title()}Task",
                family=f"{self.prefix}-{name}",
                cpu=config.task_cpu,
                memory_limit_mib=config.task_memory_mib,
                task_role=task_role,
                runtime_platform=ecs.RuntimePlatform(
                    cpu_architecture=ecs.CpuArchitecture.X86_64,
                    operating_system_family=ecs.OperatingSystemFamily.LINUX,
                ),
            )
            log_group = self._log_group(f"{name.title()}Logs", name)
            self.log_groups[name] = log_group
            definition.add_container(
                "app",
                image=image,
                command=[command],
                environment=environment,
                secrets=secrets,
                logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=log_group),
                stop_timeout=Duration.seconds(120),
            )
            return definition

        def service(name: str, count: int, *, single: bool = False) -> ecs.FargateService:
            return ecs.FargateService(
                self,
                f"{name.title()}Service",
                service_name=f"{self.prefix}-{name}",
                cluster=self.cluster,
                task_definition=task_definition(name, f"scripts/{name}"),
                desired_count=count,
                security_groups=[self.task_sg],
                vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                assign_public_ip=False,
                circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
                # Beat: the old task stops before the new one starts, so two never schedule.
                min_healthy_percent=0 if single else 100,
                max_healthy_percent=100 if single else 200,
            )

        self.worker = service("worker", config.worker_count)
        self.beat = service("beat", 1, single=True)
        self.relay = service("relay", 1)
        self.migrate = task_definition("migrate", "scripts/migrate")

    # --- Alarms -------------------------------------------------------------------------------
    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, threshold: float, **kwargs):
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"{self.prefix}-{construct_id}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=kwargs.pop("evaluation_periods", 3),
            treat_missing_data=kwargs.pop(
                "treat_missing_data", cloudwatch.TreatMissingData.NOT_BREACHING
            ),
            **kwargs,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        return alarm

    def _alarms(self) -> None:
        thresholds = self.config.alarms
        five_minutes = Duration.minutes(5)
        web = {"ServiceName": self.web.service_name, "ServiceID": self.web.attr_service_id}
        self._alarm(
            "Web5xx",
            cloudwatch.Metric(
                namespace="AWS/AppRunner",
                metric_name="5xxStatusResponses",
                dimensions_map=web,
                statistic="Sum",
                period=five_minutes,
            ),
            thresholds.web_5xx_per_5min,
            evaluation_periods=1,
        )
        self._alarm(
            "WebLatencyP99",
            cloudwatch.Metric(
                namespace="AWS/AppRunner",
                metric_name="RequestLatency",
                dimensions_map=web,
                statistic="p99",
                period=five_minutes,
            ),
            thresholds.web_p99_latency_ms,
        )
        logs.MetricFilter(
            self,
            "OutboxWaitingFilter",
            log_group=self.log_groups["relay"],
            filter_pattern=logs.FilterPattern.space_delimited(
                "...", "waiting", "suffix"
            ).where_string("suffix", "=", "wait."),
            metric_namespace=f"ArtSpot/{self.config.name}",
            metric_name=OUTBOX_METRIC,
            metric_value="$waiting",
        )
        self._alarm(
            "OutboxBacklog",
            cloudwatch.Metric(
                namespace=f"ArtSpot/{self.config.name}",
                metric_name=OUTBOX_METRIC,
                statistic="Maximum",
                period=five_minutes,
            ),
            thresholds.outbox_waiting,
        )
        databases = [("Database", self.db)]
        if self.replica is not None:
            databases.append(("DatabaseReplica", self.replica))
        for name, db in databases:
            self._alarm(
                f"{name}Cpu",
                db.metric_cpu_utilization(period=five_minutes),
                thresholds.db_cpu_percent,
            )
            self._alarm(
                f"{name}FreeStorage",
                db.metric_free_storage_space(period=five_minutes),
                thresholds.db_free_storage_gb * 1024**3,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=1,
            )
            self._alarm(
                f"{name}Connections",
                db.metric_database_connections(period=five_minutes),
                thresholds.db_connections,
            )
        for n in range(1, 2 + self.config.redis_replicas):
            self._alarm(
                f"RedisMemory{n}",
                cloudwatch.Metric(
                    namespace="AWS/ElastiCache",
                    metric_name="DatabaseMemoryUsagePercentage",
                    dimensions_map={"CacheClusterId": f"{self.prefix}-{n:03d}"},
                    statistic="Maximum",
                    period=five_minutes,
                ),
                thresholds.redis_memory_percent,
            )

    def _outputs(self) -> None:
        outputs = {
            "SiteUrl": f"https://{self.config.domain_name}",
            "AppRunnerServiceArn": self.web.attr_service_arn,
            "AppRunnerServiceUrl": self.web.attr_service_url,
            "WebImageTag": self.config.web_image_tag,
            "EcsClusterName": self.cluster.cluster_name,
            "MigrateTaskDefinitionArn": self.migrate.task_definition_arn,
            "PrivateSubnetIds": Fn.join(
                ",",
                self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
            ),
            "TaskSecurityGroupId": self.task_sg.security_group_id,
            "WorkerServiceName": self.worker.service_name,
            "BeatServiceName": self.beat.service_name,
            "RelayServiceName": self.relay.service_name,
            "DistributionId": self.distribution.distribution_id,
            "MediaBucketName": self.media.bucket_name,
            "AlarmTopicArn": self.topic.topic_arn,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)


def _retention(days: int) -> logs.RetentionDays:
    choices = {
        30: logs.RetentionDays.ONE_MONTH,
        90: logs.RetentionDays.THREE_MONTHS,
        365: logs.RetentionDays.ONE_YEAR,
    }
    if days not in choices:
        raise ValueError(f"log_retention_days must be one of {sorted(choices)}, not {days}")
    return choices[days]
