"""Production logs: one JSON object per line, each carrying the request id."""

import io
import json
import logging
import logging.config

import pytest

from artspot.logging import logging_config


@pytest.fixture
def json_log(settings):
    """Configure the production (JSON) logging with its stdout handler writing to a buffer."""
    buffer = io.StringIO()
    config = logging_config(json_lines=True)
    config["handlers"]["stdout"] = {
        "()": lambda: logging.StreamHandler(buffer),
        "filters": ["request_id", "client_address"],
        "formatter": "default",
    }
    logging.config.dictConfig(config)
    yield buffer
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
def test_every_line_of_a_request_is_json_with_its_request_id(client, json_log):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-4242")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-4242"
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found, lines
    assert not_found[0]["level"] == "WARNING"
    assert all(line["request_id"] == "req-4242" for line in lines)


def test_lines_outside_a_request_are_json_too(json_log):
    logging.getLogger("artspot.test").warning("hello %s", "world")
    (line,) = [json.loads(x) for x in json_log.getvalue().splitlines()]
    assert line["message"] == "hello world"
    assert "request_id" in line and "time" in line
    assert line["client_address"] == "-"


@pytest.mark.django_db
def test_every_line_of_a_request_names_the_client_not_the_proxy(client, json_log, settings):
    settings.TRUSTED_PROXY_HOPS = 1  # one load balancer in front
    client.get(
        "/no-such-page/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5"
    )
    logging.getLogger("artspot.test").warning("after the request")
    *during, after = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert any(line["logger"] == "django.request" for line in during)
    assert all(line["client_address"] == "203.0.113.5" for line in during)
    assert after["client_address"] == "-"
