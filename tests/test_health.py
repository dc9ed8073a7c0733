import json

import pytest


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any database access in this test raises.
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


TOKEN = "operators-only-token"


@pytest.fixture
def operator(settings):
    settings.HEALTH_DETAIL_TOKEN = TOKEN
    return {"HTTP_X_HEALTH_TOKEN": TOKEN}


@pytest.mark.django_db
def test_readyz_names_every_check(client, operator):
    response = client.get("/readyz/", **operator)
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert body["checks"]["database"]["detail"] == "postgresql"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_503_naming_the_cache_when_redis_is_unreachable(client, settings, operator):
    from tests.support.processes import closed_port

    unreachable = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {
        alias: {**config, "LOCATION": unreachable} for alias, config in settings.CACHES.items()
    }
    response = client.get("/readyz/", **operator)
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["checks"]["database"]["ok"] is True
    # Anyone else learns only that it is not ready: no hosts, ports or error texts.
    for headers in ({}, {"HTTP_X_HEALTH_TOKEN": "guess"}):
        public = client.get("/readyz/", **headers)
        assert public.status_code == 503 and public.json() == {"status": "fail"}
    # A cache outage is not a page outage.
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_readyz_without_a_configured_token_shows_no_details(client, settings):
    settings.HEALTH_DETAIL_TOKEN = ""
    response = client.get("/readyz/", HTTP_X_HEALTH_TOKEN="")
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz/", "/readyz/"])
def test_health_probes_answer_a_checker_that_names_the_container_by_ip(client, settings, path):
    """App Runner and load balancers probe the container's IP address, not the public name."""
    settings.ALLOWED_HOSTS = ["artspot.example"]
    assert client.get(path, HTTP_HOST="10.0.3.17:8080").status_code == 200
    # Every other path still refuses a host it does not serve.
    assert client.get("/search/", HTTP_HOST="10.0.3.17:8080").status_code == 400
