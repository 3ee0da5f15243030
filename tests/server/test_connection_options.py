"""The connection options on a real server (Ceph RGW), everything on 127.0.0.1.

- Addressing: path style on the suite's server, virtual-host style on a gateway of our own that
  knows its DNS name (see ``vhost_rgw``), with requests, presigned and public URLs.
- MINIO_CA_BUNDLE: TLS in front of the server with a certificate of a CA made for the test.
- MINIO_PROXY: a forwarding proxy that wants credentials, for plain http and for https (CONNECT).
"""

from __future__ import annotations

import base64
import logging
import os
import traceback
import uuid

import pytest
import urllib3
from django.core.files.base import ContentFile

from django_minio_backend.errors import StorageServerError
from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import _rgw, create_bucket
from django_minio_backend.testing._process import wait_until

from tests.support import PRIVATE, stored
from tests.support.netproxies import ForwardProxy, LoopbackResolver, TLSTerminator, make_ca

SECRET = "pr0xy-s3cret-never-shown"
DNS_NAME = "s3.test"  # .test is reserved (RFC 2606): it never resolves to anything real


def backend(server, bucket=PRIVATE, public=(), **options):
    private = [] if bucket in public else [bucket]
    raw = server.storage_options(
        MINIO_PRIVATE_BUCKETS=private,
        MINIO_PUBLIC_BUCKETS=list(public),
        MINIO_DEFAULT_BUCKET=bucket,
        **options,
    )
    return MinioBackend(bucket_name=bucket, **raw)


def never_shows(secret: str, *texts: str) -> None:
    token = base64.b64encode(f"tester:{secret}".encode()).decode()
    for text in texts:
        assert secret not in text and token not in text


# -- addressing style ------------------------------------------------------------------------------


def test_path_style_puts_the_bucket_in_the_path(s3_server, s3_buckets, name, http):
    resolver = LoopbackResolver()
    storage = backend(s3_server, MINIO_ADDRESSING_STYLE="path", MINIO_HTTP_CLIENT=resolver)
    saved = storage.save(f"{name}/a.txt", ContentFile(b"path style"))
    assert stored(storage, saved) == b"path style"
    assert http.request("GET", storage.url(saved)).data == b"path style"
    assert set(resolver.hosts) == {s3_server.endpoint}
    # the bucket is the path's first segment (a HEAD of the bucket itself where names are checked first)
    assert resolver.paths and all(path.split("/")[1] == PRIVATE for path in resolver.paths)
    assert storage.url(saved).startswith(f"http://{s3_server.endpoint}/{PRIVATE}/{name}/")


@pytest.fixture(scope="module")
def vhost_rgw():
    """A single-node RGW of our own with ``rgw dns name = s3.test``, so that it reads the bucket
    from the Host header (``<bucket>.s3.test``), as S3 does for virtual-host requests.

    The suite's shared gateway was started without a DNS name and RGW reads it only at start, so
    this module starts another (about 2 s) and stops it by pid. The name is added to the gateway
    section the harness writes; nothing else differs from the suite's server.
    """
    if not _rgw.available():
        if os.environ.get("S3_STRICT"):
            pytest.fail(f"Ceph RGW is not installed: missing {', '.join(_rgw.missing_binaries())}")
        pytest.skip("virtual-host style needs Ceph RGW (apt-get install radosgw ceph-mon ceph-osd)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_rgw, "GATEWAY", _rgw.GATEWAY + f"rgw dns name = {DNS_NAME}\n")
        running = _rgw.build(_rgw.SINGLE_NODE, "dmb-rgw-vhost-", "Ceph RGW (virtual host)", _rgw._single_node)
    try:
        yield running.server
    finally:
        running.stop()
    assert not running.alive()


def test_virtual_host_style_puts_the_bucket_in_the_host(vhost_rgw, name):
    """Save, read, a presigned URL and a public URL, all as ``<bucket>.s3.test:<port>``.

    Nothing resolves ``*.s3.test``, so the storage is given :class:`LoopbackResolver` as its pool:
    every request's TCP connection goes to 127.0.0.1, while its URL and its signed Host header keep
    ``<bucket>.s3.test:<port>`` — what a wildcard DNS record would give. RGW finds the bucket only
    in that Host header (the path holds just the key), and it checks the signature over it.
    """
    port = vhost_rgw.endpoint.rsplit(":", 1)[1]
    private, public = f"vh-{uuid.uuid4().hex[:8]}", f"vh-pub-{uuid.uuid4().hex[:8]}"
    admin = vhost_rgw.client()  # path style on 127.0.0.1, to make the buckets
    create_bucket(admin, private, public=False)
    create_bucket(admin, public, public=True)
    resolver = LoopbackResolver()
    options = {
        "MINIO_ENDPOINT": f"{DNS_NAME}:{port}",
        "MINIO_ADDRESSING_STYLE": "virtual",
        "MINIO_HTTP_CLIENT": resolver,
    }
    storage = backend(vhost_rgw, private, **options)
    saved = storage.save(f"{name}/v.txt", ContentFile(b"virtual host"))
    assert stored(storage, saved) == b"virtual host"
    assert storage.exists(saved)
    assert set(resolver.hosts) == {f"{private}.{DNS_NAME}:{port}"}
    assert not any(path.startswith(f"/{private}") for path in resolver.paths)
    assert f"/{saved}" in resolver.paths

    url = storage.url(saved)
    assert url.startswith(f"http://{private}.{DNS_NAME}:{port}/{name}/")
    assert resolver.request("GET", url).data == b"virtual host"  # anonymous, signed by the URL

    shared = backend(vhost_rgw, public, public=[public], **options)
    shared.save(f"{name}/p.txt", ContentFile(b"public"))
    public_url = shared.url(f"{name}/p.txt")
    assert public_url == f"http://{public}.{DNS_NAME}:{port}/{name}/p.txt"
    assert resolver.request("GET", public_url).data == b"public"
    # The control: the same path with the bare host names no bucket, so the Host header mattered.
    assert resolver.request("GET", public_url, headers={"Host": f"{DNS_NAME}:{port}"}).status != 200

    storage.delete(saved)
    assert not storage.exists(saved)


# -- MINIO_CA_BUNDLE -------------------------------------------------------------------------------


@pytest.fixture
def tls(s3_server, tmp_path):
    """TLS in front of the server on 127.0.0.1, with a certificate of a CA made for this test."""
    ca = make_ca(tmp_path)
    with TLSTerminator(ca, s3_server.endpoint) as terminator:
        yield terminator, ca


def test_a_ca_bundle_lets_https_work_and_without_it_the_save_fails_clearly(
    s3_server, s3_buckets, name, tls, monkeypatch
):
    terminator, ca = tls
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    https = {"MINIO_ENDPOINT": terminator.endpoint, "MINIO_USE_HTTPS": True}
    storage = backend(s3_server, **https, MINIO_CA_BUNDLE=str(ca.ca_pem))
    saved = storage.save(f"{name}/tls.txt", ContentFile(b"over tls"))
    assert stored(storage, saved) == b"over tls"
    url = storage.url(saved)
    assert url.startswith(f"https://{terminator.endpoint}/")
    browser = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=str(ca.ca_pem), retries=False)
    assert browser.request("GET", url).data == b"over tls"
    assert terminator.handshakes_failed == 0

    without = backend(s3_server, **https, MINIO_MAX_RETRIES=0)  # certifi's bundle: our CA is unknown
    with pytest.raises(StorageServerError) as raised:
        without.save(f"{name}/refused.txt", ContentFile(b"never stored"))
    message = str(raised.value)
    assert "certificate verify failed" in message and terminator.endpoint in message
    assert wait_until(lambda: terminator.handshakes_failed >= 1, 5.0)  # the client hung up in the handshake
    assert not storage.exists(f"{name}/refused.txt")


