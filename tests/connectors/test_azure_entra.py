"""Entra ID sign-in: msal runs for real against a fake authority; tokens reach a loopback API."""

from __future__ import annotations

import asyncio
import datetime
import json
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from dualtrack import AuthenticationError, CompletionRequest, Message, ModelCard
from dualtrack.connectors.azure import AzureOpenAIConnector, EntraTokenProvider
from tests.connectors.servers.authority import DEVICE_GRANT, FakeAuthority
from tests.connectors.servers.fault import FaultServer

SECRET = "client-secret-for-tests-3f9d"


def req() -> CompletionRequest:
    return CompletionRequest([Message.user("hi")], max_tokens=5)


@pytest.fixture
def authority(fault_server: FaultServer) -> FakeAuthority:
    return FakeAuthority(client_secret=SECRET, on_token=fault_server.valid_tokens.add)


def provider(authority: FakeAuthority, cache: Path | None, **kw: Any) -> EntraTokenProvider:
    if "device_code" not in kw and "certificate_path" not in kw:
        kw.setdefault("client_secret", SECRET)
    return EntraTokenProvider(
        client_id="app-client-id",
        authority=authority.authority,
        cache_path=cache if cache is not None else False,
        http_client=authority,
        validate_authority=False,
        instance_discovery=False,
        **kw,
    )


async def call(server: FaultServer, cred: EntraTokenProvider, shape: str = "deployments") -> str:
    conn = AzureOpenAIConnector(server.root, "dep", api_shape=shape, credential=cred)  # type: ignore[arg-type]
    try:
        done = await conn.complete(req())
    finally:
        await conn.aclose()
    assert done.text == "deployment=dep"
    return server.requests[-1].headers["authorization"]


async def test_client_secret_token_and_cache_file(
    fault_server: FaultServer, authority: FakeAuthority, tmp_path: Path
) -> None:
    cache = tmp_path / "tokens" / "cache.json"
    cred = provider(authority, cache)
    assert await call(fault_server, cred) == f"Bearer {authority.issued[0]}"
    assert await call(fault_server, cred, shape="v1") == f"Bearer {authority.issued[0]}"
    assert fault_server.requests[-1].path == "/openai/v1/chat/completions"
    assert authority.grants == ["client_credentials"]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert authority.issued[0] in cache.read_text()
    # A new run: a new provider reads the file and needs no token request.
    again = provider(authority, cache)
    assert await call(fault_server, again) == f"Bearer {authority.issued[0]}"
    assert authority.grants == ["client_credentials"]


async def test_msal_runs_off_the_event_loop_and_once_for_concurrent_calls(
    fault_server: FaultServer, authority: FakeAuthority
) -> None:
    threads: list[str] = []
    post = authority.post

    def recording_post(*args: Any, **kw: Any) -> Any:
        threads.append(threading.current_thread().name)
        return post(*args, **kw)

    authority.post = recording_post  # type: ignore[method-assign]
    cred = provider(authority, None)
    conn = AzureOpenAIConnector(fault_server.root, "dep", credential=cred)
    try:
        await asyncio.gather(*(conn.complete(req()) for _ in range(12)))
    finally:
        await conn.aclose()
    assert authority.grants == ["client_credentials"]
    assert threads and threading.main_thread().name not in threads


@pytest.mark.parametrize(("expires_in", "margin"), [(200, 300), (900, 1200)])
async def test_token_refreshed_before_it_expires(
    fault_server: FaultServer, tmp_path: Path, expires_in: int, margin: float
) -> None:
    # 200 s left: inside the default 300 s margin (and msal's own window); 900 s: a wider margin.
    authority = FakeAuthority(
        client_secret=SECRET, on_token=fault_server.valid_tokens.add, expires_in=expires_in
    )
    cred = provider(authority, tmp_path / "c.json", refresh_margin_s=margin)
    first = await call(fault_server, cred)
    second = await call(fault_server, cred)  # the first token is still valid, but due for refresh
    assert (first, second) == (f"Bearer {authority.issued[0]}", f"Bearer {authority.issued[1]}")
    assert authority.grants == ["client_credentials", "client_credentials"]


