import hmac

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from .health import run_checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No I/O, so a slow database never restarts the web tier."""
    return JsonResponse({"status": "ok"})


def shows_health_details(request: HttpRequest) -> bool:
    """Only the operators (``X-Health-Token`` equal to ``HEALTH_DETAIL_TOKEN``) see details:
    error texts name internal hosts and ports."""
    expected = settings.HEALTH_DETAIL_TOKEN
    given = request.headers.get("X-Health-Token", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache and broker each answer; 503 if one did not.

    Everyone gets the status; operators with the token also get which check failed and why.
    """
    checks = run_checks()
    failed = [name for name, result in checks.items() if not result["ok"]]
    body: dict = {"status": "fail" if failed else "ok"}
    if shows_health_details(request):
        body.update(failed=failed, checks=checks)
    return JsonResponse(body, status=503 if failed else 200)
