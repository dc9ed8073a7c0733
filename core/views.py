import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .csp import MAX_REPORT_BYTES, InvalidReport, parse_reports
from .health import run_checks
from .ratelimits import over_limit

csp_logger = logging.getLogger("artspot.csp")


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


@csrf_exempt  # browsers send reports without a token (and without cookies)
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log each Content-Security-Policy violation a browser reports (report-uri or report-to).

    204 when read; 413 over MAX_REPORT_BYTES, 400 for anything that is not a report, 429 past
    the per-address limit (a flood neither fills the log nor costs more than a counter).
    """
    if over_limit(request, "csp-report", ["60/m", "600/h"]):
        return HttpResponse("Too many reports.", status=429, content_type="text/plain")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
    if declared > MAX_REPORT_BYTES:
        return HttpResponse("Report too large.", status=413, content_type="text/plain")
    raw = request.read(MAX_REPORT_BYTES + 1)
    if len(raw) > MAX_REPORT_BYTES:
        return HttpResponse("Report too large.", status=413, content_type="text/plain")
    try:
        violations = parse_reports(raw)
    except InvalidReport as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    for violation in violations:
        csp_logger.warning(
            "CSP violation: %s blocked %r on %s",
            violation.directive,
            violation.blocked,
            violation.document,
            extra=violation.log_fields(),
        )
    return HttpResponse(status=204)
