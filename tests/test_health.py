import json

import pytest


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any database access in this test raises.
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_names_every_check(client):
    response = client.get("/readyz/")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert body["checks"]["database"]["detail"] == "postgresql"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_503_naming_the_cache_when_redis_is_unreachable(client, settings):
    from tests.support.processes import closed_port

    unreachable = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {
        alias: {**config, "LOCATION": unreachable} for alias, config in settings.CACHES.items()
    }
    response = client.get("/readyz/")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["checks"]["database"]["ok"] is True
    # A cache outage is not a page outage.
    assert client.get("/").status_code == 200
