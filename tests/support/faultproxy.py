"""A fault-injecting TCP proxy for tests: loopback only, bounded, stoppable.

It sits between a storage and the real S3 server and forwards bytes both ways. It reads just
enough HTTP/1.1 on the request side (request line, headers, Content-Length body) to apply a fault
to chosen requests:

- ``refuse``: stop listening, so connections are refused;
- ``blackhole``: swallow the request and never answer;
- ``delay``: hold the response for ``seconds``;
- ``cut_response``: forward ``after`` bytes of the response, then drop the connection;
- ``stall_response``: forward ``after`` bytes of the response, then send nothing more;
- ``cut_request``: forward ``after`` bytes of the request body, then drop the connection;
- ``status``: answer ``status`` (500, 503...) with an S3 error body, without asking the server;
- ``status_after``: forward the request, let the server answer, then drop that answer and send
  ``status`` instead (a gateway failing after the server committed the request);
- ``strip_header``: forward the request without the header named ``header`` (a gateway that drops it);
- ``flip_request``: forward the request with byte ``after`` of its body inverted (a corrupted upload);
- ``flip_response``: forward the answer with byte ``after`` of its body inverted (a corrupted download;
  the byte must be in the answer's first 64 KiB).

A fault applies to requests for which ``match(method, target)`` is true, ``times`` times (None:
until cleared). The proxy also counts connections, including the most open at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"
MAX_CONNECTIONS = 256
MAX_HEAD_BYTES = 64 * 1024
MAX_FLIPPED_BODY = 64 * 1024 * 1024
CHUNK = 64 * 1024
S3_CODES = {500: "InternalError", 502: "BadGateway", 503: "SlowDown", 504: "GatewayTimeout"}


@dataclass
class Fault:
    kind: str
    match: Callable[[str, str], bool] | None = None
    times: int | None = None
    seconds: float = 0.0
    after: int = 0
    status: int = 503
    header: str = ""


class _Connection:
    def __init__(self, proxy: FaultProxy, client: socket.socket) -> None:
        self.proxy, self.client = proxy, client
        self.upstream: socket.socket | None = None
        self.response_fault: Fault | None = None
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        if host not in (LOOPBACK, "localhost"):
            raise ValueError("FaultProxy only forwards to loopback servers")
        self.upstream = (LOOPBACK, int(port))
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._fault: Fault | None = None
        self._connections: set[_Connection] = set()
        self._threads: list[threading.Thread] = []
        self.requests: list[tuple[str, str]] = []
        self.faulted: list[tuple[str, str, str]] = []
        self.connections_total = 0
        self.peak_connections = 0
        self._held: socket.socket | None = None
        self._refusing = False
        self._swapped = threading.Event()
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self._accepting = threading.Thread(target=self._accept_loop, daemon=True)
        self._accepting.start()

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    # -- control ------------------------------------------------------------------------------

    def set(self, kind: str | None, **fields) -> None:
        """Apply fault ``kind`` (see the module doc) from now on; None clears it."""
        with self._lock:
            self._fault = Fault(kind, **fields) if kind and kind != "refuse" else None
            self._refusing = kind == "refuse"
            self._swapped.clear()
        self.drop_connections()
        self._swapped.wait(5)

    def clear(self) -> None:
        self.set(None)

    def drop_connections(self) -> None:
        """Close every open connection, so the next request opens a new one."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            for sock in (self._listener, self._held):
                if sock is not None:
                    sock.close()
            self._listener = self._held = None
        self.drop_connections()
        for thread in [self._accepting, *self._threads]:
            thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- plumbing -----------------------------------------------------------------------------

    @staticmethod
    def _bind(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        sock.settimeout(0.1)
        return sock

    @classmethod
    def _listen(cls, port: int) -> socket.socket:
        listener = cls._bind(port)
        listener.listen(64)
        return listener

    def _swap_listener(self) -> None:
        """Runs on the accept thread, so no accept() is in flight on a socket being closed."""
        with self._lock:
            if self._refusing and self._listener is not None:
                # A bound socket that does not listen keeps the port and refuses connections.
                self._listener.close()
                self._held, self._listener = self._bind(self.port), None
            elif not self._refusing and self._listener is None and self._held is not None:
                self._held.listen(64)
                self._listener, self._held = self._held, None
            self._swapped.set()
            return self._listener

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            listener = self._swap_listener()
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                if len(self._connections) >= MAX_CONNECTIONS:
                    client.close()
                    continue
                connection = _Connection(self, client)
                self._connections.add(connection)
                self.connections_total += 1
                self.peak_connections = max(self.peak_connections, len(self._connections))
            self._spawn(self._serve, connection)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            self.requests.append((method, target))
            fault = self._fault
            if fault is None or (fault.match and not fault.match(method, target)):
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._fault = None
            self.faulted.append((fault.kind, method, target))
            return fault

    def _serve(self, connection: _Connection) -> None:
        try:
            connection.client.settimeout(None)
            connection.upstream = socket.create_connection(self.upstream, timeout=5)
            connection.upstream.settimeout(None)
            self._spawn(self._pump_responses, connection)
            buffer = b""
            while not connection.closed.is_set():
                head, buffer = _read_head(connection.client, buffer)
                if head is None:
                    break
                method, target, length = _parse_head(head)
                fault = self._take_fault(method, target)
                body_bytes, buffer = buffer[:length], buffer[length:]
                if fault is not None and fault.kind == "strip_header":
                    head, fault = _strip_header(head, fault.header), None
                if fault is not None and fault.kind == "flip_request":
                    body = body_bytes + _receive(connection.client, length - len(body_bytes))
                    connection.upstream.sendall(head + _flipped(body, fault.after))
                    continue
                responding = ("delay", "cut_response", "stall_response", "status_after", "flip_response")
                if fault is None or fault.kind in responding:
                    connection.response_fault = fault
                    connection.upstream.sendall(head + body_bytes)
                    _copy(connection.client, connection.upstream, length - len(body_bytes))
                elif fault.kind == "cut_request":
                    connection.upstream.sendall(head + body_bytes[: fault.after])
                    missing = max(0, fault.after - len(body_bytes))
                    _copy(connection.client, connection.upstream, min(missing, length - len(body_bytes)))
                    break
                elif fault.kind == "status":
                    _discard(connection.client, length - len(body_bytes))
                    connection.client.sendall(_error_response(fault.status, method))
                    break
                elif fault.kind == "blackhole":
                    connection.closed.wait()
                    break
                else:
                    raise ValueError(f"unknown fault {fault.kind!r}")
        except OSError:
            pass
        finally:
            connection.close()
            with self._lock:
                self._connections.discard(connection)

    def _pump_responses(self, connection: _Connection) -> None:
        sent = 0
        flip: list | None = None
        try:
            while not connection.closed.is_set():
                data = connection.upstream.recv(CHUNK)
                if not data:
                    break
                fault, connection.response_fault = connection.response_fault, None
                if fault is not None and fault.kind == "delay":
                    connection.closed.wait(fault.seconds)
                if fault is not None and fault.kind == "cut_response":
                    connection.client.sendall(data[: fault.after])
                    break
                if fault is not None and fault.kind == "status_after":
                    connection.client.sendall(_error_response(fault.status, "PUT"))
                    break
                if fault is not None and fault.kind == "flip_response":
                    flip = [fault.after, False]  # body bytes still to pass; headers passed
                if flip is not None:
                    data, flip = _flip_on_the_way(data, flip)
                if fault is not None and fault.kind == "stall_response":
                    connection.client.sendall(data[: fault.after])
                    connection.closed.wait()
                    break
                connection.client.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            connection.close()


def _read_head(sock: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_HEAD_BYTES:
            return None, b""
        data = sock.recv(CHUNK)
        if not data:
            return None, b""
        buffer += data
    end = buffer.index(b"\r\n\r\n") + 4
    return buffer[:end], buffer[end:]


def _parse_head(head: bytes) -> tuple[str, str, int]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-length":
            length = int(value.strip())
        if key.strip().lower() == "transfer-encoding":
            raise OSError("chunked requests are not supported by FaultProxy")
    return method, target, length


def _strip_header(head: bytes, header: str) -> bytes:
    lines = head.split(b"\r\n")
    prefix = header.lower().encode("latin-1") + b":"
    return b"\r\n".join(line for line in lines if not line.lower().startswith(prefix))


def _copy(source: socket.socket, sink: socket.socket, length: int) -> None:
    while length > 0:
        data = source.recv(min(CHUNK, length))
        if not data:
            raise OSError("client closed mid-body")
        sink.sendall(data)
        length -= len(data)


def _receive(source: socket.socket, length: int) -> bytes:
    if length > MAX_FLIPPED_BODY:
        raise OSError("body too large for flip_request")
    data = bytearray()
    while len(data) < length:
        chunk = source.recv(min(CHUNK, length - len(data)))
        if not chunk:
            raise OSError("client closed mid-body")
        data += chunk
    return bytes(data)


def _flip_on_the_way(data: bytes, flip: list) -> tuple[bytes, list | None]:
    """Invert body byte ``flip[0]`` of an answer that arrives in chunks; (chunk, what is left to do)."""
    start = 0
    if not flip[1]:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return data, flip
        start, flip[1] = end + 4, True
    at = start + flip[0]
    if at < len(data):
        return _flipped(data, at), None
    flip[0] -= len(data) - start
    return data, flip


def _flipped(data: bytes, at: int) -> bytes:
    """``data`` with the byte at ``at`` inverted (unchanged when ``at`` is past its end)."""
    if at >= len(data):
        return data
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def _discard(source: socket.socket, length: int) -> None:
    while length > 0:
        data = source.recv(min(CHUNK, length))
        if not data:
            return
        length -= len(data)


def _error_response(status: int, method: str) -> bytes:
    code = S3_CODES.get(status, "InternalError")
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected by FaultProxy</Message></Error>'.encode()
    head = (
        f"HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head if method == "HEAD" else head + body
