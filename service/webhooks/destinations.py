"""Where a webhook may be sent. A URL names an https host on a public address; private,
loopback, link-local, multicast and reserved addresses are refused (the service must not be
a way into its own network), unless the operator lists the host in webhooks.allowed_hosts,
which also permits plain http. The addresses are checked when an endpoint is saved and again
at every connection, after resolving, so a name that later resolves inward is refused too."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_CHARS = 2000


class DestinationRefused(Exception):
    """A URL or address the service will not send to; the message says why."""


class AllowedHosts:
    """webhooks.allowed_hosts: host names, addresses and networks."""

    def __init__(self, entries: list[str]) -> None:
        self.names: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self.names.add(entry.lower().rstrip("."))

    def host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names or self._listed_address(host)

    def address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def _listed_address(self, host: str) -> bool:
        try:
            return self.address(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            return False


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, allowed: AllowedHosts, *, resolve_host: bool = True) -> str:
    """`url` if the service may send to it; DestinationRefused saying why not.
    `resolve_host` False checks the URL only, for a sender whose connection resolves and
    checks the addresses itself (GuardedBackend)."""
    if len(url) > MAX_URL_CHARS:
        raise DestinationRefused(f"the URL is longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(f"it is not a valid URL ({exc})") from None
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        raise DestinationRefused("it must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("it may not hold a user name or password")
    listed = allowed.host(host)
    if parts.scheme == "http" and not listed:
        raise DestinationRefused(
            f"it must use https ({host} is not in webhooks.allowed_hosts, which may use http)"
        )
    if resolve_host and not listed:
        resolve(host, port or (443 if parts.scheme == "https" else 80), allowed)
    return url


def resolve(host: str, port: int, allowed: AllowedHosts) -> list[str]:
    """The addresses of `host` the service may connect to: all of them must be allowed,
    so that a name with one inward address is refused whatever order DNS gives."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DestinationRefused(f"{host} does not resolve ({exc})") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if allowed.host(host):
        return [str(address) for address in addresses]
    refused = [a for a in addresses if not (_public(a) or allowed.address(a))]
    if refused:
        raise DestinationRefused(
            f"{host} resolves to {refused[0]}, a private, loopback, link-local or reserved "
            "address; an operator may list the host in webhooks.allowed_hosts"
        )
    return [str(address) for address in addresses]


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's sockets, connecting only to addresses `resolve` allows: the check happens
    on the connection itself, so DNS cannot change its answer between check and use."""

    def __init__(self, allowed: AllowedHosts) -> None:
        self.allowed = allowed

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in resolve(host, port, self.allowed):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address of {host} answered")
