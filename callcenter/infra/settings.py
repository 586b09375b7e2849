"""Settings from `CALLCENTER_*` environment variables, validated once at start.

Defaults work on one machine (everything on loopback). Tests build their own `Settings`
with a separate database, Redis index, MQTT prefix and ports.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]

# Defaults that are public (they are in this repository): fine on one machine, refused in prod.
DEV_SECRETS = {
    "sip_secret": "dev-seat-secret",
    "ari_password": "callcenter-dev",
    "session_secret": "dev-session-secret",
}
DEV_DB_PASSWORD = "callcenter"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLCENTER_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = "postgresql://callcenter:callcenter@127.0.0.1:5432/callcenter"
    redis_url: str = "redis://127.0.0.1:6379/0"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_prefix: str = "callcenter"
    # the broker's users (docker/README.md, "MQTT and Redis users"): the controller publishes the
    # outbox, the web tier (the pages' hubs) only reads; empty = anonymous (dev and tests only).
    # The web tier falls back to the controller's user when its own is not set.
    mqtt_username: str = ""
    mqtt_password: str = ""
    mqtt_web_username: str = ""
    mqtt_web_password: str = ""

    ari_url: str = "http://127.0.0.1:8088"
    ari_user: str = "callcenter"
    ari_password: str = "callcenter-dev"
    ari_app: str = "callcenter"

    agi_host: str = "127.0.0.1"
    agi_port: int = Field(4573, ge=1, le=65535)
    agi_max_sessions: int = Field(64, ge=1)
    # FastAGI's door (callcenter/ivr/fastagi_gate.py): seconds a connection has to send its AGI
    # environment; connections still sending theirs, per source address and in all
    agi_header_timeout_s: float = Field(5.0, gt=0, le=60)
    agi_pending_per_source: int = Field(8, ge=1)
    agi_max_pending: int = Field(64, ge=1)
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    sip_port: int = Field(5060, ge=1, le=65535)
    rtp_start: int = Field(10000, ge=1024, le=65000)
    rtp_end: int = Field(10999, ge=1024, le=65535)
    sip_secret: str = DEV_SECRETS["sip_secret"]
    session_secret: str = DEV_SECRETS["session_secret"]  # the bootstrap admin's password derives from it
    admin_secret: str | None = None  # overrides session_secret for the bootstrap admin's password
    session_idle_s: int = Field(1800, ge=60, le=86400)
    seat_interface: str = "PJSIP/{seat}"  # what a seat's phone is dialled as (never from a request)
    metrics_token: str = ""  # bearer token for /metrics; empty = open (dev only)

    # where Asterisk listens (rendered into pjsip.conf / http.conf) and where its dialplan
    # reaches the FastAGI server; loopback unless a deployment says otherwise
    sip_bind: str = "127.0.0.1"
    ari_bind: str = "127.0.0.1"
    agi_connect_host: str | None = None  # default: agi_host (127.0.0.1 when that is a wildcard)
    agi_standby_port: int | None = Field(None, ge=1, le=65535)  # the standby controller's FastAGI
    sip_external_address: str | None = None  # public address behind NAT (softphones elsewhere)
    sip_local_net: str = ""  # comma-separated CIDRs that are *not* behind the NAT
    sip_tls_port: int = Field(0, ge=0, le=65535)  # 0: no TLS transport
    sip_tls_cert: str = ""  # certificate and key files as Asterisk sees them
    sip_tls_key: str = ""
    seat_srtp: bool = False  # seats must use SRTP (SDES keys, so only over TLS)
    # the browser phone in the agent desk (callcenter/browserphone): Asterisk serves SIP over secure
    # WebSocket (WSS) on this port of its HTTP server (0: no browser phone). The certificate and key
    # (PEM, as Asterisk sees them) are the operator's in production; empty: `make run` and the
    # tests make a local CA and a certificate for 127.0.0.1 in the instance's directory
    webrtc_port: int = Field(8089, ge=0, le=65535)
    webrtc_bind: str = "127.0.0.1"
    webrtc_cert: str = ""
    webrtc_key: str = ""
    webrtc_url: str = ""  # the address browsers dial (default wss://127.0.0.1:<webrtc_port>/ws)
    webrtc_credential_ttl_s: int = Field(600, ge=5, le=86400)  # a desk's SIP password lives this long
    webrtc_supervisor_phones: int = Field(4, ge=0, le=20)  # browser phones for supervisors: sup01-web..

    # the carrier trunk (see callcenter/infra/trunk.py and docker/README.md)
    trunk_mode: Literal["none", "ip", "register"] = "none"
    trunk_host: str = ""  # host[:port] of the carrier's SBC
    trunk_match: str = ""  # addresses/CIDRs the carrier sends from (default: trunk_host)
    trunk_user: str = ""
    trunk_password: str = ""
    trunk_dids: str = "12345"  # DID[=hotline],... e.g. 12345,12315,08123612345=12345
    trunk_caller_id: str = "12345"
    trunk_codecs: str = "alaw"

    asterisk_cache: Path = Path("/var/cache/callcenter")
    asterisk_instance: str = "run"
    prompts_dir: Path | None = None  # prompts rendered at run time (incident announcements); default: sandbox sounds
    # a mass incident's IVR announcement is rendered when the detector opens it, and spoken to
    # callers once a supervisor confirms it (board 热点诉求: 确认播报); on: at once, unconfirmed
    incident_auto_announce: bool = False
    flows_dir: Path = REPO_ROOT / "ivr_flows"
    wrap_up_s: int | None = Field(None, ge=0, le=3600)  # overrides the roster's after-call work
    lease_ttl_ms: int = Field(2000, ge=500, le=60000)  # takeover within ~3 s (renewed every ttl/6)
    ring_timeout_s: int = Field(15, ge=3, le=120)
    rating_enabled: bool = True  # the agent hangs up first: the caller rates the service (坐席服务评价)
    vosk_model: Path | None = None

    # IVR limits (GB/T 33358: short menus, a key to a person said first); `callcenter ivr check`
    # measures the rendered prompts against them (callcenter/ivr/limits.py)
    ivr_max_greeting_s: float = Field(8.0, gt=0)
    ivr_max_menu_s: float = Field(15.0, gt=0)
    ivr_max_no_input_s: float = Field(30.0, gt=0)  # a caller who presses nothing is queued by then
    ivr_max_menu_repeats: int = Field(1, ge=0)
    ivr_max_menu_levels: int = Field(3, ge=1)
    ivr_max_menu_options: int = Field(5, ge=1, le=12)
    ivr_agent_phrase: str = "转人工请按0"  # every menu with a 0 says this first ("" = not checked)

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    timezone: str = "Asia/Shanghai"
    ticket_prefix: str = "PZH"

    @field_validator("sip_bind", "ari_bind", "webrtc_bind")
    @classmethod
    def _ip(cls, v: str) -> str:
        try:
            ipaddress.ip_address(v)
        except ValueError:
            raise ValueError("must be an IP address (0.0.0.0 for every interface)") from None
        return v

    @field_validator("trunk_caller_id")
    @classmethod
    def _caller_id(cls, v: str) -> str:
        if not v.lstrip("+").isdigit():
            raise ValueError("must be a telephone number (digits)")
        return v

    @model_validator(mode="after")
    def _trunk_and_prod(self) -> Settings:
        from callcenter.infra.trunk import check_trunk

        problems = check_trunk(self)
        if self.env == "prod":
            problems += unsafe_defaults(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- call recording (callcenter/recordings): Asterisk records every bridged call of a line that
    # records (the one switch for the IVR's notice too), kept for the retention period unless held
    recording_enabled: bool = True
    recording_off_lines: list[str] = []  # dialled numbers (lines) never recorded (nor told so), JSON list
    recordings_dir: Path = Path("/var/lib/callcenter/recordings")  # the directory store of the files
    recording_retention_days: int = Field(180, ge=1)
    qa_sample_share: float = Field(0.05, ge=0, le=1)  # of each agent's recorded calls a week, to the QA queue

    # --- live transcription (callcenter/transcription); the model path is `vosk_model` above ---
    transcription_enabled: bool = True
    transcription_sample_rate: int = 16000  # 16000 (slin16) or 8000 (slin)
    transcription_rtp_host: str = "127.0.0.1"  # an IPv4 literal: `localhost` may resolve to ::1
    transcription_rtp_port: int = Field(19000, ge=0, le=65535)  # 0: any free port (tests)
    transcription_spool_dir: Path = Path("/var/tmp/callcenter-transcripts")
    transcription_spool_max_mb: int = Field(512, ge=1)
    transcription_workers: int = Field(0, ge=0, le=64)  # 0: one per CPU
    transcription_retention_days: int = Field(180, ge=1)  # stored segments older than this are deleted
    transcription_off_lines: list[str] = []  # dialled numbers (lines) never transcribed, JSON list
    # decoder setting (beam, max-active, lattice-beam): callcenter/transcription/decoder_conf.py;
    # "model" keeps the model's own conf; others load an overlay of the model made in the cache dir
    transcription_decoder: Literal["model", "fast", "lean"] = "fast"
    transcription_cache_dir: Path = Path("/var/cache/callcenter/transcription")
    # end of an utterance (segment, final) after this much unvoiced audio; shorter splits phrases
    # and loses words (scripts/bench/bench_eou.py). After `provisional_ms` (0: off) the text so far
    # goes to the desktop as "provisional" at once, replaced by the final at `end_ms`.
    transcription_end_ms: int = Field(500, ge=100, le=3000)
    transcription_provisional_ms: int = Field(240, ge=0, le=3000)

    @field_validator("transcription_sample_rate")
    @classmethod
    def _rate(cls, v: int) -> int:
        if v not in (8000, 16000):
            raise ValueError("must be 16000 or 8000")
        return v

    @field_validator("transcription_rtp_host")
    @classmethod
    def _rtp_host(cls, v: str) -> str:
        try:
            ipaddress.IPv4Address(v)
        except ValueError:
            raise ValueError("must be an IPv4 address such as 127.0.0.1 (not a host name)") from None
        return v

    @field_validator("database_url")
    @classmethod
    def _pg_url(cls, v: str) -> str:
        if urlsplit(v).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        return v

    @field_validator("seat_interface")
    @classmethod
    def _seat_interface(cls, v: str) -> str:
        if "{seat}" not in v or not v.startswith(("PJSIP/", "Local/")):
            raise ValueError("must be PJSIP/{seat} or a Local/...{seat}... dial string")
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

    def mqtt_login(self, role: Literal["controller", "web"]) -> dict[str, str | None]:
        """``username``/``password`` keyword arguments of an MQTT client of this ``role`` (None:
        anonymous)."""
        user, password = self.mqtt_username, self.mqtt_password
        if role == "web" and self.mqtt_web_username:
            user, password = self.mqtt_web_username, self.mqtt_web_password
        return {"username": user or None, "password": (password or None) if user else None}

    @property
    def agi_dial_host(self) -> str:
        """The address the dialplan's AGI() connects to."""
        if self.agi_connect_host:
            return self.agi_connect_host
        return "127.0.0.1" if self.agi_host in ("0.0.0.0", "::", "") else self.agi_host

    @property
    def agi_secret(self) -> str:
        """The shared secret the dialplan hands the FastAGI server (``AGI_KEY``, rendered into
        extensions.conf): derived from ``sip_secret``, so the controller and the Asterisk it
        renders for agree without another setting, and a production secret makes a private key."""
        return hmac.new(self.sip_secret.encode(), b"fastagi", hashlib.sha256).hexdigest()[:32]

    @property
    def webrtc_wss_url(self) -> str:
        """Where the desk's browser phone connects (empty when the browser phone is off)."""
        if not self.webrtc_port:
            return ""
        return self.webrtc_url or f"wss://127.0.0.1:{self.webrtc_port}/ws"

    @property
    def webrtc_sip_domain(self) -> str:
        """The SIP domain of the browser phones' addresses (the WSS host)."""
        return urlsplit(self.webrtc_wss_url).hostname or "127.0.0.1"

    @property
    def ari_ws_url(self) -> str:
        return self.ari_url.replace("http", "ws", 1) + "/ari/events"

    @property
    def ari_port(self) -> int:
        return urlsplit(self.ari_url).port or 8088

    def records(self, line: str) -> bool:
        """Calls on ``line`` (the dialled number; "" when unknown) are recorded: recording is on and
        the line is not one that forbids it. The one answer for the IVR's recording notice
        ("您的通话可能会被录音") and for the recorder: a line that is told is recorded, and only it."""
        return self.recording_enabled and line not in self.recording_off_lines

    def transcribes(self, line: str) -> bool:
        """Calls on ``line`` are transcribed live: transcription is on, the line does not forbid it,
        and the line records (a caller never told of recording is not transcribed either)."""
        return self.transcription_enabled and line not in self.transcription_off_lines and self.records(line)


