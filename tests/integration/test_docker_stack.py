"""The deployment as a hall's IT team runs it: images built offline, `compose up` (host network,
own ports), a call from the carrier (sipp) through the trunk queued in the controller, a ticket
filed over the API that survives restarts of the controller, PostgreSQL and Redis, the standby
taking calls (IVR included) while the controller is stopped, a backup taken and restored with
the compose job, then `compose down -v`.

Skipped where no Docker daemon answers (scripts/setup.sh installs docker.io and starts dockerd
as root). Images are reused when their content hash is unchanged (docker/build.py), so only
the first run on a machine pays for the build; the figures are printed (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from carrier import Carrier

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker" / "compose.yaml"

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1500)]


def _compose_cmd() -> list[str] | None:
    if shutil.which("docker") is None:
        return None
    if subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode != 0:
        return None
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


COMPOSE = _compose_cmd()
if COMPOSE is None or shutil.which("sipp") is None:
    pytest.skip("no Docker daemon (or docker compose / sipp) on this machine", allow_module_level=True)


def poll(check, timeout: float, what: str, interval: float = 0.5):
    """Call `check` until it returns something truthy (sync twin of helpers.until)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, urllib.error.URLError, subprocess.SubprocessError, ValueError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _port_block(size: int = 128) -> list[int]:
    """`size` ports free for TCP and UDP, above the kernel's ephemeral range (32768-60999 here):
    a port picked from the ephemeral range can be taken by some client's source port before the
    container binds it; the test suite's other ports are ephemeral or 21000-29199 (RTP)."""
    blocks = list(range(61000, 64800, size))  # RTP must start at or below 65000 (settings)
    start = os.getpid() % len(blocks)
    for base in blocks[start:] + blocks[:start]:
        try:
            for port in range(base, base + size):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(socket.AF_INET, kind) as sock:
                        sock.bind(("127.0.0.1", port))
            return list(range(base, base + size))
        except OSError:
            continue
    raise RuntimeError("no free block of ports above the ephemeral range")


