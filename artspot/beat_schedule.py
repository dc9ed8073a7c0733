"""Celery beat schedule: periodic work, one entry per job (later domains add theirs here)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Side effects written to the outbox go to the broker as soon as it answers (core.outbox).
    "relay-outbox": {
        "task": "core.tasks.relay_outbox",
        "schedule": 5.0,
        "options": {"expires": 30},
    },
    # Wagtail's scheduled publishing (go_live_at / expire_at) for pages and snippets.
    "publish-scheduled-content": {
        "task": "core.tasks.publish_scheduled_content",
        "schedule": 60.0,
    },
    # Holds stop counting the moment they expire; this tidies them and closes lapsed payments.
    "release-lapsed-holds": {
        "task": "shop.tasks.release_lapsed_holds",
        "schedule": 60.0,
    },
    # Drop reminders (24 hours before and at the start), each sent once per subscriber.
    "send-drop-reminders": {
        "task": "drops.tasks.send_drop_reminders",
        "schedule": 60.0,
        # A run still waiting when the next is due is dropped; the next one does its work.
        "options": {"expires": 55},
    },
    # CloudFront: the works of drops that opened or closed (core.frontend_cache, drops.tasks).
    "purge-opened-and-closed-drops": {
        "task": "drops.tasks.purge_opened_and_closed_drops",
        "schedule": 15.0,
        "options": {"expires": 14},
    },
    # Pending purges whose process died between its commit and queueing their flush.
    "flush-frontend-cache": {
        "task": "core.tasks.flush_frontend_cache",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Collectors' daily digest: hourly from COLLECTOR_DIGEST_HOUR, one email a day at most.
    "plan-daily-digests": {
        "task": "collectors.tasks.plan_daily_digests",
        "schedule": crontab(minute=7),
        "options": {"expires": 3000},
    },
    "prune-outbox": {
        "task": "core.tasks.prune_outbox",
        "schedule": crontab(hour=4, minute=37),
    },
    "clear-expired-sessions": {
        "task": "core.tasks.clear_expired_sessions",
        "schedule": crontab(hour=4, minute=17),
    },
}
