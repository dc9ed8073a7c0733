"""Dependencies point one way: content apps and drops never import the shop; core no domain app.

Read from the source with ``ast`` (module-level and function-level imports alike), so a lazy
import inside a function counts as much as one at the top.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTENT_APPS = ("artworks", "artists", "stories", "curations", "home", "drops")
DOMAIN_APPS = ("shop", *CONTENT_APPS, "search")


def imported_modules(app: str) -> dict[str, set[str]]:
    """Each Python file of ``app`` (migrations included) -> the top-level packages it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("app", CONTENT_APPS)
def test_content_apps_import_nothing_from_the_shop(app):
    offenders = [path for path, names in imported_modules(app).items() if "shop" in names]
    assert offenders == [], f"{app} imports the shop in {offenders}"


def test_the_check_sees_imports_inside_functions(tmp_path, monkeypatch):
    """The reader is not blind to a lazy import (so the test above can fail)."""
    package = tmp_path / "probe"
    package.mkdir()
    (package / "mod.py").write_text("def f():\n    from shop.models import Order\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert imported_modules("probe") == {"probe/mod.py": {"shop"}}


def test_core_imports_no_domain_app_outside_its_known_seams():
    """core's generic parts (money, outbox, pages, health) know no domain app."""
    generic = ("core/money.py", "core/outbox.py", "core/pages.py", "core/health.py")
    modules = imported_modules("core")
    for path in generic:
        assert not modules[path] & set(DOMAIN_APPS), path


def test_nothing_imports_the_importer():
    """``imports`` may use artists, artworks and core; no other app depends on it."""
    offenders = [
        path
        for app in (*DOMAIN_APPS, "core")
        for path, names in imported_modules(app).items()
        if "imports" in names
    ]
    assert offenders == []
    assert not {"shop", "drops"} & set().union(*imported_modules("imports").values())
