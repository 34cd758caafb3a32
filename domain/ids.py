"""Ids in URLs and messages: UUIDs, read the one way."""
from __future__ import annotations

import uuid

from domain.errors import NotFound


def parse_uuid(value: str | uuid.UUID, what: str) -> uuid.UUID:
    """Ids in URLs are UUIDs; anything else names nothing, so it is a 404 like any unknown
    id (code `<what>_not_found`)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}.", code=f"{what}_not_found") from None
