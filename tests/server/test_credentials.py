"""Cloud credentials: MINIO_SESSION_TOKEN and MINIO_CREDENTIALS_PROVIDER, with temporary
credentials issued by the test server's STS (Ceph RGW AssumeRole)."""

from __future__ import annotations

import threading

import pytest
import urllib3
from django.core.files.base import ContentFile
from minio.credentials import AssumeRoleProvider, Credentials, Provider

from django_minio_backend.conf.options import MiB
from django_minio_backend.errors import StorageServerError
from django_minio_backend.models import MinioBackend

from tests.support import (
    PRIVATE,
    STORAGE_MODELS,
    CountingPoolManager,
    boto3_client,
)


def assume_role(s3_server, session: str) -> dict[str, str]:
    """Temporary credentials from the server's STS AssumeRole (asked with boto3, an independent client)."""
    sts = boto3_client(s3_server, "sts")
    answer = sts.assume_role(RoleArn=s3_server.sts_role_arn, RoleSessionName=session, DurationSeconds=900)
    return answer["Credentials"]


@pytest.fixture
def temporary(s3_server, s3_buckets):
    if not s3_server.sts_role_arn:
        pytest.skip(f"the {s3_server.kind} test server has no STS role to assume")
    return assume_role(s3_server, "django-minio-backend-tests")


class SlotProvider(Provider):
    """Hands out whatever credentials are in its slot right now, and counts the requests for them."""

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds
        self.calls = 0
        self._lock = threading.Lock()

    def retrieve(self) -> Credentials:
        with self._lock:
            self.calls += 1
        return self.creds


def as_minio(creds: dict[str, str]) -> Credentials:
    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def storage_with(minio_options, **options) -> MinioBackend:
    """A storage on the test server whose credentials are only those in ``options``.

    Keyword options override single keys of the "default" alias, so its static keys are blanked.
    """
    base = {**minio_options, "MINIO_ACCESS_KEY": "", "MINIO_SECRET_KEY": ""}
    return MinioBackend(bucket_name=PRIVATE, **{**base, **options})


def exercise(storage, name: str) -> None:
    """Every request path: conditional PUT, claim + multipart, write mode, GET, HEAD, LIST, URL, DELETE."""
    small = storage.save(f"{name}/small.txt", ContentFile(b"small"))
    big = storage.save(f"{name}/big.bin", ContentFile(b"b" * (11 * MiB)))  # claim, then multipart
    with storage.open(f"{name}/written.txt", "w") as handle:
        handle.write("written")
    with storage.open(small) as handle:
        assert handle.read() == b"small"
    assert storage.size(big) == 11 * MiB
    assert sorted(storage.listdir(name)[1]) == ["big.bin", "small.txt", "written.txt"]
    assert urllib3.request("GET", storage.url(small)).data == b"small"
    for stored in (small, big, f"{name}/written.txt"):
        storage.delete(stored)
    assert not storage.exists(small)


@pytest.mark.s3_strict
def test_session_token_of_sts_credentials_signs_every_request_path(
    minio_settings, minio_options, temporary, name
):
    storage = storage_with(
        minio_options,
        MINIO_ACCESS_KEY=temporary["AccessKeyId"],
        MINIO_SECRET_KEY=temporary["SecretAccessKey"],
        MINIO_SESSION_TOKEN=temporary["SessionToken"],
    )
    exercise(storage, name)
    without_token = storage_with(
        minio_options,
        MINIO_ACCESS_KEY=temporary["AccessKeyId"],
        MINIO_SECRET_KEY=temporary["SecretAccessKey"],
    )
    with pytest.raises(StorageServerError):  # the token is what makes the temporary key valid
        without_token.save(f"{name}/refused.txt", ContentFile(b"x"))


@pytest.mark.s3_strict
def test_provider_is_asked_for_every_request_including_the_conditional_put(
    minio_settings, minio_options, s3_server, temporary, name
):
    provider = SlotProvider(as_minio(temporary))
    counter = CountingPoolManager()
    storage = storage_with(minio_options, MINIO_CREDENTIALS_PROVIDER=provider, MINIO_HTTP_CLIENT=counter)
    exercise(storage, name)
    assert provider.calls >= len(counter.requests) > 10
    # Swap in credentials the server refuses: each path must fail, so none kept the old ones.
    provider.creds = Credentials("AKIDNOTVALID000000000", "not-a-valid-secret-000000000000000000000")
    with pytest.raises(StorageServerError, match="upload"):
        storage.save(f"{name}/conditional.txt", ContentFile(b"x"))  # the hand-signed conditional PUT
    with pytest.raises(StorageServerError):
        storage.exists(f"{name}/anything")
    provider.creds = as_minio(assume_role(s3_server, "second-session"))  # a new session: works again
    assert storage.save(f"{name}/again.txt", ContentFile(b"again")) == f"{name}/again.txt"