class Stack:
    def __init__(self, tmp: Path, tags: dict[str, str]):
        self.project = f"cctest{os.getpid()}"
        ports = iter(_port_block())
        self.http, self.standby_http, self.sip, self.carrier_port, self.carrier_media, self.pg, self.redis, \
            self.mqtt, ari, agi, standby_agi = (next(ports) for _ in range(11))
        self.wss = next(ports)
        rtp = next(ports)  # and the next 99
        self.carrier2, self.carrier2_media = rtp + 100, rtp + 101
        from callcenter.infra.certs import local_certificates

        # the hall's certificate for the browser phone's WSS, as an operator puts it in docker/certs
        self.ca, _, _ = local_certificates(tmp / "certs")
        self.env_file = tmp / "callcenter.env"
        self.env_file.write_text("\n".join([
            "CALLCENTER_ENV=prod",
            f"CALLCENTER_SIP_SECRET=seat-{os.getpid()}", f"CALLCENTER_ARI_PASSWORD=ari-{os.getpid()}",
            f"CALLCENTER_SESSION_SECRET=sess-{os.getpid()}", f"CALLCENTER_METRICS_TOKEN=m-{os.getpid()}",
            f"CALLCENTER_DATABASE_URL=postgresql://callcenter:db-{os.getpid()}@127.0.0.1:{self.pg}/callcenter",
            f"CALLCENTER_REDIS_URL=redis://callcenter:redis-{os.getpid()}@127.0.0.1:{self.redis}/0",
            "CALLCENTER_MQTT_HOST=127.0.0.1", f"CALLCENTER_MQTT_PORT={self.mqtt}",
            "CALLCENTER_MQTT_USERNAME=callcenter-controller", f"CALLCENTER_MQTT_PASSWORD=mqtt-{os.getpid()}",
            "CALLCENTER_MQTT_WEB_USERNAME=callcenter-web", f"CALLCENTER_MQTT_WEB_PASSWORD=web-{os.getpid()}",
            f"CALLCENTER_ARI_URL=http://127.0.0.1:{ari}",
            f"CALLCENTER_HTTP_PORT={self.http}", f"CALLCENTER_AGI_PORT={agi}",
            f"CALLCENTER_SIP_PORT={self.sip}", f"CALLCENTER_RTP_START={rtp}", f"CALLCENTER_RTP_END={rtp + 99}",
            "CALLCENTER_TRUNK_MODE=ip", f"CALLCENTER_TRUNK_HOST=127.0.0.1:{self.carrier_port}",
            "CALLCENTER_TRUNK_MATCH=127.0.0.1", "CALLCENTER_TRUNK_DIDS=12345,12315",
            f"CALLCENTER_WEBRTC_PORT={self.wss}", f"CALLCENTER_WEBRTC_URL=wss://127.0.0.1:{self.wss}/ws",
            "CALLCENTER_WEBRTC_CERT=/etc/callcenter/webrtc/asterisk.crt",
            "CALLCENTER_WEBRTC_KEY=/etc/callcenter/webrtc/asterisk.key",
            "CALLCENTER_LOG_LEVEL=WARNING", "",
        ]))
        self.env = {**os.environ, "CALLCENTER_ENV_FILE": str(self.env_file),
                    "CALLCENTER_IMAGE_TAG": tags["callcenter-app"].split(":")[1],
                    "CALLCENTER_ASTERISK_TAG": tags["callcenter-asterisk"].split(":")[1],
                    "CALLCENTER_SERVICES_TAG": tags["callcenter-services"].split(":")[1],
                    "STANDBY_HTTP_PORT": str(self.standby_http), "STANDBY_AGI_PORT": str(standby_agi),
                    "CALLCENTER_WEBRTC_CERTS_DIR": str(tmp / "certs")}

    def compose(self, *args: str, timeout: float = 300) -> str:
        res = subprocess.run([*COMPOSE, "-f", str(COMPOSE_FILE), "-p", self.project, *args], env=self.env,
                             capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise AssertionError(f"compose {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res.stdout

    def health(self, service: str) -> str:
        cid = self.compose("ps", "-q", service).strip()
        if not cid:
            return "absent"
        return subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}", cid],
                              capture_output=True, text=True).stdout.strip()

    def wait_healthy(self, *services: str, timeout: float = 180) -> None:
        for service in services:
            poll(lambda s=service: self.health(s) == "healthy", timeout, f"{service} healthy")

    def _call(self, method: str, path: str, body: dict | None, port: int | None,
              headers: dict[str, str]) -> tuple[int, object, dict[str, str]]:
        req = urllib.request.Request(f"http://127.0.0.1:{port or self.http}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null"), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null"), dict(err.headers)

    def _login(self, username: str, password: str) -> dict[str, str]:
        status, doc, headers = self._call("POST", "/api/session", {"username": username, "password": password},
                                          None, {})
        if status != 200:  # e.g. 503 while starting: poll() tries again
            raise ValueError(f"login as {username}: {status} {doc}")
        token = headers["Set-Cookie"].split(";", 1)[0]
        return {"Cookie": token, "X-CSRF-Token": doc["csrf"]}

    def api(self, method: str, path: str, body: dict | None = None, port: int | None = None, *,
            again: bool = True):
        """As a supervisor of the hall (created by the bootstrap admin, whose password derives
        from the session secret of the env file); sessions live in the shared Redis."""
        if not getattr(self, "_session", None):
            from callcenter.accounts.passwords import derived_password

            admin = self._login("admin", derived_password(f"sess-{os.getpid()}", "admin"))
            for user in ({"username": "li", "role": "supervisor"},
                         {"username": "wang", "role": "agent", "agent_id": "1001"}):
                status, doc, _ = self._call("POST", "/api/users", {**user, "password": "docker-test-password"},
                                            None, admin)
                if status not in (201, 409):
                    raise ValueError(f"adding {user['username']}: {status} {doc}")
            self._session = self._login("li", "docker-test-password")
        status, doc, _ = self._call(method, path, body, port, self._session)
        if status == 401 and again:  # sessions went with a Redis restart: log in again, once
            self._session = None
            return self.api(method, path, body, port, again=False)
        return status, doc

    def logs(self) -> str:
        try:
            return self.compose("logs", "--no-color", "--tail=30", timeout=60)
        except AssertionError as exc:
            return str(exc)


def _build() -> dict[str, str]:
    res = subprocess.run([sys.executable, str(REPO / "docker" / "build.py")], capture_output=True, text=True,
                         timeout=1200)
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


async def _wss_register(stack: Stack, user: str, password: str) -> int:
    from wss_sip import WssSip

    sip = WssSip(f"wss://127.0.0.1:{stack.wss}/ws", stack.ca, user, password)  # as the desk's JsSIP does
    try:
        await sip.connect()
        return await sip.register()
    finally:
        await sip.close()


