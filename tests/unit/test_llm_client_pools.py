"""ClientPools: light traffic reuses one SDK client's connections; heavy traffic spreads
over small pools (domain/llm/remote.py)."""
from __future__ import annotations

from contextlib import ExitStack
from types import SimpleNamespace

import httpx2

from domain.llm.remote import ClientPools


def pools(keepalive_connections: int) -> tuple[ClientPools, list[int]]:
    made_limits: list[int] = []

    def http_client(limits: httpx2.Limits) -> SimpleNamespace:
        made_limits.append(limits.max_keepalive_connections)
        return SimpleNamespace(limits=limits)

    sdk = SimpleNamespace(DefaultHttpxClient=http_client)
    return ClientPools(lambda http: SimpleNamespace(http=http), sdk, keepalive_connections=keepalive_connections), \
        made_limits


def test_the_kept_alive_connections_are_shared_by_clients_of_25():
    _, limits = pools(300)
    assert limits == [25] * 12
    _, limits = pools(10)
    assert limits == [10]


def test_one_request_at_a_time_always_gets_the_first_client():
    clients, _ = pools(300)
    seen = set()
    for _ in range(10):
        with clients.lease() as client:
            seen.add(id(client))
    assert len(seen) == 1


def test_past_25_requests_in_flight_the_next_client_takes_them_and_a_finished_one_frees_its_place():
    clients, _ = pools(100)
    with ExitStack() as held:
        first = [held.enter_context(clients.lease()) for _ in range(25)]
        assert len({id(c) for c in first}) == 1
        second = held.enter_context(clients.lease())
        assert second is not first[0]
    with clients.lease() as again:  # all given back: the first client again
        assert again is first[0]


def test_when_every_client_is_full_the_least_busy_one_is_taken():
    clients, _ = pools(50)  # two clients of 25
    with ExitStack() as held:
        leased = [held.enter_context(clients.lease()) for _ in range(52)]
    assert sum(c is leased[0] for c in leased) == 26
    assert sum(c is not leased[0] for c in leased) == 26
