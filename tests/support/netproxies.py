"""What the connection-option tests put between a storage and the server, all on 127.0.0.1.

- :class:`ForwardProxy`: a small HTTP proxy that requires Basic proxy credentials. Plain-http
  requests (absolute-URI form) are forwarded and each is recorded; ``CONNECT host:port`` opens a
  tunnel (how https goes through a proxy), and each tunnel is recorded. Wrong or missing
  credentials are answered 407.
- :class:`TLSTerminator`: accepts TLS with a certificate of our own CA and pipes the plaintext to
  the (plain-http) S3 server, as a TLS load balancer would.
- :func:`make_ca`: a throw-away CA and a server certificate for 127.0.0.1 and localhost, written
  as PEM files (Python's ``cryptography``, which the venv already has).
- :class:`LoopbackResolver`: a urllib3 pool that connects every request to 127.0.0.1 and leaves
  the URL's host in the ``Host`` header; see its docstring.

Threads, not processes: ``stop()`` (or leaving the ``with`` block) closes every socket.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import http.client
import ipaddress
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import urllib3

LOOPBACK = "127.0.0.1"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "transfer-encoding"}


def pipe(a: socket.socket, b: socket.socket, idle: float = 30.0) -> None:
    """Copy bytes both ways until one side closes (or nothing moves for ``idle`` seconds)."""
    sockets = [a, b]
    with contextlib.suppress(OSError):
        while True:
            readable, _, _ = select.select(sockets, [], [], idle)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)


@dataclass(frozen=True)
class Seen:
    method: str
    target: str  # the absolute URL, or host:port for CONNECT
    authorized: bool


class ForwardProxy:
    """See the module docstring. ``seen`` lists every request in arrival order."""

    def __init__(self, user: str, password: str) -> None:
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.seen: list[Seen] = []
        self.auth_headers: list[str] = []  # what each request carried in Proxy-Authorization
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="forward-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def forwarded(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.method != "CONNECT" and seen.authorized]

    def tunnels(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.method == "CONNECT" and seen.authorized]

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()

    def _record(self, method: str, target: str, header: str | None) -> bool:
        with self._lock:
            self.auth_headers.append(header or "")
            ok = header == self.expected
            self.seen.append(Seen(method, target, ok))
            return ok

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._sockets.add(self.connection)  # stop() closes kept-alive connections too

            def refuse(self) -> None:
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="tests"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_CONNECT(self) -> None:
                if not proxy._record("CONNECT", self.path, self.headers.get("Proxy-Authorization")):
                    return self.refuse()
                host, port = self.path.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)), timeout=10)
                with proxy._lock:
                    proxy._sockets.update((upstream, self.connection))
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                pipe(self.connection, upstream)
                upstream.close()
                self.close_connection = True

            def forward(self) -> None:
                if not proxy._record(self.command, self.path, self.headers.get("Proxy-Authorization")):
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    return self.refuse()
                if self.headers.get("Transfer-Encoding"):
                    raise NotImplementedError("chunked request bodies")  # not sent by the package
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
                try:
                    path = url.path + (f"?{url.query}" if url.query else "")
                    upstream.request(self.command, path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                length = answer.getheader("Content-Length") if self.command == "HEAD" else len(data)
                self.send_header("Content-Length", str(length or 0))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

        return Handler


@dataclass(frozen=True)
class CA:
    ca_pem: Path  # what MINIO_CA_BUNDLE points at
    cert_pem: Path  # the server's certificate and key, for the terminator
    key_pem: Path


def make_ca(directory: Path) -> CA:
    """A CA and a certificate it signs for 127.0.0.1 and localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "django-minio-backend test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    usage = {k: False for k in ("content_commitment", "data_encipherment", "key_agreement")}
    usage.update(encipher_only=False, decipher_only=False)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, key_encipherment=False, key_cert_sign=True, crl_sign=True, **usage
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    found = CA(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    found.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return found


class TLSTerminator:
    """TLS on 127.0.0.1:<port> with ``ca``'s server certificate, plaintext on to ``upstream``."""

    def __init__(self, ca: CA, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(ca.cert_pem, ca.key_pem)
        self.handshakes_failed = 0
        self._listener = socket.create_server((LOOPBACK, 0))
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="tls-terminator", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self._listener.getsockname()[1]}"

    def __enter__(self) -> TLSTerminator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._sockets.add(client)
        try:
            tls = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            with self._lock:
                self.handshakes_failed += 1  # e.g. the client did not trust our CA
            client.close()
            return
        try:
            with socket.create_connection(self.upstream, timeout=10) as upstream:
                with self._lock:
                    self._sockets.update((tls, upstream))
                pipe(tls, upstream)
        except OSError:
            pass  # the server or the terminator went away: the client sees the connection close
        finally:
            tls.close()


class LoopbackResolver(urllib3.PoolManager):
    """A pool that connects every request to 127.0.0.1, whatever host its URL names.

    It does what a wildcard DNS record ``*.s3.test -> 127.0.0.1`` would do, without changing
    the machine's resolver: the URL's ``host:port`` stays in the ``Host`` header (minio and the
    package sign that header, and the server reads the bucket from it), only the TCP connection
    goes to loopback. ``hosts`` and ``paths`` record what each request asked for. Plain http only.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(retries=False, timeout=urllib3.Timeout(total=30), **kwargs)
        self.hosts: list[str] = []
        self.paths: list[str] = []

    def urlopen(self, method: str, url: str, redirect: bool = True, **kw):  # type: ignore[override]
        parsed = urllib3.util.parse_url(url)
        if parsed.scheme != "http":
            raise ValueError("LoopbackResolver speaks plain http only")
        self.hosts.append(parsed.netloc or "")
        self.paths.append(parsed.path or "/")
        headers = dict(kw.pop("headers", None) or {})
        if not any(key.lower() == "host" for key in headers):
            headers["Host"] = parsed.netloc
        return super().urlopen(
            method, parsed._replace(host=LOOPBACK).url, redirect=False, headers=headers, **kw
        )
