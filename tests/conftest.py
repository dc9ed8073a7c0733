import warnings

import pytest
from django.core.cache import caches
from django.core.management import call_command

from core import fragments, page_cache, renditions

# moto_server / moto: AWS through boto3 against moto's server mode on loopback.
pytest_plugins = ["tests.support.aws"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database starts with the demo content, from the same seeded loader as `make run`."""
    with django_db_blocker.unblock():
        call_command("load_demo", verbosity=0)


@pytest.fixture(autouse=True)
def _empty_caches():
    """Each test starts with empty caches (Redis keeps them between tests otherwise)."""
    for alias in ("default", "renditions", "ratelimit", "pages", "lookups"):
        caches[alias].clear()
    page_cache.local.clear()  # (its copies are only used with a token Redis holds)
    fragments.local.clear()  # (keys are content, but ids and files repeat between tests)
    yield
    if not renditions.wait_for_background():  # nothing a test queued runs into the next one
        warnings.warn(
            "renditions queued by this test were still being made after 30 s", stacklevel=1
        )


@pytest.fixture
def home_page(db):
    from home.models import HomePage

    return HomePage.objects.get(depth=2)


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    """Create content and let its commit-time index updates run, as they would after a request."""

    def create(factory, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return factory(**kwargs)

    return create