def test_compose_stack_takes_a_trunk_call_keeps_tickets_and_restores_a_backup(tmp_path):
    figures: dict[str, float] = {}
    t0 = time.monotonic()
    tags = _build()
    figures["build"] = time.monotonic() - t0
    stack = Stack(tmp_path, tags)
    carrier = Carrier(stack.carrier_port, stack.carrier_media)
    carrier2 = Carrier(stack.carrier2, stack.carrier2_media)
    try:
        t1 = time.monotonic()
        stack.compose("up", "-d")
        stack.wait_healthy("controller", "standby")
        figures["up_to_healthy"] = time.monotonic() - t1

        # the browser phone over the compose stack's WSS: agent 1001 signed in at seat01 gets the
        # seat's credential from the controller, and registers with it over TLS (the hall's
        # certificate, verified against its CA) and SIP over WebSocket; a wrong password is refused
        status, doc = stack.api("POST", "/api/agents/1001/login", {"seat": "seat01"})
        assert status == 200, doc
        agent = stack._login("wang", "docker-test-password")
        status, cred, _ = stack._call("POST", "/api/webphone/credentials", None, None, agent)
        assert status == 201 and cred["username"] == "seat01-web", cred
        assert cred["ws_url"] == f"wss://127.0.0.1:{stack.wss}/ws"
        assert asyncio.run(_wss_register(stack, "seat01-web", cred["password"])) == 200
        assert asyncio.run(_wss_register(stack, "seat01-web", "not-the-password")) >= 400
        status, doc = stack.api("POST", "/api/agents/1001/logout")  # the trunk call below must queue
        assert status == 200, doc

        # a citizen's call from the carrier: DID 12345, "0" for an agent; nobody is signed in,
        # so the controller queues it
        carrier.call(f"127.0.0.1:{stack.sip}", "12345", caller="13912345678", dtmf="0", hold_ms=90000)

        def queued():
            status, doc = stack.api("GET", "/api/queues")
            return status == 200 and any(doc["queues"].values()) and doc
        doc = poll(queued, 90, "the trunk call queued in the controller")
        assert sum(len(v) for v in doc["queues"].values()) == 1
        first_calls = {c["call_id"] for v in doc["queues"].values() for c in v}

        status, ticket = stack.api("POST", "/api/tickets", {"kind": "complaint",
                                                            "description": "小区路灯不亮，已经一周了"})
        assert status == 201, ticket
        number = ticket["number"]

        def ticket_there():
            status, doc = stack.api("GET", f"/api/tickets/{number}")
            return status == 200 and doc["number"] == number

        for service in ("controller", "postgres", "redis"):
            stack.compose("restart", service)
            stack.wait_healthy(service, "controller")
            poll(ticket_there, 60, f"ticket {number} after restarting {service}")
        # Redis came back empty (no persistence, on purpose): a controller holds the lease again
        # and the ACD's live view is written again; the ticket above was never in Redis
        def redis_keys():
            out = stack.compose("exec", "-T", "redis", "redis-cli", "-p", str(stack.redis), "--user", "callcenter",
                                "--pass", f"redis-{os.getpid()}", "--no-auth-warning", "--scan",
                                "--pattern", "callcenter:*")
            return out if "callcenter:lease:" in out else None
        poll(redis_keys, 60, "the controller lease in the emptied Redis")
        # the stack's Redis and Mosquitto take only their users (#25 item 3)
        anonymous = stack.compose("exec", "-T", "redis", "redis-cli", "-p", str(stack.redis), "ping")
        assert "NOAUTH" in anonymous
        with socket.create_connection(("127.0.0.1", stack.mqtt), timeout=5) as mq:  # MQTT 3.1.1 CONNECT, no user
            mq.sendall(bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 0]))
            assert mq.recv(4) == bytes([0x20, 2, 0, 5])  # CONNACK: not authorised

        # the controller goes away: the standby takes the lease, and a new call goes through the
        # IVR (the dialplan's second FastAGI address) into the standby's queue
        stack.compose("stop", "controller")
        poll(lambda: stack.api("GET", "/health", port=stack.standby_http)[1]["active"], 30, "the standby active")
        carrier2.call(f"127.0.0.1:{stack.sip}", "12315", caller="13987654321", dtmf="0", hold_ms=60000)

        def queued_on_standby():
            status, doc = stack.api("GET", "/api/queues", port=stack.standby_http)
            return status == 200 and {c["call_id"] for v in doc["queues"].values() for c in v} - first_calls
        poll(queued_on_standby, 90, "the second call queued by the standby")
        stack.compose("start", "controller")
        stack.wait_healthy("controller")

        # backup, a ticket filed after it, restore: the ticket from before is there, the later one gone
        out = stack.compose("run", "--rm", "backup")
        dump = out.split("backup: wrote ", 1)[1].split()[0]
        status, later = stack.api("POST", "/api/tickets", {"kind": "enquiry", "description": "公积金怎么提取"})
        assert status == 201, later
        stack.compose("stop", "standby", "controller")
        stack.compose("run", "--rm", "backup", "restore", dump)
        stack.compose("start", "controller", "standby")
        stack.wait_healthy("controller", "standby")
        poll(ticket_there, 60, f"ticket {number} after the restore")
        assert stack.api("GET", f"/api/tickets/{later['number']}")[0] == 404
        figures["total"] = time.monotonic() - t0
        print("\ndocker figures (s): " + ", ".join(f"{k} {v:.0f}" for k, v in figures.items()))
    except BaseException:
        print(stack.logs())
        print(carrier.messages()[-3000:])
        raise
    finally:
        carrier.stop()
        carrier2.stop()
        stack.compose("down", "-v", "--remove-orphans", timeout=180)
