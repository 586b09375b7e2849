"""Settings from `CALLCENTER_*` environment variables, validated once at start.

Defaults work on one machine (everything on loopback). Tests build their own `Settings`
with a separate database, Redis index, MQTT prefix and ports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLCENTER_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = "postgresql://callcenter:callcenter@127.0.0.1:5432/callcenter"
    redis_url: str = "redis://127.0.0.1:6379/0"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_prefix: str = "callcenter"

    ari_url: str = "http://127.0.0.1:8088"
    ari_user: str = "callcenter"
    ari_password: str = "callcenter-dev"
    ari_app: str = "callcenter"

    agi_host: str = "127.0.0.1"
    agi_port: int = Field(4573, ge=1, le=65535)
    agi_max_sessions: int = Field(64, ge=1)
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    sip_port: int = Field(5060, ge=1, le=65535)
    rtp_start: int = Field(10000, ge=1024, le=65000)
    rtp_end: int = Field(10999, ge=1024, le=65535)
    sip_secret: str = "dev-seat-secret"

    asterisk_cache: Path = Path("/var/cache/callcenter")
    asterisk_instance: str = "run"
    flows_dir: Path = REPO_ROOT / "ivr_flows"
    wrap_up_s: int | None = Field(None, ge=0, le=3600)  # overrides the roster's after-call work
    lease_ttl_ms: int = Field(2000, ge=500, le=60000)  # takeover within ~3 s (renewed every ttl/6)
    ring_timeout_s: int = Field(15, ge=3, le=120)
    vosk_model: Path | None = None

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    timezone: str = "Asia/Shanghai"
    ticket_prefix: str = "PZH"

    @field_validator("database_url")
    @classmethod
    def _pg_url(cls, v: str) -> str:
        if urlsplit(v).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str) -> str:
        if urlsplit(v).scheme not in ("redis", "unix"):
            raise ValueError("must be a redis:// URL")
        return v

    @field_validator("ari_url")
    @classmethod
    def _ari_url(cls, v: str) -> str:
        if urlsplit(v).scheme not in ("http", "https"):
            raise ValueError("must be an http:// URL")
        return v.rstrip("/")

    @field_validator("mqtt_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not v or any(c in v for c in "#+") or v.startswith("/") or v.endswith("/"):
            raise ValueError("must be a plain topic prefix without wildcards or edge slashes")
        return v

    @property
    def ari_ws_url(self) -> str:
        return self.ari_url.replace("http", "ws", 1) + "/ari/events"

    @property
    def ari_port(self) -> int:
        return urlsplit(self.ari_url).port or 8088


class SettingsError(Exception):
    """Settings did not validate; the message is one line per bad field."""


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [
            f"CALLCENTER_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
        raise SettingsError("; ".join(lines)) from None
