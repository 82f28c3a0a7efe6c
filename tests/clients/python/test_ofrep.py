"""The Python OpenFeature OFREP provider against a real `burgee-sidecar serve`.

Every expectation comes from `burgee-sidecar eval` run on the same flags file
with the same flag, environment and context: the value, variant, reason and
metadata that the OpenFeature client reports must be the ones eval prints.

The provider (openfeature-provider-ofrep) POSTs `{"context": {...}}` to
`{base_url}/ofrep/v1/evaluate/flags/{key}` for each evaluation, with the
headers from `headers_factory`; a non-2xx answer is turned into the
OpenFeature error of its `errorCode` (404 into FLAG_NOT_FOUND).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext

REPO = Path(__file__).resolve().parents[3]
FLAGS = REPO / "tests" / "clients" / "flags.json"
FIRST_ENV = "production"  # the file's first environment: what the server serves by default
STAGING = "staging"  # picked with the X-Burgee-Environment header


def sidecar_binary() -> Path:
    path = Path(os.environ.get("BURGEE_SIDECAR", "target/debug/burgee-sidecar"))
    if not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        pytest.exit(f"burgee-sidecar binary not found at {path} (build it or set BURGEE_SIDECAR)", 2)
    return path


BINARY = sidecar_binary()


# --- the reference: burgee-sidecar eval ------------------------------------


def reference(flag: str, context: dict, environment: str = FIRST_ENV) -> dict:
    """What `burgee-sidecar eval` answers for this flag, environment and context."""
    proc = subprocess.run(
        [
            str(BINARY), "eval", str(FLAGS),
            "--flag", flag,
            "--environment", environment,
            "--context", json.dumps(context),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode in (0, 1), f"eval failed ({proc.returncode}): {proc.stderr}"
    result = json.loads(proc.stdout)
    # eval exits 0 for a result and 1 for an OFREP error object
    assert (proc.returncode == 0) == ("errorCode" not in result), (proc.returncode, result)
    return result


def to_context(context: dict) -> EvaluationContext:
    attributes = {k: v for k, v in context.items() if k != "targetingKey"}
    return EvaluationContext(targeting_key=context.get("targetingKey"), attributes=attributes)


# --- the server --------------------------------------------------------------


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("sidecar") / "stderr.log"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(
            [str(BINARY), "serve", "--file", str(FLAGS), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
    try:
        lines: list[bytes] = []
        got_line = threading.Event()

        def drain() -> None:
            for line in proc.stdout:
                lines.append(line)
                got_line.set()

        threading.Thread(target=drain, daemon=True).start()
        if not got_line.wait(20):
            pytest.fail(f"no start line from burgee-sidecar; stderr: {log.read_text()}")
        first = lines[0].decode().strip()
        match = re.fullmatch(r"burgee-sidecar listening on (http://127\.0\.0\.1:(\d+))", first)
        assert match, f"unexpected start line {first!r}"
        base_url = match.group(1)

        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"/readyz never answered 200; stderr: {log.read_text()}")
            time.sleep(0.05)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def clients(server):
    """The default client (no header: the file's first environment) and one
    bound to the `staging` domain whose provider sends X-Burgee-Environment."""
    api.set_provider_and_wait(OFREPProvider(base_url=server))
    api.set_provider_and_wait(
        OFREPProvider(base_url=server, headers_factory=lambda: {"X-Burgee-Environment": STAGING}),
        domain=STAGING,
    )
    yield {FIRST_ENV: api.get_client(), STAGING: api.get_client(STAGING)}
    api.shutdown()


def evaluate(client, kind: str, flag: str, default, context: dict):
    method = getattr(client, f"get_{kind}_details")
    return method(flag, default, to_context(context))


def assert_same_as_eval(details, ref: dict) -> None:
    """The client reports exactly what eval answers (a success)."""
    assert "errorCode" not in ref, ref
    assert details.error_code is None, (details.error_code, details.error_message)
    assert details.value == ref["value"]
    assert type(details.value) is type(ref["value"])
    assert details.variant == ref["variant"]
    assert details.reason == ref["reason"]
    assert dict(details.flag_metadata) == ref["metadata"]


# --- checks --------------------------------------------------------------------

USER = {"targetingKey": "user-1"}


def test_boolean(clients):
    ref = reference("dark-mode", USER)
    details = evaluate(clients[FIRST_ENV], "boolean", "dark-mode", not ref["value"], USER)
    assert_same_as_eval(details, ref)


def test_string(clients):
    ref = reference("greeting", USER)
    details = evaluate(clients[FIRST_ENV], "string", "greeting", "fallback", USER)
    assert_same_as_eval(details, ref)


@pytest.mark.parametrize("environment", [FIRST_ENV, STAGING])
def test_float(clients, environment):
    ref = reference("price-multiplier", USER, environment)
    assert isinstance(ref["value"], float)
    details = evaluate(clients[environment], "float", "price-multiplier", -1.0, USER)
    assert_same_as_eval(details, ref)
    assert isinstance(details.value, float)


def test_float_value_one_point_zero_arrives_as_float(clients):
    # production serves 1.0: it must reach the client as a float, so asking
    # for an integer is a type mismatch (the default comes back).
    ref = reference("price-multiplier", USER)
    assert ref["value"] == 1.0 and isinstance(ref["value"], float)
    details = evaluate(clients[FIRST_ENV], "integer", "price-multiplier", 7, USER)
    assert details.error_code == "TYPE_MISMATCH"
    assert details.value == 7


@pytest.mark.parametrize("environment", [FIRST_ENV, STAGING])
def test_integer(clients, environment):
    ref = reference("max-items", USER, environment)
    details = evaluate(clients[environment], "integer", "max-items", -1, USER)
    assert_same_as_eval(details, ref)


def test_object(clients):
    ref = reference("theme", USER)
    details = evaluate(clients[FIRST_ENV], "object", "theme", {"fallback": True}, USER)
    assert_same_as_eval(details, ref)


def test_boolean_in_other_environment(clients):
    ref = reference("dark-mode", USER, STAGING)
    details = evaluate(clients[STAGING], "boolean", "dark-mode", not ref["value"], USER)
    assert_same_as_eval(details, ref)


@pytest.mark.parametrize(
    "context",
    [
        {"targetingKey": "user-42"},  # the individual target
        {"targetingKey": "user-1"},  # nobody special: the default
        {"targetingKey": "user-1", "plan": "pro"},  # the rule
    ],
)
def test_targeting(clients, context):
    ref = reference("beta-banner", context)
    details = evaluate(clients[FIRST_ENV], "boolean", "beta-banner", not ref["value"], context)
    assert_same_as_eval(details, ref)


def test_targeted_user_is_a_targeting_match():
    assert reference("beta-banner", {"targetingKey": "user-42"})["reason"] == "TARGETING_MATCH"


SPLIT_USERS = [f"user-{i}" for i in range(1, 9)]


@pytest.mark.parametrize("user", SPLIT_USERS)
def test_split(clients, user):
    context = {"targetingKey": user}
    ref = reference("checkout-experiment", context)
    assert ref["reason"] == "SPLIT"
    details = evaluate(clients[FIRST_ENV], "string", "checkout-experiment", "fallback", context)
    assert_same_as_eval(details, ref)


def test_split_users_land_in_both_variants():
    variants = {reference("checkout-experiment", {"targetingKey": u})["variant"] for u in SPLIT_USERS}
    assert variants == {"control", "treatment"}


def test_split_without_targeting_key(clients):
    ref = reference("checkout-experiment", {})
    assert ref["errorCode"] == "TARGETING_KEY_MISSING"
    details = evaluate(clients[FIRST_ENV], "string", "checkout-experiment", "fallback", {})
    assert details.value == "fallback"
    assert details.error_code == ref["errorCode"]
    assert details.reason == "ERROR"


@pytest.mark.parametrize("environment", [FIRST_ENV, STAGING])
def test_disabled(clients, environment):
    ref = reference("legacy-search", USER, environment)
    assert ref["reason"] == "DISABLED"
    details = evaluate(clients[environment], "string", "legacy-search", "fallback", USER)
    assert_same_as_eval(details, ref)
    assert details.value == "sql"  # the off variant's value, not the default


def test_missing_flag(clients):
    ref = reference("no-such-flag", USER)
    assert ref["errorCode"] == "FLAG_NOT_FOUND"
    details = evaluate(clients[FIRST_ENV], "boolean", "no-such-flag", True, USER)
    assert details.value is True
    assert details.error_code == ref["errorCode"]
    assert details.reason == "ERROR"
