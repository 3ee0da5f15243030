"""MINIO_ADDRESSING_STYLE, MINIO_CA_BUNDLE and MINIO_PROXY without a server: parsing, the pool and
clients they build, the URLs they give, and their system checks (E050, E051, W050).

Presigning makes no request (the region is known), so the URLs here are what a browser would get.
"""

from __future__ import annotations

import base64
import os
import pickle
from datetime import timedelta
from urllib.parse import urlsplit

import certifi
import pytest
import urllib3
from django.core.checks import run_checks

from django_minio_backend.conf.options import parse_options
from django_minio_backend.conf.validators import ProxyURL
from django_minio_backend.core.connection import base_url, build_client, build_http_client, plain_url
from django_minio_backend.errors import ConfigurationError
from django_minio_backend.models import MinioBackend

MEDIA = "django_minio_backend.models.MinioBackend"
SECRET = "pr0xy-s3cret"  # must never be shown
BASE = {
    "MINIO_ENDPOINT": "s3.example.test:9000",
    "MINIO_ACCESS_KEY": "access",
    "MINIO_SECRET_KEY": "secret",
    "MINIO_PRIVATE_BUCKETS": ["c-private"],
    "MINIO_DEFAULT_BUCKET": "c-private",
}


def options(**more):
    return parse_options({**BASE, **more})


def presigned_host_and_path(opts, bucket="c-private", key="a/b.txt"):
    client = build_client(opts, urllib3.PoolManager(), external=True)
    url = client.presigned_get_object(bucket_name=bucket, object_name=key, expires=timedelta(minutes=5))
    parts = urlsplit(url)
    return parts.netloc, parts.path


def token(auth: str) -> str:
    return base64.b64encode(auth.encode()).decode()


# -- MINIO_ADDRESSING_STYLE ------------------------------------------------------------------------


def test_addressing_style_defaults_to_auto_and_refuses_other_words():
    assert options().addressing_style == "auto"
    with pytest.raises(ConfigurationError, match=r"MINIO_ADDRESSING_STYLE: 'host' is not one of auto"):
        options(MINIO_ADDRESSING_STYLE="host")


@pytest.mark.parametrize(
    ("endpoint", "style", "expected"),
    [
        ("s3.example.test:9000", "auto", ("s3.example.test:9000", "/c-private/a/b.txt")),
        ("s3.example.test:9000", "path", ("s3.example.test:9000", "/c-private/a/b.txt")),
        ("s3.example.test:9000", "virtual", ("c-private.s3.example.test:9000", "/a/b.txt")),
        ("s3.amazonaws.com", "auto", ("c-private.s3.us-east-1.amazonaws.com", "/a/b.txt")),
        ("s3.amazonaws.com", "path", ("s3.us-east-1.amazonaws.com", "/c-private/a/b.txt")),
    ],
)
def test_presigned_urls_follow_the_style(endpoint, style, expected):
    opts = options(MINIO_ENDPOINT=endpoint, MINIO_USE_HTTPS=True, MINIO_ADDRESSING_STYLE=style)
    assert presigned_host_and_path(opts) == expected


def test_the_external_client_follows_the_style_too():
    opts = options(
        MINIO_EXTERNAL_ENDPOINT="files.example.test",
        MINIO_EXTERNAL_ENDPOINT_USE_HTTPS=True,
        MINIO_ADDRESSING_STYLE="virtual",
    )
    storage = MinioBackend(
        bucket_name="c-private", **{**BASE, "MINIO_EXTERNAL_ENDPOINT": "files.example.test"}
    )
    assert urlsplit(storage.url("x")).netloc == "files.example.test"  # auto: path style
    assert presigned_host_and_path(opts) == ("c-private.files.example.test", "/a/b.txt")


@pytest.mark.parametrize(
    ("style", "netloc", "path"),
    [
        ("auto", "s3.example.test:9000", "/c-private/k%20y"),
        ("path", "s3.example.test:9000", "/c-private/k%20y"),
        ("virtual", "c-private.s3.example.test:9000", "/k%20y"),
    ],
)
def test_our_own_signed_requests_build_their_url_in_the_style(style, netloc, path):
    url = base_url(options(MINIO_ADDRESSING_STYLE=style)).build(
        method="PUT", region="us-east-1", bucket_name="c-private", object_name="k y"
    )
    assert (url.netloc, url.path) == (netloc, path)


@pytest.mark.parametrize(
    ("style", "https", "bucket", "expected"),
    [
        ("auto", False, "c-public", "http://s3.example.test:9000/c-public/k"),
        ("path", False, "c-public", "http://s3.example.test:9000/c-public/k"),
        ("virtual", False, "c-public", "http://c-public.s3.example.test:9000/k"),
        ("virtual", False, "c.public", "http://c.public.s3.example.test:9000/k"),
        ("virtual", True, "c.public", "https://s3.example.test:9000/c.public/k"),  # as minio does
    ],
)
def test_public_urls_follow_the_style(style, https, bucket, expected):
    opts = options(MINIO_ADDRESSING_STYLE=style, MINIO_USE_HTTPS=https)
    assert plain_url(opts, bucket, "k") == expected
    assert plain_url(opts, bucket) == expected[: -len("k")]


