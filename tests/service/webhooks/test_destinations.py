"""Which destinations a webhook may go to, checked on the URL and on each connection."""

from __future__ import annotations

import httpcore
import pytest

from service.webhooks.destinations import (
    AllowedHosts,
    DestinationRefused,
    GuardedBackend,
    check_url,
    resolve,
)

NONE = AllowedHosts([])


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",
        "https://127.0.0.1/hook",
        "https://127.1/hook",
        "https://2130706433/hook",  # 127.0.0.1 as one number
        "https://0x7f000001/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://224.0.0.1/hook",
        "http://example.com/hook",  # plain http to a host not listed
    ],
)
def test_refused_without_a_listing(url):
    with pytest.raises(DestinationRefused):
        check_url(url, NONE)


def test_listing_a_network_admits_its_addresses_and_http():
    allowed = AllowedHosts(["10.0.0.0/8", "hooks.internal"])
    assert check_url("http://10.2.3.4:8080/x", allowed)
    assert check_url("http://hooks.internal/x", allowed)
    with pytest.raises(DestinationRefused):
        check_url("https://11.0.0.0.1/x", allowed)


def test_the_connection_itself_is_refused_for_an_inward_address():
    # What a name that resolves inward after the URL was accepted meets: the backend
    # resolves again and refuses before any byte is sent.
    backend = GuardedBackend(NONE)
    with pytest.raises(DestinationRefused):
        backend.connect_tcp("localhost", 80, timeout=1)
    assert resolve("127.0.0.1", 80, AllowedHosts(["127.0.0.1"])) == ["127.0.0.1"]


def test_a_listed_address_connects():
    pool = httpcore.ConnectionPool(network_backend=GuardedBackend(AllowedHosts(["127.0.0.1"])))
    with pytest.raises(httpcore.ConnectError):
        pool.request("GET", "http://127.0.0.1:9/")  # allowed, and nothing listens there


def test_a_delivery_to_an_inward_address_is_refused_by_the_sender_and_says_why():
    from service.webhooks.sender import Sender

    answer = Sender(NONE, timeout_seconds=2).post("https://localhost:9/hook", b"{}", {})
    assert answer.status_code is None and not answer.delivered
    assert answer.error.startswith("refused: localhost resolves to 127.0.0.1")
