"""The presigned URL cache without a server (storages on a closed port): locmem, and Redis if installed."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.core.cache import caches

from django_minio_backend import checks
from django_minio_backend.models import MinioBackend
from django_minio_backend.storage import urlcache
from django_minio_backend.testing._process import free_ports

from tests.support import PUBLIC, CountingPoolManager, cache_config, offline_storage, url_cache_entry

CACHE_CHECKS = ("minio_backend.W004", "minio_backend.E008")


def caching(counter: CountingPoolManager, **options) -> MinioBackend:
    """A storage with the URL cache on a closed port: any request to S3 would fail, and the counter would see it."""
    return offline_storage(counter, MINIO_URL_CACHING_ENABLED=True, **options)


def test_miss_then_hit_make_zero_requests_and_return_the_same_url(cache_kind):
    counter = CountingPoolManager()
    storage = caching(counter)
    assert url_cache_entry(storage, "a/b.txt") is None
    first = storage.url("a/b.txt")
    assert url_cache_entry(storage, "a/b.txt")[1] == first
    time.sleep(1.1)  # a fresh signature would carry a later X-Amz-Date
    assert storage.url("a/b.txt") == first
    assert counter.requests == []


def test_caching_off_signs_every_call_and_stores_nothing(cache_kind):
    counter = CountingPoolManager()
    storage = MinioBackend(storage_name="default", MINIO_HTTP_CLIENT=counter)
    first = storage.url("a.txt")
    time.sleep(1.1)
    assert storage.url("a.txt") != first
    assert url_cache_entry(storage, "a.txt") is None
    assert counter.requests == []


def test_entry_expires_before_the_url_and_is_then_resigned(cache_kind):
    storage = caching(CountingPoolManager(), MINIO_URL_EXPIRY_HOURS=timedelta(seconds=2))
    assert storage.options.effective_url_cache_timeout == 1
    first = storage.url("short.txt")
    until, _ = url_cache_entry(storage, "short.txt")
    assert until <= time.time() + 2  # never handed out after the URL's own expiry
    time.sleep(1.2)
    assert storage.url("short.txt") != first


def test_stale_entry_is_not_served_even_if_the_backend_keeps_it(cache_kind):
    storage = caching(CountingPoolManager())
    key = urlcache.cache_key(storage.store, "old.txt")
    caches["default"].set(key, (time.time() - 1, "http://stale.example/old.txt"), 60)
    assert storage.url("old.txt").startswith("http://127.0.0.1:9/test-private/old.txt?")


def test_redis_entry_ttl_is_clamped_to_the_url_expiry(settings, redis_port):
    settings.CACHES = {"default": cache_config("redis", redis_port)}
    import redis

    storage = caching(
        CountingPoolManager(), MINIO_URL_EXPIRY_HOURS=timedelta(hours=1), MINIO_URL_CACHE_TIMEOUT=10_000
    )
    storage.url("ttl.txt")
    cache = caches["default"]
    raw_key = cache.make_and_validate_key(urlcache.cache_key(storage.store, "ttl.txt"))
    client = redis.Redis(host="127.0.0.1", port=redis_port)
    assert 3590 <= client.ttl(raw_key) <= 3600
    client.close()
    cache.clear()


def test_default_timeout_is_80_percent_of_the_expiry(cache_kind):
    storage = caching(CountingPoolManager(), MINIO_URL_EXPIRY_HOURS=timedelta(hours=10))
    before = time.time()
    storage.url("d.txt")
    until, _ = url_cache_entry(storage, "d.txt")
    assert before + 8 * 3600 - 1 <= until <= time.time() + 8 * 3600


def test_per_call_variants_are_signed_fresh_and_do_not_touch_the_plain_entry(cache_kind):
    storage = caching(CountingPoolManager())
    plain = storage.url("v.pdf")
    short = storage.url("v.pdf", expires=timedelta(minutes=5))
    download = storage.url("v.pdf", response_headers={"response-content-disposition": "attachment"})
    assert parse_qs(urlsplit(short).query)["X-Amz-Expires"] == ["300"]
    assert parse_qs(urlsplit(download).query)["response-content-disposition"] == ["attachment"]
    assert url_cache_entry(storage, "v.pdf")[1] == plain
    assert storage.url("v.pdf") == plain


def test_public_urls_are_not_cached(cache_kind):
    storage = caching(CountingPoolManager())
    public = MinioBackend(
        bucket_name=PUBLIC, storage_name="default", MINIO_URL_CACHING_ENABLED=True, MINIO_HTTP_CLIENT=None
    )
    assert public.url("p.txt") == "http://127.0.0.1:9/test-public/p.txt"
    assert url_cache_entry(public, "p.txt") is None
    assert url_cache_entry(storage, "p.txt") is None


def test_cache_key_keeps_the_prefix_is_short_and_tells_storages_apart():
    base = caching(CountingPoolManager(), MINIO_URL_CACHE_PREFIX="myapp_urls_")
    long_name = "d/" * 300 + "x" * 200
    key = urlcache.cache_key(base.store, base.store.key(long_name))
    assert key.startswith("myapp_urls_") and len(key) < 100 and " " not in key
    others = [
        MinioBackend(storage_name="staticfiles", MINIO_URL_CACHE_PREFIX="myapp_urls_"),
        caching(CountingPoolManager(), MINIO_URL_CACHE_PREFIX="myapp_urls_", MINIO_EXTERNAL_ENDPOINT="cdn:9"),
        MinioBackend(bucket_name=PUBLIC, storage_name="default", MINIO_URL_CACHE_PREFIX="myapp_urls_"),
    ]
    keys = {urlcache.cache_key(base.store, "n.txt"), urlcache.cache_key(base.store, "m.txt")}
    keys |= {urlcache.cache_key(other.store, "n.txt") for other in others}
    assert len(keys) == 5


def test_names_with_spaces_and_unicode_give_valid_memcached_keys(cache_kind, recwarn):
    storage = caching(CountingPoolManager())
    url = storage.url("répertoire/q1 2026 + notes.pdf")
    assert url_cache_entry(storage, "répertoire/q1 2026 + notes.pdf")[1] == url
    assert not [w for w in recwarn if "CacheKeyWarning" in type(w.message).__name__]


def test_cache_alias_option_selects_the_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "d"},
        "urls": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "u"},
    }
    storage = caching(CountingPoolManager(), MINIO_URL_CACHE_ALIAS="urls")
    url = storage.url("alias.txt")
    key = urlcache.cache_key(storage.store, "alias.txt")
    assert caches["urls"].get(key)[1] == url
    assert caches["default"].get(key) is None
    caches["urls"].clear()


def test_top_level_settings_enable_caching(settings):
    settings.MINIO_URL_CACHING_ENABLED = True
    settings.MINIO_URL_CACHE_PREFIX = "legacy_"
    storage = MinioBackend(storage_name="default", MINIO_HTTP_CLIENT=CountingPoolManager())
    url = storage.url("legacy.txt")
    assert caches["default"].get(urlcache.cache_key(storage.store, "legacy.txt"))[1] == url
    assert urlcache.cache_key(storage.store, "legacy.txt").startswith("legacy_")
    caches["default"].clear()


def test_unreachable_cache_server_falls_back_to_signing_and_logs(settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_ports(1)[0]}",
        }
    }
    counter = CountingPoolManager()
    storage = caching(counter)
    with caplog.at_level(logging.WARNING, logger="django_minio_backend"):
        url = storage.url("down.txt")
    assert url.startswith("http://127.0.0.1:9/test-private/down.txt?X-Amz-Algorithm=")
    assert "could not read" in caplog.text and "could not write" in caplog.text
    assert counter.requests == []


def _storages(**options) -> dict:
    return {
        "default": {
            "BACKEND": "django_minio_backend.models.MinioBackend",
            "OPTIONS": {
                "MINIO_ENDPOINT": "127.0.0.1:9",
                "MINIO_ACCESS_KEY": "a",
                "MINIO_SECRET_KEY": "s",
                **options,
            },
        },
        "other": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


def cache_check_messages():
    return [m for m in checks.run_all() if m.id in CACHE_CHECKS]


def test_check_warns_when_the_timeout_is_longer_than_the_expiry(settings):
    settings.STORAGES = _storages(
        MINIO_URL_CACHING_ENABLED=True,
        MINIO_URL_CACHE_TIMEOUT=7200,
        MINIO_URL_EXPIRY_HOURS=timedelta(hours=1),
    )
    messages = cache_check_messages()
    assert [m.id for m in messages] == ["minio_backend.W004"]
    assert "7200" in messages[0].msg and "3600" in messages[0].msg and "'default'" in messages[0].obj


def test_check_errors_on_an_unknown_cache_alias(settings):
    settings.STORAGES = _storages(MINIO_URL_CACHING_ENABLED=True, MINIO_URL_CACHE_ALIAS="nope")
    assert [m.id for m in cache_check_messages()] == ["minio_backend.E008"]


def test_check_is_quiet_for_a_fitting_or_disabled_cache(settings):
    settings.STORAGES = _storages(MINIO_URL_CACHING_ENABLED=True, MINIO_URL_CACHE_TIMEOUT=60)
    assert cache_check_messages() == []
    settings.STORAGES = _storages(MINIO_URL_CACHE_TIMEOUT=10**9, MINIO_URL_CACHE_ALIAS="nope")
    assert cache_check_messages() == []


def test_check_runs_with_django_check(settings):
    from django.core.checks import run_checks

    settings.STORAGES = _storages(
        MINIO_URL_CACHING_ENABLED=True,
        MINIO_URL_CACHE_TIMEOUT=7200,
        MINIO_URL_EXPIRY_HOURS=timedelta(hours=1),
    )
    assert "minio_backend.W004" in [m.id for m in run_checks()]
