"""Is this request from Slack? Answered before anything else looks at it, and never by raising.

slack_sdk's :class:`~slack_sdk.signature.SignatureVerifier` does the work (its five-minute window and its
constant-time compare). It raises on a timestamp that is not an integer (``abc``, ``1e9``, empty), on a
body that is not UTF-8 and on a non-ASCII signature, so the headers' shape is checked first and the raw
bytes are signed as they came: every failure is a plain "no".
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Mapping

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")          # ASCII digits only: int() also takes " 1", "+1", "١"
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class _RawBodyVerifier(SignatureVerifier):
    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        """Slack signs the bytes it sends; slack_sdk decodes them as UTF-8 first (raising when they are
        not), so bytes are signed as they are."""
        if not isinstance(body, bytes):
            return super().generate_signature(timestamp=timestamp, body=body)
        base = b"v0:" + timestamp.encode("ascii") + b":" + body
        return "v0=" + hmac.new(self.signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


class SlackSignature:
    """``verified(body, headers)``: True only for a fresh request signed with the signing secret."""

    def __init__(self, signing_secret: str):
        self._verifier = _RawBodyVerifier(signing_secret)

    def verified(self, body: bytes | str, headers: Mapping[str, object]) -> bool:
        timestamp, signature = _header(headers, TIMESTAMP_HEADER), _header(headers, SIGNATURE_HEADER)
        if timestamp is None or signature is None:
            return False
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return False
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        try:
            return self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        except Exception:  # nothing about a request may turn a refusal into an error
            log.exception("signature check failed; refusing the request")
            return False


def _header(headers: Mapping[str, object], name: str) -> str | None:
    """One header's value from a WSGI-style or Bolt-style mapping (any case; a str or a list of one)."""
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name:
            if isinstance(value, (list, tuple)):
                if len(value) != 1:
                    return None
                value = value[0]
            return value if isinstance(value, str) else None
    return None