def test_a_public_storage_hands_out_virtual_host_urls():
    storage = MinioBackend(
        bucket_name="c-public", **BASE, MINIO_PUBLIC_BUCKETS=["c-public"], MINIO_ADDRESSING_STYLE="virtual"
    )
    assert storage.url("dir/f.txt") == "http://c-public.s3.example.test:9000/dir/f.txt"


# -- MINIO_CA_BUNDLE -------------------------------------------------------------------------------


def test_the_ca_bundle_is_the_pools_ca_file(tmp_path, monkeypatch):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read at parse time")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert build_http_client(options()).connection_pool_kw["ca_certs"] == certifi.where()
    monkeypatch.setenv("SSL_CERT_FILE", "/from/env.pem")
    assert build_http_client(options()).connection_pool_kw["ca_certs"] == "/from/env.pem"
    pool = build_http_client(options(MINIO_CA_BUNDLE=bundle))  # a Path is accepted
    assert pool.connection_pool_kw["ca_certs"] == str(bundle)
    assert pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"


def test_a_missing_ca_bundle_is_refused_when_the_pool_is_built(tmp_path):
    opts = options(MINIO_CA_BUNDLE=str(tmp_path / "nowhere.pem"))  # parsing does no I/O
    with pytest.raises(ConfigurationError, match=r"MINIO_CA_BUNDLE '.*nowhere.pem' does not exist"):
        build_http_client(opts)


def test_the_ca_bundle_must_be_a_path():
    with pytest.raises(ConfigurationError, match="MINIO_CA_BUNDLE: expected the path of a PEM file"):
        options(MINIO_CA_BUNDLE=42)


# -- MINIO_PROXY -----------------------------------------------------------------------------------


def test_a_proxy_url_is_split_into_url_and_credentials():
    proxy = options(MINIO_PROXY=f"http://us%40er:{SECRET}@proxy.example.test:3128").proxy
    assert proxy == ProxyURL("http://proxy.example.test:3128", f"us@er:{SECRET}")
    assert SECRET not in repr(proxy) and SECRET not in str(proxy)
    assert str(proxy) == "http://***@proxy.example.test:3128"
    assert options(MINIO_PROXY="https://[::1]:8443/").proxy == ProxyURL("https://[::1]:8443")
    assert options(MINIO_PROXY="").proxy is None


def test_the_proxy_pool_sends_the_credentials_only_in_proxy_authorization():
    pool = build_http_client(options(MINIO_PROXY=f"http://user:{SECRET}@proxy.example.test:3128"))
    assert isinstance(pool, urllib3.ProxyManager)
    assert (pool.proxy.scheme, pool.proxy.host, pool.proxy.port, pool.proxy.auth) == (
        "http",
        "proxy.example.test",
        3128,
        None,
    )
    assert pool.proxy_headers == {"proxy-authorization": f"Basic {token(f'user:{SECRET}')}"}
    assert pool.connection_pool_kw["ca_certs"]  # the CA bundle also checks an https proxy
    assert not isinstance(build_http_client(options()), urllib3.ProxyManager)


def test_options_and_storages_never_show_the_proxy_credentials():
    raw = {**BASE, "MINIO_PROXY": f"http://user:{SECRET}@proxy.example.test:3128"}
    opts = parse_options(raw)
    storage = MinioBackend(bucket_name="c-private", **raw)
    shown = [repr(opts), str(opts), repr(storage), repr(storage.deconstruct()), repr(storage.store)]
    for text in shown:
        assert SECRET not in text and token(f"user:{SECRET}") not in text
    assert "proxy.example.test:3128" in repr(opts)
    assert pickle.loads(pickle.dumps(opts)).proxy.auth == f"user:{SECRET}"  # kept, not lost


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (f"ftp://user:{SECRET}@proxy.example.test:21", "is not an http:// or https:// URL"),
        (f"user:{SECRET}@proxy.example.test:3128", "is not an http:// or https:// URL"),
        (f"http://user:{SECRET}@proxy.example.test:port", "is not a valid URL"),
        (f"http://user:{SECRET}@:3128", "has no host"),
        (f"http://user:{SECRET}@proxy.example.test:3128/path", "has a path"),
        (3128, "expected a string"),
    ],
)
def test_a_bad_proxy_url_is_named_without_its_credentials(value, words):
    with pytest.raises(ConfigurationError) as raised:
        options(MINIO_PROXY=value)
    assert str(raised.value).startswith("MINIO_PROXY: ") and words in str(raised.value)
    assert SECRET not in str(raised.value)


