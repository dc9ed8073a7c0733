"""Health probes answered before Django checks the Host header.

App Runner's and load balancers' health checks address the container by its own IP address, a
Host that ``ALLOWED_HOSTS`` (the public names) rightly refuses with 400, so the probe would fail
and the deployment never become healthy. ``/healthz/`` and ``/readyz/`` read nothing from the
request's host, so they are answered here, ahead of every middleware that validates it; every
other path still is validated.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views import healthz, readyz

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz/": healthz,
    "/readyz/": readyz,
}


class HealthProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
