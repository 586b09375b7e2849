"""Shared fixtures. Tests own their database, Redis index, MQTT prefix and ports, so a running
`make run` stack and a test run never collide; everything is loopback only."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
import structlog

sys.path.insert(0, str(Path(__file__).parent))

from helpers import free_port, xdist_worker  # noqa: E402

from callcenter.infra import db  # noqa: E402
from callcenter.infra.logging import mask_event  # noqa: E402
from callcenter.infra.settings import Settings  # noqa: E402

# the stack's own dialler calls missed callers back with a message, as it did before agent-driven
# callbacks: one through an agent would take an agent the ACD tests count on (the tests that want
# it build their dialler with it on)
os.environ.setdefault("CALLCENTER_SURVEY_AGENT_CALLBACKS", "false")

RUN_ID = f"{os.getpid()}"
# Log lines in the test output (structlog's default rendering, captured by pytest and printed
# on a failure, so in CI's log) go through the product's masking too: phone numbers never
# appear in full in a log, a test's fake ones included.
_default_processors = structlog.get_config()["processors"]
structlog.configure(processors=[*_default_processors[:-1], structlog.processors.format_exc_info, mask_event,
                                _default_processors[-1]])
# The stack's own survey dialler stays off: the survey tests build their own dialler on the
# stack (tests/surveys_support.py), and a second one would schedule, claim and recover the
# same jobs (it adopted a killed worker's attempts and dialled them for its own handler).
os.environ["CALLCENTER_SURVEY_ENABLED"] = "false"
ADMIN_DSN = os.environ.get("CALLCENTER_TEST_ADMIN_DSN",
                           "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres")
TEST_DB = f"callcenter_test_{RUN_ID}"


def _free_udp_pair_base() -> int:
    """The first free block of 200 RTP ports, searched from this xdist worker's own share of
    21000-28999 (Asterisk binds them only call by call, so a free block proves little when
    parallel workers start together: they begin their search in different places)."""
    blocks = list(range(21000, 29000, 200))
    index, count = xdist_worker()
    start = index * (len(blocks) // count) % len(blocks)
    for base in blocks[start:] + blocks[:start]:
        try:
            for port in (base, base + 1):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free UDP port range for RTP")


@pytest.fixture(scope="session")
def settings() -> Settings:
    rtp = _free_udp_pair_base()
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + f"/{TEST_DB}"
    return Settings(
        env="test",
        database_url=dsn,
        redis_url="redis://127.0.0.1:6379/15",
        mqtt_prefix=f"test-{RUN_ID}/callcenter",
        ari_url=f"http://127.0.0.1:{free_port()}",
        ari_password=f"test-{RUN_ID}",
        ari_app=f"callcenter-test-{RUN_ID}",
        agi_port=free_port(),
        http_port=free_port(),
        sip_port=free_port(socket.SOCK_DGRAM),
        webrtc_port=free_port(),
        rtp_start=rtp,
        rtp_end=rtp + 199,
        asterisk_instance=f"test-{RUN_ID}",
        log_format="console",
        log_level="WARNING",
        # seats are dialled from the roster, never from a request; in tests the roster's phones
        # are the agent simulator (tests that need a real SIP phone log in through the service)
        seat_interface="Local/{seat}@agent-sim/n",
        # transcription taps every bridged call; the tests that want it turn it on
        transcription_enabled=False,
        # the post-call rating keeps callers on after the agent hangs up; the tests of it turn it on
        rating_enabled=False,
        transcription_rtp_port=0,
        transcription_spool_dir=Path(f"/tmp/callcenter-test-spool-{RUN_ID}"),
        # recording snoops on every bridged call; the tests that want it turn it on (a line that does
        # not record is not transcribed either: those tests turn both on)
        recording_enabled=False,
        recordings_dir=Path(f"/tmp/callcenter-test-recordings-{RUN_ID}"),
    )


@pytest.fixture(scope="session")
def database(settings: Settings):
    """A fresh database for this test session, migrated; dropped at the end."""
    asyncio.run(db.fresh_database(ADMIN_DSN, TEST_DB))
    yield settings.database_url
    asyncio.run(db.drop_database(ADMIN_DSN, TEST_DB))


@pytest.fixture
async def pool(database: str):
    """A pool on the test database; every table is emptied before the test."""
    p = await db.create_pool(database, min_size=1, max_size=8)
    tables = await p.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'schema_migrations'"
    )
    if tables:
        names = ", ".join(f'"{t["tablename"]}"' for t in tables)
        await p.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    yield p
    await p.close()


@pytest.fixture
async def live(settings: Settings):
    from callcenter.infra.redis import LiveState

    state = LiveState(settings.redis_url, prefix=settings.mqtt_prefix)
    await state.clear()
    yield state
    await state.clear()
    await state.close()


@pytest.fixture(scope="session")
def asterisk(settings: Settings):
    """A real Asterisk 22 from the sandbox, with its own ports and directories."""
    from callcenter.infra.sandbox import start_instance
    from callcenter.stack import roster_seat_ids

    inst = start_instance(settings, roster_seat_ids(), echo=lambda *_: None)
    yield inst
    inst.stop()
    shutil.rmtree(inst.host_dir, ignore_errors=True)


@pytest.fixture
async def mqtt_messages(settings: Settings):
    """Collects every MQTT message under this session's prefix while the test runs."""
    from helpers import subscribe_collect

    received: list[tuple[str, object]] = []
    ready = asyncio.Event()
    task = asyncio.create_task(subscribe_collect(settings, received, ready))
    await asyncio.wait_for(ready.wait(), 5)
    yield received
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def stack(settings: Settings, database: str, asterisk, pool, live):
    """The whole controller (aiohttp app with ARI, outbox relay, ...) against the sandbox."""
    from aiohttp import web

    from callcenter.app import STATE, build_app

    app = build_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.http_port)
    await site.start()
    state = app[STATE]
    await asyncio.wait_for(state["ari"].connected.wait(), 10)
    await asyncio.wait_for(state["relay"].connected.wait(), 10)
    yield app
    await _cleanup_or_explain(runner)


