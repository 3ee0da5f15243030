"""The connection to one S3 endpoint: the urllib3 pool, the minio clients and the retry policy.

A :class:`Connection` builds its pool and both minio clients (one for I/O on MINIO_ENDPOINT, one
that only signs URLs for MINIO_EXTERNAL_ENDPOINT) on first use, once, under a lock. It pickles
and deep-copies without them and rebuilds them when next used. Because the region is always
known, signing never asks the server for a bucket's location: building a URL makes no request.

Both clients and our own requests send through one :class:`events.ObservedPool` around the
pool, the place where each request emits its event (see ``events.py``).

One :class:`RetryPolicy` serves every request: urllib3 applies it to minio's requests (through
the pool) and ``request.send`` applies it to the requests this package signs itself.

MINIO_ADDRESSING_STYLE is applied in three places, so that every URL agrees: to both minio
clients (requests and presigned URLs), to the ``BaseURL`` of our own signed requests, and to the
plain URLs of :func:`plain_url` (public objects, the bucket URL of direct uploads). MINIO_CA_BUNDLE
and MINIO_PROXY shape the default pool only; a MINIO_HTTP_CLIENT is used as given.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import certifi
import urllib3
from minio import Minio
from minio.helpers import BaseURL
from minio.sse import SseCustomerKey

from ..conf.network import ca_bundle_problem
from ..conf.options import StorageOptions
from ..conf.validators import import_dotted
from ..errors import ConfigurationError
from . import credentials, encryption, events

POOL_SIZE = 16


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on connection errors and 5xx/SlowDown answers, with exponential back-off."""

    retries: int
    statuses: frozenset[int] = frozenset({500, 502, 503, 504})  # 503 is also how S3 says SlowDown
    backoff: float = 0.2  # seconds, doubled per attempt

    @classmethod
    def of(cls, options: StorageOptions) -> RetryPolicy:
        return cls(retries=options.max_retries)

    @property
    def attempts(self) -> int:
        return 1 + self.retries

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return self.backoff * 2 ** (attempt - 1)

    def for_urllib3(self) -> urllib3.Retry:
        return urllib3.Retry(
            total=self.retries,
            connect=self.retries,
            read=0,  # a response cut midway must surface, not be silently re-read
            status=self.retries,
            backoff_factor=self.backoff,
            status_forcelist=sorted(self.statuses),
            raise_on_status=False,  # hand the final error response to minio, which names the S3 code
            respect_retry_after_header=True,
        )


def ca_certs(options: StorageOptions) -> str:
    """The CA bundle https certificates are checked against: MINIO_CA_BUNDLE, SSL_CERT_FILE, certifi."""
    if options.ca_bundle is not None:
        problem = ca_bundle_problem(options.ca_bundle)
        if problem:
            raise ConfigurationError(f"{problem} Give the path of a PEM file of CA certificates.")
        return options.ca_bundle
    return os.environ.get("SSL_CERT_FILE") or certifi.where()


def build_http_client(
    options: StorageOptions,
    *,
    timeout: urllib3.Timeout | None = None,
    retries: bool = True,
    maxsize: int = POOL_SIZE,
) -> urllib3.PoolManager:
    """The default pool: bounded timeouts, the retry policy, the CA bundle, MINIO_PROXY if set.

    ``timeout`` and ``retries=False`` give the short, single-try pools of the health probe and
    the start-up check. With a proxy it is a ``urllib3.ProxyManager``: plain-http requests are
    forwarded, https ones tunnelled (CONNECT); the proxy's credentials travel only in the
    Proxy-Authorization header, never in a URL that an error or a log line could show.
    """
    kwargs: dict[str, Any] = {
        "timeout": timeout or urllib3.Timeout(connect=options.connect_timeout, read=options.read_timeout),
        "maxsize": maxsize,
        "retries": RetryPolicy.of(options).for_urllib3() if retries else False,
        "cert_reqs": "CERT_REQUIRED",
        "ca_certs": ca_certs(options),
    }
    proxy = options.proxy
    if proxy is None:
        return urllib3.PoolManager(**kwargs)
    headers = urllib3.make_headers(proxy_basic_auth=proxy.auth) if proxy.auth else None
    return urllib3.ProxyManager(proxy.url, proxy_headers=headers, **kwargs)


def default_http_client(options: StorageOptions) -> urllib3.PoolManager:
    """MINIO_HTTP_CLIENT when the user gave one, else a new default pool."""
    return options.http_client or build_http_client(options)


def request_hook(options: StorageOptions) -> Any:
    """MINIO_REQUEST_HOOK as a callable (a dotted path is imported here, on first use), or None."""
    hook = options.request_hook
    return import_dotted("MINIO_REQUEST_HOOK", hook) if isinstance(hook, str) else hook


def observed_pool(options: StorageOptions, pool: Any, *, external: bool = False) -> events.ObservedPool:
    """``pool`` wrapped so that each request emits its event (events.py)."""
    return events.observed(
        pool, endpoint=endpoint_url(options, external=external), hook=request_hook(options)
    )


