"""Types shared by the response documents of every feature's REST API (pydantic only, no aiohttp,
so pure modules may use them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

# a moment in a response document: ISO 8601 text, and so in the OpenAPI schema
Time = Annotated[datetime, PlainSerializer(lambda v: v.isoformat(), return_type=str),
                 WithJsonSchema({"type": "string", "format": "date-time"})]
