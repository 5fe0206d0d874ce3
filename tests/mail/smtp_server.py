"""A real SMTP server on loopback for the tests: aiosmtpd with STARTTLS (or TLS from the
start) using a throwaway certificate, and AUTH with one user. Each server listens on a
port the system chooses, so tests running in parallel never meet."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "office@school.example"
PASSWORD = "app-password-1234"


@dataclass(frozen=True)
class Certificates:
    """A throwaway certificate authority (the file a client trusts) and a server key pair."""

    ca: Path
    cert: Path
    key: Path


def make_certificates(folder: Path, host: str = "localhost") -> Certificates:
    """A CA and a server certificate for ``host`` and 127.0.0.1, valid for a day."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Casebook test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@dataclass
class Received:
    """One message the server accepted."""

    sender: str
    recipients: list[str]
    content: bytes

    def parsed(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    # "" (accept), "drop-after-data" (take the message, hang up before answering),
    # "drop-before-data" (hang up at RCPT)
    behaviour: str = ""

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.behaviour == "drop-before-data":
            server.transport.close()
            return "421 closing"
        if address in self.refuse:
            return "550 5.1.1 Recipient address rejected: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if self.behaviour == "drop-after-data":
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), content))
            server.transport.abort()
            return "250 never said"
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), content))
        return f"250 2.0.0 Ok: queued as TEST{len(self.received):04d}"


def _authenticate(
    server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


class MailServer:
    """The server, on its own thread and event loop, until ``stop``."""

    def __init__(self, certificates: Certificates, *, implicit_tls: bool = False) -> None:
        self.certificates = certificates
        self.implicit_tls = implicit_tls
        self.handler = _Handler()
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(certificates.cert, certificates.key)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def _protocol(self) -> SMTP:
        return SMTP(
            self.handler,
            hostname="localhost",
            tls_context=None if self.implicit_tls else self.context,
            require_starttls=not self.implicit_tls,
            authenticator=_authenticate,
            auth_require_tls=not self.implicit_tls,
            loop=self.loop,
        )

    async def _serve(self) -> asyncio.base_events.Server:
        return await self.loop.create_server(
            self._protocol,
            "127.0.0.1",
            0,
            ssl=self.context if self.implicit_tls else None,
        )

    def start(self) -> MailServer:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _close(self, server: asyncio.base_events.Server) -> None:
        server.close()
        await server.wait_closed()

    def stop(self) -> None:
        if self.server is not None:
            # Closed on the server's own loop: closing it from this thread raced with the
            # loop dropping a connection (both woke the waiters; one found them gone).
            asyncio.run_coroutine_threadsafe(self._close(self.server), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class SilentServer:
    """Accepts connections and never says a word (a server that hangs)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(5)
        self.port = self.socket.getsockname()[1]

    def stop(self) -> None:
        self.socket.close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
