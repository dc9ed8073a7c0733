#!/usr/bin/env bash
# Point App Runner's tag web-<stage> at artspot:<tag> and deploy it; wait until App Runner says
# the deployment succeeded (it switches traffic only once the new revision answers /readyz/).
# Usage: deploy-web.sh TAG STAGE [SERVICE_ARN]    (deploy.yml: release and rollback)
# Without SERVICE_ARN (a first deploy, before the service exists) it only moves the tag.
set -euo pipefail
tag=$1 stage=$2 service_arn=${3:-}
repository=${ECR_REPOSITORY:-artspot}

manifest=$(aws ecr batch-get-image --repository-name "$repository" \
    --image-ids imageTag="$tag" --query 'images[0].imageManifest' --output text)
if [ -z "$manifest" ] || [ "$manifest" = "None" ]; then
    echo "::error::no image $repository:$tag in ECR" >&2
    exit 1
fi
# put-image refuses a tag that already names this manifest (a re-run): that is fine.
if ! out=$(aws ecr put-image --repository-name "$repository" --image-tag "web-$stage" \
        --image-manifest "$manifest" 2>&1); then
    grep -q ImageAlreadyExistsException <<<"$out" || { echo "$out" >&2; exit 1; }
fi
echo "web-$stage -> $repository:$tag"
[ -n "$service_arn" ] || exit 0

operation=$(aws apprunner start-deployment --service-arn "$service_arn" \
    --query OperationId --output text)
echo "App Runner deployment $operation of $repository:$tag (web-$stage)"
for _ in $(seq 1 120); do
    status=$(aws apprunner list-operations --service-arn "$service_arn" \
        --query "OperationSummaryList[?Id=='$operation'].Status | [0]" --output text)
    case "$status" in
        SUCCEEDED) echo "App Runner: deployed"; exit 0 ;;
        FAILED | ROLLBACK_*) echo "::error::App Runner deployment $status" >&2; exit 1 ;;
    esac
    sleep 10
done
echo "::error::App Runner deployment still $status after 20 minutes" >&2
exit 1