_FACTORY_CREDS: dict[str, str] = {}


def build_env_like_provider() -> Provider:
    """A factory named by dotted path in MINIO_CREDENTIALS_PROVIDER."""
    return SlotProvider(as_minio(_FACTORY_CREDS))


@pytest.mark.s3_strict
def test_dotted_path_to_a_factory_and_minio_env_provider(
    minio_settings, minio_options, temporary, name, monkeypatch
):
    _FACTORY_CREDS.update(temporary)
    storage = storage_with(minio_options, MINIO_CREDENTIALS_PROVIDER=f"{__name__}.build_env_like_provider")
    assert storage.save(f"{name}/f.txt", ContentFile(b"factory")) == f"{name}/f.txt"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", temporary["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", temporary["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", temporary["SessionToken"])
    env_storage = storage_with(minio_options, MINIO_CREDENTIALS_PROVIDER="minio.credentials.EnvAWSProvider")
    with env_storage.open(f"{name}/f.txt") as handle:
        assert handle.read() == b"factory"


@pytest.mark.s3_strict
def test_minio_assume_role_provider_against_the_server_sts(minio_settings, minio_options, s3_server, name):
    if not s3_server.sts_role_arn:
        pytest.skip(f"the {s3_server.kind} test server has no STS role to assume")
    provider = AssumeRoleProvider(
        sts_endpoint=s3_server.url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        role_arn=s3_server.sts_role_arn,
        role_session_name="minio-provider",
        region=s3_server.region,
    )
    try:
        provider.retrieve()
    except ValueError as error:
        if "does not match format" not in str(error):
            raise
        pytest.skip(
            "minio 7.2's AssumeRoleProvider cannot parse Ceph RGW 16's STS Expiration (nanosecond "
            f"fraction): {error}; temporary credentials are tested through boto3's AssumeRole instead"
        )
    storage = storage_with(minio_options, MINIO_CREDENTIALS_PROVIDER=provider)
    exercise(storage, name)


# -- configuration, checks and secrecy (no server needed) ---------------------------------------


@pytest.mark.django_db
def test_migrations_hold_no_session_token_or_sse_c_key(minio_settings, minio_options, tmp_path, monkeypatch):
    import io
    import sys

    from django.core.management import call_command
    from django.test import override_settings

    token, key = "token-never-in-migrations", b"K" * 32
    options = {
        **minio_options,
        "MINIO_SESSION_TOKEN": token,
        "MINIO_SERVER_SIDE_ENCRYPTION": "SSE-C",
        "MINIO_SSE_CUSTOMER_KEY": key,
    }
    package = tmp_path / "leakcheck2"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "__init__.py").write_text("")
    (package / "models.py").write_text(
        STORAGE_MODELS.format(options=options).replace("leakcheck", "leakcheck2")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    output = io.StringIO()
    with override_settings(INSTALLED_APPS=[*minio_settings.INSTALLED_APPS, "leakcheck2"]):
        call_command("makemigrations", "leakcheck2", dry_run=True, verbosity=3, stdout=output)
    sys.modules.pop("leakcheck2.models", None)
    text = output.getvalue()
    assert "django_minio_backend.models.MinioBackend(" in text
    assert token not in text and "KKKK" not in text and minio_options["MINIO_SECRET_KEY"] not in text


@pytest.mark.s3_strict
def test_aws_config_file_provider_picks_up_rotated_credentials(
    minio_settings, minio_options, s3_server, temporary, name, tmp_path
):
    from minio.credentials import AWSConfigProvider

    credentials_file = tmp_path / "credentials"

    def write_profile(creds: dict[str, str]) -> None:
        credentials_file.write_text(
            "[default]\n"
            f"aws_access_key_id = {creds['AccessKeyId']}\n"
            f"aws_secret_access_key = {creds['SecretAccessKey']}\n"
            f"aws_session_token = {creds['SessionToken']}\n"
        )

    write_profile(temporary)
    storage = storage_with(
        minio_options, MINIO_CREDENTIALS_PROVIDER=AWSConfigProvider(filename=str(credentials_file))
    )
    assert storage.save(f"{name}/one.txt", ContentFile(b"one")) == f"{name}/one.txt"
    write_profile(
        {"AccessKeyId": "AKIDROTATEDAWAY00000", "SecretAccessKey": "x" * 40, "SessionToken": "gone"}
    )
    with pytest.raises(StorageServerError):
        storage.save(f"{name}/two.txt", ContentFile(b"two"))
    write_profile(assume_role(s3_server, "rotated-session"))  # what a credentials refresher would do
    assert storage.save(f"{name}/two.txt", ContentFile(b"two")) == f"{name}/two.txt"
    with storage.open(f"{name}/one.txt") as handle:
        assert handle.read() == b"one"
