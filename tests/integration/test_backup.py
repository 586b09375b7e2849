"""docker/backup.sh against the real PostgreSQL: dump, change, restore, and the change is gone.

The same script runs as the compose `backup` job (tests/integration/test_docker_stack.py);
here it runs on the host with the host's pg_dump, on a throw-away database of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest
from conftest import ADMIN_DSN

from callcenter.infra import db

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "backup.sh"

pytestmark = pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is missing")


def backup(dsn: str, directory: Path, *args: str, **extra: str) -> str:
    env = {**os.environ, "CALLCENTER_DATABASE_URL": dsn, "BACKUP_DIR": str(directory), "BACKUP_KEEP": "2", **extra}
    res = subprocess.run(["sh", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.fixture
async def scratch_db():
    name = f"callcenter_backup_{os.getpid()}"
    dsn = await db.fresh_database(ADMIN_DSN, name)
    yield dsn
    await db.drop_database(ADMIN_DSN, name)


async def test_dump_and_restore_bring_back_the_state_of_the_dump(scratch_db, tmp_path):
    conn = await asyncpg.connect(scratch_db)
    try:
        await conn.execute("INSERT INTO calls (call_id, caller, dnis) VALUES ('before', '13800000001', '12345')")
        out = backup(scratch_db, tmp_path, "dump")
        dump = out.split("backup: wrote ", 1)[1].split()[0]
        assert dump.endswith(".dump") and "(0 bytes)" not in out
        await conn.execute("INSERT INTO calls (call_id, caller, dnis) VALUES ('after', '13800000002', '12345')")
        await conn.execute("UPDATE calls SET dnis='12315' WHERE call_id='before'")
    finally:
        await conn.close()
    backup(scratch_db, tmp_path, "restore", dump)
    conn = await asyncpg.connect(scratch_db)
    try:
        rows = await conn.fetch("SELECT call_id, dnis FROM calls ORDER BY call_id")
        assert [(r["call_id"], r["dnis"]) for r in rows] == [("before", "12345")]
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") >= 4
    finally:
        await conn.close()


def test_a_missing_file_or_command_is_a_clear_error(tmp_path):
    env = {**os.environ, "CALLCENTER_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "BACKUP_DIR": str(tmp_path)}
    res = subprocess.run(["sh", str(SCRIPT), "restore", str(tmp_path / "nope.dump")], env=env,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 2 and "no such file" in res.stderr
    res = subprocess.run(["sh", str(SCRIPT), "frobnicate"], env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 2 and "usage" in res.stderr


async def test_the_dump_takes_the_recordings_directory_along(scratch_db, tmp_path):
    import tarfile

    recordings = tmp_path / "recordings"
    (recordings / "2026" / "12" / "07").mkdir(parents=True)
    (recordings / "2026" / "12" / "07" / "c-1-1.ogg").write_bytes(b"OggS recorded call")
    backups = tmp_path / "backups"
    backup(scratch_db, backups, "dump", RECORDINGS_DIR=str(recordings))
    tar, = backups.glob("recordings-*.tar")
    with tarfile.open(tar) as t:
        member = t.extractfile("./2026/12/07/c-1-1.ogg")
        assert member is not None and member.read() == b"OggS recorded call"
    assert not list(backups.glob("*.partial"))
    # the disk is lost: the tar puts the recordings back
    shutil.rmtree(recordings)
    out = backup(scratch_db, backups, "restore-recordings", str(tar), RECORDINGS_DIR=str(recordings))
    assert "restored the recordings" in out
    assert (recordings / "2026" / "12" / "07" / "c-1-1.ogg").read_bytes() == b"OggS recorded call"
