"""Finds and runs each app's demo content builders (``<app>/demo.py``) in a stable order.

Each ``demo.py`` defines ``ORDER`` (apps that others depend on go first) and ``STEPS``: a list of
functions taking a seeded :class:`random.Random`. Every step is idempotent: it looks up what it
would create and leaves existing content alone, so ``load_demo`` can run on every ``make run``.
"""

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec

from django.apps import apps

DEMO_SEED = 20261125


@dataclass(frozen=True)
class DemoStep:
    app_label: str
    func: Callable[[random.Random], None]

    @property
    def label(self) -> str:
        return f"{self.app_label}: {self.func.__name__.replace('_', ' ')}"


def discover_steps() -> list[DemoStep]:
    modules = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.demo"
        if find_spec(config.name) and find_spec(module_name):
            modules.append((config.label, importlib.import_module(module_name)))
    modules.sort(key=lambda item: getattr(item[1], "ORDER", 100))
    return [DemoStep(label, func) for label, module in modules for func in module.STEPS]


def run_step(step: DemoStep, seed: int = DEMO_SEED) -> None:
    # A generator per step keeps each step's output stable when other steps change.
    step.func(random.Random(f"{seed}:{step.label}"))  # noqa: S311 - demo content, not security
