"""Sending one signed request to a subscriber, and refusing addresses that would reach inside.

A webhook URL is typed by a person and the platform posts to it: without care it is a way to make the
server call its own network (SSRF). Only ``https`` is accepted; the host is resolved once and every
address it resolves to must be public (not private, loopback, link-local, reserved or multicast); the
connection is then made to that checked address (a second resolution could answer otherwise), and a
redirect is never followed. ``WEBHOOKS_ALLOW_LOOPBACK`` (tests, a receiver on the same machine) also
allows ``http`` and loopback addresses.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

TIMEOUT = 10
USER_AGENT = "GovQMS-Webhooks/1"
#: How much of a receiver's answer the log keeps
EXCERPT = 500


class UnsafeAddress(ValueError):
    """The URL may not be called: ``str()`` says why, in the user's language."""


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under *secret*."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _loopback_allowed() -> bool:
    return bool(current_app.config.get("WEBHOOKS_ALLOW_LOOPBACK"))


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
                or address.is_multicast or address.is_unspecified)


def _allowed(address, loopback: bool) -> bool:
    return _public(address) or (loopback and address.is_loopback)


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of a URL the platform may post to, judged without the
    network: the scheme, and a host written as an address. Raises :class:`UnsafeAddress`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeAddress(_l("Enter a valid address.")) from error
    host = (parts.hostname or "").rstrip(".").lower()
    loopback = _loopback_allowed()
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeAddress(_l("Enter an https:// address."))
    if parts.username or parts.password:
        raise UnsafeAddress(_l("The address may not carry a user name or password."))
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    is_loopback = (literal is not None and literal.is_loopback) or host == "localhost"
    if parts.scheme == "http" and not (loopback and is_loopback):
        raise UnsafeAddress(_l("Enter an https:// address."))
    if (literal is not None and not _allowed(literal, loopback)) or (host == "localhost" and not loopback):
        raise UnsafeAddress(_l("This address is not on the public internet."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def resolve(host: str, port: int) -> str:
    """The address to connect to: the host's first address, if every address it resolves to is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeAddress(_l("The host name could not be resolved.")) from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    loopback = _loopback_allowed()
    if not addresses or not all(_allowed(a, loopback) for a in addresses):
        raise UnsafeAddress(_l("This address is not on the public internet."))
    return str(addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate checked for the host name."""

    def __init__(self, host: str, port: int, address: str, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


@dataclass(frozen=True)
class Answer:
    status: int | None
    #: the start of the answer's body, or what went wrong
    excerpt: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST *body* to *url* once (no redirect followed). Raises :class:`UnsafeAddress` before any
    connection when the address may not be called; a network error is an :class:`Answer` without status."""
    scheme, host, port, path = check_url(url)
    address = resolve(host, port)
    connection_class = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = connection_class(host, port, address, timeout=TIMEOUT)
    try:
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        excerpt = response.read(EXCERPT).decode("utf-8", "replace")
        return Answer(response.status, excerpt)
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, f"{type(error).__name__}: {error}"[:EXCERPT])
    finally:
        connection.close()