async def test_device_code_token_refreshed_inside_the_margin(
    fault_server: FaultServer, authority: FakeAuthority, tmp_path: Path
) -> None:
    authority.expires_in = 900
    cred = provider(authority, tmp_path / "d.json", device_code=True, on_device_code=lambda _m: None,
                    refresh_margin_s=1200)  # fmt: skip
    await call(fault_server, cred)
    assert await call(fault_server, cred) == f"Bearer {authority.issued[1]}"
    assert authority.grants == [DEVICE_GRANT, DEVICE_GRANT, "refresh_token"]


async def test_wrong_secret_is_an_authentication_error(
    fault_server: FaultServer, authority: FakeAuthority
) -> None:
    cred = provider(authority, None, client_secret="wrong-secret-value-77")
    with pytest.raises(AuthenticationError, match="invalid_client") as info:
        await call(fault_server, cred)
    assert "wrong-secret-value-77" not in str(info.value)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dualtrack-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + cert.public_bytes(serialization.Encoding.PEM)
    path = tmp_path / "app.pem"
    path.write_bytes(pem)
    return path, key.public_key()


async def test_client_certificate(fault_server: FaultServer, certificate: tuple[Path, Any]) -> None:
    path, public_key = certificate
    authority = FakeAuthority(public_key=public_key, on_token=fault_server.valid_tokens.add)
    cred = provider(authority, None, certificate_path=path)
    assert cred.mode == "client-certificate"
    assert await call(fault_server, cred) == f"Bearer {authority.issued[0]}"
    form = authority.token_requests[0]
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in form


def test_certificate_file_must_hold_key_and_certificate(tmp_path: Path) -> None:
    bad = tmp_path / "only-cert.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValueError, match="private key and its certificate"):
        EntraTokenProvider(client_id="c", tenant_id="t", certificate_path=bad, cache_path=False)


async def test_device_code_flow_then_cache_then_refresh(
    fault_server: FaultServer, authority: FakeAuthority, tmp_path: Path
) -> None:
    cache = tmp_path / "device.json"
    prompts: list[str] = []
    cred = provider(authority, cache, device_code=True, on_device_code=prompts.append)
    assert await call(fault_server, cred) == f"Bearer {authority.issued[0]}"
    assert len(prompts) == 1 and "WXYZ-1234" in prompts[0]
    assert authority.grants == [DEVICE_GRANT, DEVICE_GRANT]  # one "authorization_pending", then the token
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600

    # Next run: the cached token is reused, nobody is asked to sign in again.
    second = provider(authority, cache, device_code=True, on_device_code=prompts.append)
    assert await call(fault_server, second) == f"Bearer {authority.issued[0]}"
    assert len(prompts) == 1 and len(authority.grants) == 2

    # The access token expired since: msal refreshes it with the refresh token, silently.
    data = json.loads(cache.read_text())
    for entry in data["AccessToken"].values():
        entry["expires_on"] = entry["extended_expires_on"] = "1000"
    cache.write_text(json.dumps(data))
    third = provider(authority, cache, device_code=True, on_device_code=prompts.append)
    assert await call(fault_server, third) == f"Bearer {authority.issued[1]}"
    assert authority.grants[-1] == "refresh_token" and len(prompts) == 1


async def test_loose_cache_file_permissions_are_tightened(
    fault_server: FaultServer, authority: FakeAuthority, tmp_path: Path
) -> None:
    cache = tmp_path / "loose.json"
    await call(fault_server, provider(authority, cache))
    cache.chmod(0o644)
    await call(fault_server, provider(authority, cache))
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


async def test_from_card_with_entra_settings(
    fault_server: FaultServer, authority: FakeAuthority, tmp_path: Path
) -> None:
    card = ModelCard(
        name="azure-entra",
        track="partner",
        connector="azure-openai",
        settings={
            "endpoint": fault_server.root,
            "deployment": "dep",
            "api_shape": "v1",
            "client_id": "app-client-id",
            "client_secret": SECRET,
            "authority": authority.authority,
            "validate_authority": False,
            "instance_discovery": False,
            "token_cache_path": str(tmp_path / "card.json"),
        },
    )
    conn = AzureOpenAIConnector.from_card(card, msal_http_client=authority)
    assert conn.auth == "entra-client-secret"
    try:
        await conn.sign_in()
        await conn.complete(req())
    finally:
        await conn.aclose()
    assert fault_server.requests[-1].headers["authorization"] == f"Bearer {authority.issued[0]}"
    assert (tmp_path / "card.json").exists()
