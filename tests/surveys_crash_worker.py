"""A dialler process that dies (the test sends it SIGKILL): it claims `claim` attempts, dials the
first `dial` of them, prints "ready" and waits to be killed. Run by test_surveys_dialler.py as
    python tests/surveys_crash_worker.py DSN ARI_URL USER PASSWORD APP CLAIM DIAL
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from callcenter.infra import db
from callcenter.infra.ari import TRUNK_FORMATS, AriClient
from callcenter.surveys.store import SurveyStore


async def main(dsn: str, ari_url: str, user: str, password: str, app: str, claim: int, dial: int) -> None:
    pool = await db.create_pool(dsn)
    store = SurveyStore(pool)
    ari = AriClient(ari_url, user, password, app)
    await ari.open()
    now = datetime.now(UTC)
    for i in range(claim):
        c = await store.claim(now, "doomed", ["ticket"], lease_s=2)
        assert c is not None, "nothing to claim"
        if i < dial:
            await ari.post("/channels", endpoint=f"Local/{c.phone}@outbound/n", app=app,
                           appArgs=f"survey,{c.job_id},{c.attempt}", channelId=c.channel_id, callerId="12345",
                           formats=TRUNK_FORMATS, timeout=20, idempotent=False)
            await store.dialled(c.channel_id, now)
    print("ready", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(main(a[0], a[1], a[2], a[3], a[4], int(a[5]), int(a[6])))