@pytest.fixture
def logins(stack, settings: Settings, pool):
    """Real sessions on the running stack: ``await logins.client("supervisor:li")`` is an HTTP
    session logged in as that user (created on first use), ``await logins.headers(actor)``
    its cookie and CSRF headers."""
    from accounts_support import Sessions

    return Sessions(pool, f"http://127.0.0.1:{settings.http_port}")


async def _cleanup_or_explain(runner) -> None:
    """Stop the app; if that takes unreasonably long, print every task's stack (a hang in
    shutdown is a bug worth seeing) and keep waiting."""
    task = asyncio.ensure_future(runner.cleanup())
    done, _ = await asyncio.wait({task}, timeout=20)
    if not done:
        import io

        out = io.StringIO()
        for t in asyncio.all_tasks():
            t.print_stack(file=out)
        sys.stderr.write(f"app shutdown is taking over 20 s; tasks:\n{out.getvalue()}\n")
        sys.stderr.flush()
    await task


@pytest.fixture(autouse=True)
async def no_leftover_tasks():
    """Every background task a test started must be gone at its end: a leftover task that
    ignores cancellation would hang the event loop's shutdown, so name it and fail instead."""
    yield
    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    if not left:
        return
    for t in left:
        t.cancel()
    done, pending = await asyncio.wait(left, timeout=5)
    if pending:
        stacks = "; ".join(f"{t.get_name()}: {t.get_coro()!r}" for t in pending)
        pytest.fail(f"tasks still running after the test and deaf to cancel: {stacks}")


def pytest_collection_modifyitems(config, items) -> None:
    """The compose test (image build and a deployment: minutes in one test) runs first, so under
    `pytest -n` it overlaps the rest instead of starting last on one worker. Stable otherwise:
    every xdist worker must collect the same order."""
    items.sort(key=lambda item: item.get_closest_marker("docker") is None)
