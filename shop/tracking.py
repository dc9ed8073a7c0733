"""Carrier tracking links for the shipped email: one URL pattern per common carrier.

The carrier is free text from the team or ShipStation's ``carrierCode`` ("royal_mail",
"dhl_express", "stamps_com"...); an unknown carrier gets no link rather than a guessed one.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Normalised carrier name prefix -> URL with {number} (already URL-encoded) in it.
TRACKING_URLS: dict[str, str] = {
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    "parcelforce": "https://www.parcelforce.com/track-trace?trackNumber={number}",
    "dhl": "https://www.dhl.com/gb-en/home/tracking.html?tracking-id={number}",
    "ups": "https://www.ups.com/track?tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "stampscom": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "dpd": "https://track.dpd.co.uk/parcels/{number}",
}


def tracking_url(carrier: str, tracking_number: str) -> str:
    """The carrier's tracking page for this number, or "" for an unknown carrier or no number."""
    key = re.sub(r"[^a-z0-9]", "", (carrier or "").lower())
    number = (tracking_number or "").strip()
    if not key or not number:
        return ""
    for prefix, pattern in TRACKING_URLS.items():
        if key.startswith(prefix):
            return pattern.format(number=quote(number, safe=""))
    return ""
