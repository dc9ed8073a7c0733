"""Logging configuration: JSON lines with a request id (CloudWatch reads stdout) or plain text."""

from typing import Any


def logging_config(
    *, json_lines: bool, level: str = "INFO", quiet_tasks: bool = False
) -> dict[str, Any]:
    """Return a ``LOGGING`` dict; every record carries ``request_id`` from django-guid and
    ``client_address`` (core.client_address: the collector's address, "-" outside a request)."""
    if json_lines:
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s "
            "%(client_address)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {
            "format": "%(asctime)s %(levelname)-7s [%(request_id)s %(client_address)s] "
            "%(name)s: %(message)s"
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {
                "()": "django_guid.log_filters.CorrelationId",
                "correlation_id_field": "request_id",
            },
            "client_address": {"()": "core.client_address.ClientAddressLogFilter"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["request_id", "client_address"],
                "formatter": "default",
            },
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": {"level": level, "propagate": True},
            "django.server": {"level": "INFO", "propagate": True},
            "celery": {"level": level, "propagate": True},
            # One line per finished task is useful on a worker, noise when tasks run in-process.
            "celery.app.trace": {"level": "WARNING" if quiet_tasks else level, "propagate": True},
            # django-guid narrates every id it makes; the ids themselves are on every line.
            "django_guid": {"level": "WARNING", "propagate": True},
            # django-axes: failed admin sign-ins and lockouts are warnings (the client address is
            # on the line); its narration of every step is not. Sign-ins are kept in AccessLog.
            "axes": {"level": "WARNING", "propagate": True},
        },
    }
