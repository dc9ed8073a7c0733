from django.apps import AppConfig


class DropsConfig(AppConfig):
    """Drops: sets of works that go on sale at a set second, with reminders and a fair start."""

    name = "drops"

    def ready(self) -> None:
        from shop import rules

        from .entry import admission_time
        from .listings import price_veil
        from .models import collector_limit, sale_blocker, seconds_until_change

        rules.register_purchase_rule(sale_blocker)
        rules.register_collector_limit(collector_limit)
        rules.register_admission(admission_time)
        rules.register_change_clock(seconds_until_change)
        rules.register_price_veil(price_veil)
