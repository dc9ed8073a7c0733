"""Content-Security-Policy: which policy a response gets, and reading violation reports.

django-csp builds the header from ``settings.CONTENT_SECURITY_POLICY`` (public pages). This
module's middleware swaps in ``settings.CONTENT_SECURITY_POLICY_ADMIN`` under
``settings.ADMIN_PATH_PREFIX``, adds Google Analytics' hosts to a page that loads it (the
``{% analytics %}`` tag calls :func:`allow_analytics`), and sends the ``Reporting-Endpoints``
header that the policies' ``report-to`` names. No policy here has a nonce: CloudFront may serve
one public response to every visitor, so every script is a static file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# Google's documented allowances for Google Analytics 4 through gtag.js (no Google Signals).
ANALYTICS_DIRECTIVES: dict[str, list[str]] = {
    "script-src": ["https://www.googletagmanager.com"],
    "connect-src": [
        "https://*.google-analytics.com",
        "https://*.analytics.google.com",
        "https://*.googletagmanager.com",
    ],
    "img-src": ["https://*.google-analytics.com", "https://*.googletagmanager.com"],
}
_ANALYTICS_FLAG = "_artspot_csp_analytics"


def allow_analytics(request: HttpRequest) -> None:
    """The page being rendered loads Google Analytics: its policy must allow Google's hosts."""
    setattr(request, _ANALYTICS_FLAG, True)


def analytics_allowed(request: HttpRequest) -> bool:
    """Whether the page rendered for ``request`` loads Google Analytics (a cached page keeps it)."""
    return getattr(request, _ANALYTICS_FLAG, False)


def is_admin_path(path: str) -> bool:
    return path.startswith(settings.ADMIN_PATH_PREFIX)


class SitePolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the admin's policy under the admin prefix."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if report_only:
            return parts
        if parts.config is None and is_admin_path(request.path_info):
            parts.config = settings.CONTENT_SECURITY_POLICY_ADMIN["DIRECTIVES"]
        if analytics_allowed(request):
            update = {key: list(value) for key, value in (parts.update or {}).items()}
            for directive, sources in ANALYTICS_DIRECTIVES.items():
                update[directive] = [*update.get(directive, []), *sources]
            parts.update = update
        return parts

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        if "Content-Security-Policy" in response and "Reporting-Endpoints" not in response:
            # Relative: resolved against the page's own URL, so a cached page names no host.
            response["Reporting-Endpoints"] = (
                f'{settings.CSP_VIOLATIONS_GROUP}="{settings.CSP_VIOLATIONS_PATH}"'
            )
        return response


# --- Violation reports ---------------------------------------------------------------------------

MAX_REPORT_BYTES = 64 * 1024
MAX_VIOLATIONS_PER_REQUEST = 20
_MAX_FIELD = 300


class InvalidReport(ValueError):
    """The body is not a CSP report in either format browsers send."""


@dataclass(frozen=True)
class Violation:
    """One violation, the same whichever format reported it."""

    document: str
    directive: str
    blocked: str
    disposition: str
    source: str
    line: int | None
    sample: str

    def log_fields(self) -> dict[str, Any]:
        return {f"csp_{key}": value for key, value in asdict(self).items()}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value[:_MAX_FIELD]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _line(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9:
        return value
    return None


def _from_report_uri(body: dict) -> Violation:
    # `report-uri` (application/csp-report): {"csp-report": {"document-uri": …, …}}
    return Violation(
        document=_text(body.get("document-uri")),
        directive=_text(body.get("effective-directive") or body.get("violated-directive")),
        blocked=_text(body.get("blocked-uri")),
        disposition=_text(body.get("disposition")),
        source=_text(body.get("source-file")),
        line=_line(body.get("line-number")),
        sample=_text(body.get("script-sample")),
    )


def _from_reporting_api(body: dict) -> Violation:
    # `report-to` (application/reports+json): [{"type": "csp-violation", "body": {…}}, …]
    return Violation(
        document=_text(body.get("documentURL")),
        directive=_text(body.get("effectiveDirective")),
        blocked=_text(body.get("blockedURL")),
        disposition=_text(body.get("disposition")),
        source=_text(body.get("sourceFile")),
        line=_line(body.get("lineNumber")),
        sample=_text(body.get("sample")),
    )


def parse_reports(raw: bytes) -> list[Violation]:
    """The violations in a report body of either format; InvalidReport for anything else.

    Reports of other types in a Reporting API batch (deprecations …) are skipped.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise InvalidReport("The body is not JSON.") from error
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        return [_from_report_uri(data["csp-report"])]
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        return [
            _from_reporting_api(item["body"])
            for item in data[:MAX_VIOLATIONS_PER_REQUEST]
            if item.get("type") == "csp-violation" and isinstance(item.get("body"), dict)
        ]
    raise InvalidReport("Expected a CSP report: {'csp-report': {…}} or a list of reports.")