# -- MINIO_PROXY -----------------------------------------------------------------------------------


@pytest.fixture
def forward_proxy():
    with ForwardProxy("tester", SECRET) as proxy:
        yield proxy


def test_every_request_goes_through_the_proxy_with_its_credentials(
    s3_server, s3_buckets, name, forward_proxy
):
    proxy_url = forward_proxy.url.replace("http://", f"http://tester:{SECRET}@")
    storage = backend(s3_server, MINIO_PROXY=proxy_url)
    saved = storage.save(f"{name}/p.txt", ContentFile(b"proxied"))
    assert stored(storage, saved) == b"proxied"
    assert storage.exists(saved)
    storage.delete(saved)
    assert not storage.exists(saved)

    seen = forward_proxy.forwarded()
    assert seen == forward_proxy.seen  # every request carried the right credentials
    assert {urllib3.util.parse_url(s.target).netloc for s in seen} == {s3_server.endpoint}
    object_url = f"http://{s3_server.endpoint}/{PRIVATE}/{saved}"
    methods = [s.method for s in seen if s.target.split("?")[0] == object_url]
    assert "PUT" in methods and "GET" in methods and "DELETE" in methods
    assert methods.count("HEAD") >= 2  # the two exists()

    forward_proxy.stop()  # no proxy, no request: nothing went around it
    with pytest.raises(StorageServerError) as raised:
        storage.exists(saved)
    never_shows(SECRET, str(raised.value), repr(storage), repr(storage.options), repr(storage.deconstruct()))


def test_refused_proxy_credentials_are_never_shown(s3_server, s3_buckets, name, forward_proxy, caplog):
    wrong = "wr0ng-pa55word-never-shown"
    storage = backend(
        s3_server,
        MINIO_PROXY=forward_proxy.url.replace("http://", f"http://tester:{wrong}@"),
        MINIO_MAX_RETRIES=0,
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StorageServerError) as raised:
        storage.save(f"{name}/refused.txt", ContentFile(b"x"))
    assert forward_proxy.seen and not any(s.authorized for s in forward_proxy.seen)
    sent = base64.b64encode(f"tester:{wrong}".encode()).decode()
    assert forward_proxy.auth_headers[0] == f"Basic {sent}"  # sent to the proxy, and only there
    shown = "".join(traceback.format_exception(raised.value))
    never_shows(wrong, shown, caplog.text, repr(storage), repr(storage.options))


def test_https_goes_through_a_connect_tunnel(s3_server, s3_buckets, name, forward_proxy, tls, monkeypatch):
    terminator, ca = tls
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    storage = backend(
        s3_server,
        MINIO_ENDPOINT=terminator.endpoint,
        MINIO_USE_HTTPS=True,
        MINIO_CA_BUNDLE=str(ca.ca_pem),
        MINIO_PROXY=forward_proxy.url.replace("http://", f"http://tester:{SECRET}@"),
    )
    saved = storage.save(f"{name}/t.txt", ContentFile(b"tunnelled"))
    assert stored(storage, saved) == b"tunnelled"
    tunnels = forward_proxy.tunnels()
    assert tunnels and {t.target for t in tunnels} == {terminator.endpoint}
    assert forward_proxy.forwarded() == []  # nothing in clear through the proxy
    assert tunnels == forward_proxy.seen  # and every tunnel had the credentials
