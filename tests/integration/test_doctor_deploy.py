"""`callcenter doctor --deploy` (the containers' health check) leaves out the developer's tools
and sandbox, and still fails, one line each, on what a deployed service needs."""

from __future__ import annotations

from helpers import free_port

from callcenter.doctor import run_doctor
from callcenter.infra.settings import Settings


async def test_deploy_checks_skip_tools_and_sandbox_and_fail_on_dead_services():
    dead = free_port()  # nothing listens there
    s = Settings(database_url=f"postgresql://x:y@127.0.0.1:{dead}/db", redis_url=f"redis://127.0.0.1:{dead}/0",
                 mqtt_port=dead, ari_url=f"http://127.0.0.1:{dead}", http_port=dead)
    lines: list[str] = []
    rc = await run_doctor(s, deploy=True, echo=lines.append)
    out = "\n".join(lines)
    assert rc == 1
    assert "tools" not in out and "sandbox" not in out
    for name in ("postgres", "redis", "mqtt", "ari", "controller"):
        assert f"FAIL  {name}" in out
    assert "ok    flows" in out
