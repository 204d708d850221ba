"""``POST /v1/rubrics/{id}/score``, answered by the application's front from plain ASGI
messages: the same answers as the command line and as the framework's route, the same
problems, the same limits."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import perfscore
from perfscore.cli import main
from perfscore.service import ServiceSettings, create_app
from perfscore.service.app import KEY_SECONDS
from perfscore.service.store import Store

from .conftest import SEED, SHAOYANG, Api, make_api

PROBLEM = "application/problem+json"
RUBRIC_ID = "shaoyang-dept-overall-2023"
SCORE = f"/v1/rubrics/{RUBRIC_ID}/score"


def _seed() -> dict[str, Any]:
    from perfscore.loading import load_document

    data, _ = load_document(SEED)
    return dict(json.loads(json.dumps(data, default=str)))


def _cli_json(*args: str) -> Any:
    result = CliRunner().invoke(main, ["score", str(SHAOYANG), *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_answer_is_perfscore_score_json_plus_record_id(
    api: Api, tmp_path: Path, lang: str
) -> None:
    assert api.post_rubric(SHAOYANG.read_text(encoding="utf-8")).status_code == 201
    inputs = _seed()
    inputs["staff_actual"] = 19  # not the example: a deduction, a rounding
    path = tmp_path / "inputs.json"
    path.write_text(json.dumps(inputs), encoding="utf-8")
    response = api.client.post(SCORE, json=inputs, headers=api.headers(**{"Accept-Language": lang}))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    record_id = body.pop("record_id")
    assert list(response.json())[-1] == "record_id"
    assert body == _cli_json(str(path), "--lang", lang)
    record = api.client.get(f"/v1/records/{record_id}", headers=api.headers()).json()
    assert record["result"] == body
    assert record["inputs"] == inputs
    assert record["inputs_hash"] == body["inputs_hash"]


def test_the_front_and_the_frameworks_route_answer_alike(api: Api, db_url: str) -> None:
    """The route stays in FastAPI (the OpenAPI document, an application mounted without
    its front): both give the same result and the same problems."""
    assert api.post_rubric(SHAOYANG.read_text(encoding="utf-8")).status_code == 201
    app = create_app(ServiceSettings(db_url=db_url))
    with TestClient(app.framework) as framework:  # type: ignore[attr-defined]
        for body, headers in (
            (json.dumps(_seed()).encode(), api.headers()),
            (b"[1]", api.headers()),
            (b"{", api.headers(**{"Accept-Language": "en"})),
            (b"{}", {}),
        ):
            ours = api.client.post(SCORE, content=body, headers=headers)
            theirs = framework.post(SCORE, content=body, headers=headers)
            assert ours.status_code == theirs.status_code
            assert ours.headers["content-type"] == theirs.headers["content-type"]
            one, other = ours.json(), theirs.json()
            assert (one.pop("record_id", None) is None) == (other.pop("record_id", None) is None)
            assert one == other


def test_the_score_routes_problems(api: Api) -> None:
    assert api.post_rubric(SHAOYANG.read_text(encoding="utf-8")).status_code == 201
    seed = json.dumps(_seed()).encode()
    cases: list[tuple[bytes, dict[str, str], str, int, str]] = [
        (seed, {}, SCORE, 401, "unauthorized"),
        (seed, {"Authorization": "Bearer psk_nope"}, SCORE, 401, "unauthorized"),
        (seed, api.headers(), "/v1/rubrics/no-such-rubric/score", 404, "rubric-not-found"),
        (seed, api.headers(), SCORE + "?on=yesterday", 400, "bad-date"),
        (b'{"staff_actual": NaN}', api.headers(), SCORE, 400, "bad-json"),
        (b'{"staff_actual": Infinity}', api.headers(), SCORE, 400, "bad-json"),
        (b"\xff\xfe{", api.headers(), SCORE, 400, "bad-json"),
        (b'"text"', api.headers(), SCORE, 422, "inputs-not-object"),
        (b"{}", api.headers(), SCORE + "?on=1999-01-01", 200, ""),
    ]
    for body, headers, path, status, kind in cases:
        response = api.client.post(path, content=body, headers=headers)
        if status == 200:  # the shipped rubric is in force then: every input is missing
            assert response.status_code == 422
            assert response.json()["type"] == "/problems/invalid-inputs"
            continue
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["type"] == f"/problems/{kind}"
        assert problem["instance"] == path.split("?")[0]
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    english = api.client.post(SCORE, content=b"{", headers=api.headers(**{"Accept-Language": "en"}))
    assert (
        english.json()["title"]
        != api.client.post(SCORE, content=b"{", headers=api.headers()).json()["title"]
    )
    metrics = api.client.get("/metrics").text
    assert (
        'perfscore_requests_total{method="POST",route="/v1/rubrics/{rubric_id}/score",'
        'status="401"} 2.0'
    ) in metrics


def test_the_score_routes_limits(tmp_path: Path) -> None:
    settings = ServiceSettings(
        db_url=f"sqlite:///{tmp_path / 's.db'}",
        max_body_bytes=100,
        rate_per_second=0.5,
        rate_burst=3,
    )
    for api in make_api(settings):
        big = api.client.post(SCORE, content=b"{" + b" " * 200 + b"}", headers=api.headers())
        assert big.status_code == 413
        assert big.json()["type"] == "/problems/too-large"

        def chunks() -> Any:  # no Content-Length: refused as it arrives
            for _ in range(10):
                yield b" " * 50

        streamed = api.client.post(SCORE, content=chunks(), headers=api.headers())
        assert streamed.status_code == 413
        assert api.client.post(SCORE, content=b"{}", headers=api.headers()).status_code == 422
        limited = api.client.post(SCORE, content=b"{}", headers=api.headers())  # 4th of 3
        assert limited.status_code == 429
        assert limited.headers["retry-after"].isdigit()


def test_a_revoked_key_stops_scoring_within_key_seconds(api: Api) -> None:
    """A worker keeps a key's tenant for KEY_SECONDS (so that a score request does not
    ask the database for it); a key revoked from the command line is refused after
    that, on the score route as everywhere."""
    seed = json.dumps(_seed()).encode()
    assert api.client.post(SCORE, content=seed, headers=api.headers()).status_code == 200
    assert api.store.revoke_key(api.key_a)
    revoked = time.monotonic()
    statuses = []
    while time.monotonic() - revoked < KEY_SECONDS + 1:
        statuses.append(api.client.post(SCORE, content=seed, headers=api.headers()).status_code)
        if statuses[-1] == 401:
            break
        time.sleep(0.05)
    assert statuses[-1] == 401
    assert time.monotonic() - revoked <= KEY_SECONDS + 0.5
    assert set(statuses) <= {200, 401}
    time.sleep(0.1)  # and it stays refused
    assert api.client.post(SCORE, content=seed, headers=api.headers()).status_code == 401


def test_records_committed_by_two_stores_on_one_file_at_once(tmp_path: Path) -> None:
    """Two workers write records to one SQLite file: each write waits its turn (the
    writer lock beside the file), none fails as busy, every record is there."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    stores = [Store(url), Store(url)]
    stores[0].create_key("bureau")
    item = {
        "kind": "score",
        "rubric_id": "r",
        "rubric_version": "1",
        "rubric_hash": "sha256:0",
        "inputs_hash": "sha256:1",
        "perfscore_version": perfscore.__version__,
        "inputs": {"a": 1},
        "result": b'{"total":"1"}',
    }
    written: list[str] = []
    errors: list[BaseException] = []

    def write(store: Store) -> None:
        try:
            for _ in range(40):
                written.extend(store.put_records("bureau", [item] * 3))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(s,)) for s in stores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert (tmp_path / "s.db-writer.lock").exists()
    found = {r.record_id: r for r in stores[1].all_records("bureau")}
    assert set(found) == set(written)
    assert len(written) == 4 * 40 * 3
    assert all(r.result == {"total": "1"} and r.inputs == {"a": 1} for r in found.values())
    for store in stores:
        store.close()