def unsafe_defaults(s: Settings) -> list[str]:
    """One line per setting that production must not run with (public defaults, no token)."""
    out = [f"CALLCENTER_{name.upper()}: the public default is not allowed with CALLCENTER_ENV=prod"
           for name, default in DEV_SECRETS.items() if getattr(s, name) in (default, "")]
    password = urlsplit(s.database_url).password
    if password in (None, "", DEV_DB_PASSWORD):
        out.append("CALLCENTER_DATABASE_URL: the database password is the public default or empty; "
                   "not allowed with CALLCENTER_ENV=prod")
    out += unsafe_brokers(s)
    if s.webrtc_port and not (s.webrtc_cert and s.webrtc_key):
        out.append("CALLCENTER_WEBRTC_CERT and _KEY: the browser phone's WSS needs the operator's certificate "
                   "and key with CALLCENTER_ENV=prod (WEBRTC_PORT=0 turns the browser phone off)")
    if not s.metrics_token:
        out.append("CALLCENTER_METRICS_TOKEN: required with CALLCENTER_ENV=prod (bearer token for /metrics)")
    return out


def unsafe_brokers(s: Settings) -> list[str]:
    """Production talks to Redis and MQTT as users with passwords, the web tier as its own MQTT user."""
    out = []
    url = urlsplit(s.redis_url)
    if not (url.password or "password=" in url.query):
        out.append("CALLCENTER_REDIS_URL: Redis without a password is not allowed with CALLCENTER_ENV=prod "
                   "(redis://USER:PASSWORD@host:port/db, an ACL user)")
    for role, user, password in (("", s.mqtt_username, s.mqtt_password),
                                 ("WEB_", s.mqtt_web_username, s.mqtt_web_password)):
        if not user:
            out.append(f"CALLCENTER_MQTT_{role}USERNAME: anonymous MQTT is not allowed with CALLCENTER_ENV=prod")
        if not password:
            out.append(f"CALLCENTER_MQTT_{role}PASSWORD: an MQTT user without a password is not allowed "
                       "with CALLCENTER_ENV=prod")
    if s.mqtt_web_username and s.mqtt_web_username == s.mqtt_username:
        out.append("CALLCENTER_MQTT_WEB_USERNAME: the web tier must be its own MQTT user (read-only), "
                   "not the controller's, with CALLCENTER_ENV=prod")
    return out


class SettingsError(Exception):
    """Settings did not validate; the message is one line per bad field."""


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [
            f"CALLCENTER_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" if err["loc"]
            else str(err["msg"]).removeprefix("Value error, ")
            for err in exc.errors()
        ]
        raise SettingsError("; ".join(lines)) from None
