"""The SES bounce and complaint webhook: SNS posts here (``/email/ses/events/``).

anymail's Amazon SES tracking view does the parsing, the basic auth (``SES_WEBHOOK_SECRET`` in
the subscription URL) and confirms a subscription through boto3; it does not check SNS
signatures, so this view also verifies each message's signature (``core.sns``) after the basic
auth and before anything is parsed or confirmed. ``core.email`` records what the events say.

Answers: 404 when no secret is configured, 401 without credentials (SNS then sends them),
400 for a wrong secret, an unsigned, forged or malformed message, 503 when the signing certificate
cannot be fetched just now (SNS retries), 200 otherwise (a replay included).
"""

from __future__ import annotations

import logging

from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from botocore.exceptions import BotoCoreError, ClientError
from django.http import HttpRequest, HttpResponse

from . import sns

logger = logging.getLogger(__name__)


def _refuse(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class SesEventsWebhookView(AmazonSESTrackingWebhookView):
    warn_if_no_basic_auth = False  # without a secret the view answers 404

    def run_validators(self, request: HttpRequest) -> None:
        super().run_validators(request)  # basic auth, then SNS headers against the body
        try:
            sns.verify(self._parse_sns_message(request))
        except sns.InvalidMessage as error:
            raise AnymailWebhookValidationFailure(str(error)) from None

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not self.basic_auth:
            return _refuse(404, "The SES webhook is not configured.")
        try:
            return super().post(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as error:
            logger.warning("SES webhook refused: %s", error)
            return _refuse(400, f"Refused: {error}")
        except sns.CertificateUnavailable as error:
            logger.warning("SES webhook: %s", error)
            return _refuse(503, "The signing certificate is unavailable; try again later.")
        except (BotoCoreError, ClientError) as error:
            logger.warning("SES webhook: could not confirm the subscription: %s", error)
            return _refuse(502, "Could not confirm the subscription; try again later.")
        except (AnymailError, ValueError, KeyError, TypeError, AttributeError) as error:
            # A signed message we cannot read (a new format?): say so, keep it out of the 5xx.
            logger.warning("SES webhook: unreadable message: %s", str(error)[:300])
            return _refuse(400, "Malformed SNS or SES message.")
