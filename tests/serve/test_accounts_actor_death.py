"""Quota accounting when the accounts actor dies mid-call (its process killed, its node lost): what a resent call
costs. `ActorRemote` sends the calls of a round trip cut by the actor's death once more, to a new actor made from
the accounts file (at least once). For the calls the proxy makes per request that means:

- `reserve`: held in the memory of the actor; a new actor forgets the old holds, so a resent reserve holds once.
- `settle` (and `record_usage`) of a trip the old actor had applied and written before it died: the new actor
  reads that usage from the file and, the reservation being unknown to it, charges the tokens again. The charge
  is counted twice: never lost, over by that one trip's tokens. A quota errs on the side of refusing, never on an
  upstream call the account cannot pay for. (Making it exactly once needs settled reservation ids kept with the
  accounts file; see issue 12, finding 3.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import pytest

from serve import Accounts
from serve._remote import named_actor

GROUP = "vllm"
TOKENS = 40


class AccountsThatDieAfterSettling(Accounts):
    """Accounts whose first settle is applied, written to the file, and then the process dies before answering
    (as it would when its node goes away between the write and the reply)."""

    def settle(self, reservation: str, api_key: str, model_group: str, tokens: int) -> None:
        super().settle(reservation, api_key, model_group, tokens)
        marker = self.path.with_name("died-once")
        if not marker.exists():
            marker.write_text("")
            os.kill(os.getpid(), signal.SIGKILL)


def _used(folder: Path, key: str) -> int:
    usage = Accounts(folder).get_account(key).usages[GROUP]["total"]
    return usage.used


@pytest.mark.usefixtures("ray_serve_port")  # the session's Ray
def test_a_settle_cut_by_the_accounts_actors_death_is_resent_and_counted_twice_never_lost(tmp_path: Path) -> None:
    admin = Accounts(tmp_path).ensure_admin()
    assert admin is not None
    key = Accounts(tmp_path).create_account(admin, quotas={GROUP: {"total": 1000}}).api_key
    assert key is not None
    remote = named_actor(f"test-accounts:{uuid.uuid4().hex[:8]}", AccountsThatDieAfterSettling, str(tmp_path))

    async def scenario() -> None:
        reservation = await remote.call(Accounts.reserve, key, GROUP, 100)
        assert reservation is not None
        first = remote.handle
        await remote.call(Accounts.settle, reservation, key, GROUP, TOKENS)  # applied, then the actor died; resent
        assert remote.handle is not first  # a new actor answered the resend, from the file
        # the new actor holds no reservation of the old one: the whole quota but the usage is free again
        again = await remote.call(Accounts.reserve, key, GROUP, 1000 - 2 * TOKENS)
        assert again is not None

    asyncio.run(scenario())
    assert (tmp_path / "died-once").exists()
    assert _used(tmp_path, key) == 2 * TOKENS  # the cut settle, counted by the old actor and by the resend