def require_connection_settings(options: StorageOptions) -> None:
    """ConfigurationError naming what is missing to connect (endpoint, keys)."""
    required = [("MINIO_ENDPOINT", options.endpoint)]
    if options.credentials_provider is None:  # else the provider brings the keys
        required += [("MINIO_ACCESS_KEY", options.access_key), ("MINIO_SECRET_KEY", options.secret_key)]
    missing = [key for key, value in required if not value]
    if missing:
        alternative = " (or set MINIO_CREDENTIALS_PROVIDER)" if missing != ["MINIO_ENDPOINT"] else ""
        raise ConfigurationError(
            f"{', '.join(missing)} not set. Add them to this storage's STORAGES[...]['OPTIONS']{alternative}."
        )


def build_client(
    options: StorageOptions, http_client: urllib3.PoolManager, *, external: bool = False
) -> Minio:
    """A minio client for the internal endpoint, or for the external one when ``external``."""
    require_connection_settings(options)
    client = Minio(
        endpoint=options.external_endpoint if external else options.endpoint,
        credentials=credentials.provider_for(options),  # asked before every request
        secure=options.external_use_https if external else options.use_https,
        region=options.region,
        http_client=observed_pool(options, http_client, external=external),  # type: ignore[arg-type]
    )
    if options.addressing_style == "virtual":
        client.enable_virtual_style_endpoint()
    elif options.addressing_style == "path":
        client.disable_virtual_style_endpoint()
    return client


def base_url(options: StorageOptions) -> BaseURL:
    """minio's URL builder for MINIO_ENDPOINT, in the style MINIO_ADDRESSING_STYLE chooses."""
    url = BaseURL(endpoint_url(options), options.region)
    if options.addressing_style != "auto":
        url.virtual_style_flag = options.addressing_style == "virtual"
    return url


def endpoint_url(options: StorageOptions, *, external: bool = False) -> str:
    """``scheme://host[:port]`` of the internal or external endpoint."""
    secure = options.external_use_https if external else options.use_https
    host = options.external_endpoint if external else options.endpoint
    return f"{'https' if secure else 'http'}://{host}"


def plain_url(options: StorageOptions, bucket: str, quoted_key: str = "") -> str:
    """The unsigned URL of ``bucket`` (with a trailing ``/``) or of a key in it, on the external
    endpoint: ``bucket.host/key`` for MINIO_ADDRESSING_STYLE = "virtual", else ``host/bucket/key``
    ("auto" keeps the 4.x path-style public URLs). Like minio, a bucket with dots stays in the
    path over https, where ``a.b.host`` would match no certificate."""
    scheme, host = endpoint_url(options, external=True).split("://", 1)
    if options.addressing_style == "virtual" and not ("." in bucket and scheme == "https"):
        return f"{scheme}://{bucket}.{host}/{quoted_key}"
    return f"{scheme}://{host}/{bucket}/{quoted_key}"


class Connection:
    """The pool and clients of one storage's endpoint, built on first use (see the module docstring)."""

    def __init__(
        self,
        options: StorageOptions,
        *,
        http_client: urllib3.PoolManager | None = None,
        customer_key: SseCustomerKey | None = None,
    ) -> None:
        self.options = options
        self.endpoint = endpoint_url(options)  # ``scheme://host[:port]`` of MINIO_ENDPOINT
        self.retry = RetryPolicy.of(options)
        self._given_http = http_client
        self._customer_key = customer_key
        self._lock = threading.Lock()
        self._http: events.ObservedPool | None = None
        self._client: Minio | None = None
        self._client_external: Minio | None = None
        self._base_url: BaseURL | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock")
        state.update(_http=None, _client=None, _client_external=None, _base_url=None)
        state["_given_http"] = None  # a pool cannot leave its process; the default one is built
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict) -> Connection:
        return Connection(self.options, http_client=self._given_http, customer_key=self._customer_key)

    def _build(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            http = observed_pool(self.options, self._given_http or default_http_client(self.options))
            client = build_client(self.options, http)
            external = client if self.same_endpoints else build_client(self.options, http, external=True)
            self._http, self._client_external = http, external
            self._client = client  # last: it is what the properties test

    @property
    def http(self) -> events.ObservedPool:
        if self._client is None:
            self._build()
        return self._http  # type: ignore[return-value]

    @property
    def client(self) -> Minio:
        """The minio client for I/O on MINIO_ENDPOINT."""
        if self._client is None:
            self._build()
        return self._client  # type: ignore[return-value]

    @property
    def client_external(self) -> Minio:
        """The minio client that signs URLs for MINIO_EXTERNAL_ENDPOINT. It makes no requests."""
        if self._client is None:
            self._build()
        return self._client_external  # type: ignore[return-value]

    @property
    def base_url(self) -> BaseURL:
        """minio's URL builder for MINIO_ENDPOINT (addressing style, key encoding, query)."""
        if self._base_url is None:
            self._base_url = base_url(self.options)
        return self._base_url

    @property
    def same_endpoints(self) -> bool:
        options = self.options
        return (options.endpoint, options.use_https) == (
            options.external_endpoint,
            options.external_use_https,
        )

    @property
    def customer_key(self) -> SseCustomerKey | None:
        """The SSE-C key every write, read, stat and copy must carry (None without SSE-C)."""
        return self._customer_key or encryption.customer_key(self.options)