# -- system checks ---------------------------------------------------------------------------------


def configure(settings, **more):
    settings.STORAGES = {"default": {"BACKEND": MEDIA, "OPTIONS": {**BASE, **more}}}


def minio_messages():
    return {m.id: m for m in run_checks() if m.id.startswith("minio_backend.")}


def test_the_connection_options_pass_the_checks_when_they_fit(settings, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    configure(
        settings,
        MINIO_ADDRESSING_STYLE="virtual",
        MINIO_USE_HTTPS=True,
        MINIO_CA_BUNDLE=str(bundle),
        MINIO_PROXY=f"http://user:{SECRET}@proxy.example.test:3128",
    )
    assert minio_messages() == {}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"MINIO_ENDPOINT": "10.0.0.5:9000"}, "MINIO_ENDPOINT '10.0.0.5:9000': it is an IP address"),
        ({"MINIO_ENDPOINT": "[::1]:9000"}, "MINIO_ENDPOINT '[::1]:9000': it is an IP address"),
        (
            {"MINIO_EXTERNAL_ENDPOINT": "192.0.2.7", "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": False},
            "MINIO_EXTERNAL_ENDPOINT '192.0.2.7'",
        ),
        (
            {"MINIO_USE_HTTPS": True, "MINIO_PUBLIC_BUCKETS": ["media.example.com"]},
            "bucket(s) 'media.example.com' over https",
        ),
        (
            {
                "MINIO_EXTERNAL_ENDPOINT": "cdn.example.test",
                "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": True,
                "MINIO_PRIVATE_BUCKETS": ["c.private"],
                "MINIO_DEFAULT_BUCKET": "c.private",
            },
            "bucket(s) 'c.private' over https",
        ),
    ],
)
def test_e050_virtual_host_style_where_it_cannot_address_the_bucket(settings, change, words):
    configure(settings, MINIO_ADDRESSING_STYLE="virtual", **change)
    message = minio_messages()["minio_backend.E050"]
    assert words in message.msg and "MINIO_ADDRESSING_STYLE = 'virtual'" in message.msg
    assert "MINIO_ADDRESSING_STYLE = 'path'" in message.hint
    configure(settings, MINIO_ADDRESSING_STYLE="path", **change)
    assert "minio_backend.E050" not in minio_messages()


def test_e050_not_for_dotted_buckets_over_plain_http(settings):
    configure(settings, MINIO_ADDRESSING_STYLE="virtual", MINIO_PUBLIC_BUCKETS=["media.example.com"])
    assert minio_messages() == {}


def test_e051_a_ca_bundle_that_is_not_there_or_not_a_file(settings, tmp_path):
    configure(settings, MINIO_CA_BUNDLE=str(tmp_path / "missing.pem"))
    message = minio_messages()["minio_backend.E051"]
    assert "missing.pem' does not exist" in message.msg and "PEM file" in message.hint
    configure(settings, MINIO_CA_BUNDLE=str(tmp_path))
    assert "is not a file" in minio_messages()["minio_backend.E051"].msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: run as another user to test this")
def test_e051_an_unreadable_ca_bundle(settings, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    bundle.chmod(0)
    configure(settings, MINIO_CA_BUNDLE=str(bundle))
    assert "is not readable" in minio_messages()["minio_backend.E051"].msg


def test_e005_a_bad_proxy_url_without_its_credentials(settings):
    configure(settings, MINIO_PROXY=f"socks5://user:{SECRET}@proxy.example.test:1080")
    message = minio_messages()["minio_backend.E005"]
    assert "MINIO_PROXY" in message.msg and "http:// or https://" in message.msg
    assert SECRET not in message.msg and SECRET not in message.hint


@pytest.mark.parametrize(
    "change",
    [
        {"MINIO_PROXY": f"http://user:{SECRET}@proxy.example.test:3128"},
        {"MINIO_CA_BUNDLE": certifi.where()},
        {"MINIO_CONNECT_TIMEOUT": 2, "MINIO_READ_TIMEOUT": 10},
    ],
)
def test_w050_pool_options_beside_your_own_pool(settings, change):
    configure(settings, MINIO_HTTP_CLIENT=urllib3.PoolManager(), **change)
    message = minio_messages()["minio_backend.W050"]
    for key in change:
        assert key in message.msg
    assert "MINIO_HTTP_CLIENT" in message.msg and SECRET not in message.msg
    configure(settings, **change)
    assert "minio_backend.W050" not in minio_messages()


def test_w050_not_for_the_addressing_style_which_applies_to_your_pool_too(settings):
    configure(settings, MINIO_HTTP_CLIENT=urllib3.PoolManager(), MINIO_ADDRESSING_STYLE="path")
    assert minio_messages() == {}
