"""The service's endpoints: what a platform sends, what it gets back."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import perfscore
from perfscore.loading import load_document
from perfscore.service.app import KEY_SECONDS

from .conftest import ROOT, SEED, SHAOYANG, Api, make_api

PROBLEM = "application/problem+json"


def _seed_inputs() -> dict[str, object]:
    data, _ = load_document(SEED)
    return json.loads(json.dumps(data, default=str))


def _with_version(text: str, version: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("version:"):
            line = f'version: "{version}"'
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_health_openapi_docs_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok", "version": perfscore.__version__}
    spec = api.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    paths = set(spec["paths"])
    assert {
        "/v1/rubrics",
        "/v1/rubrics/{rubric_id}/versions/{version}",
        "/v1/rubrics/{rubric_id}/input-schema",
        "/v1/rubrics/{rubric_id}/score",
        "/v1/rubrics/{rubric_id}/score-batch",
        "/v1/rubrics/{rubric_id}/review",
        "/v1/diff",
        "/v1/records/{record_id}",
    } <= paths
    assert "swagger" in api.client.get("/docs").text.lower()
    metrics = api.client.get("/metrics").text
    assert 'perfscore_requests_total{method="GET",route="/healthz",status="200"}' in metrics


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer psk_not-a-key", "Basic dXNlcjpwYXNz", "bearer "]
)
def test_a_missing_or_wrong_key_is_401_as_a_problem(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = api.client.get("/v1/rubrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["type"] == "/problems/unauthorized"
    assert body["status"] == 401
    assert body["instance"] == "/v1/rubrics"


def test_a_revoked_key_no_longer_works(api: Api) -> None:
    assert api.client.get("/v1/rubrics", headers=api.headers()).status_code == 200
    assert api.store.revoke_key(api.key_a)
    time.sleep(KEY_SECONDS)  # a worker keeps a key's answer this long
    assert api.client.get("/v1/rubrics", headers=api.headers()).status_code == 401
    assert not api.store.revoke_key(api.key_a)


def test_keys_are_stored_hashed(api: Api) -> None:
    import sqlalchemy as sa

    with api.store.engine.connect() as c:
        stored = [row[0] for row in c.execute(sa.text("SELECT key_hash FROM api_keys"))]
    assert len(stored) == 2
    assert api.key_a not in stored
    assert all(len(h) == 64 for h in stored)


def test_post_a_rubric_then_list_and_read_it(api: Api) -> None:
    text = SHAOYANG.read_text(encoding="utf-8")
    created = api.post_rubric(text)
    assert created.status_code == 201, created.text
    summary = created.json()
    rubric = perfscore.load_rubric(SHAOYANG)
    assert summary["id"] == rubric.id
    assert summary["version"] == rubric.version
    assert summary["hash"] == perfscore.content_hash(rubric)
    assert summary["status"] == "published"
    again = api.post_rubric(text)
    assert again.status_code == 200
    assert again.json()["hash"] == summary["hash"]
    listed = api.client.get("/v1/rubrics", headers=api.headers()).json()["rubrics"]
    assert [(r["id"], r["version"]) for r in listed] == [(rubric.id, rubric.version)]
    one = api.client.get(
        f"/v1/rubrics/{rubric.id}/versions/{rubric.version}", headers=api.headers()
    ).json()
    # the stored text is the composed rubric: it loads alone and has the same content
    reloaded = perfscore.loads_rubric(one["text"])
    assert perfscore.content_hash(reloaded) == summary["hash"]


def test_other_content_under_the_same_version_is_a_conflict(api: Api) -> None:
    assert api.post_rubric(_with_version(_demo(), "7")).status_code == 201
    changed = _with_version(_demo().replace("weight: 40", "weight: 40 ", 1), "7")
    renamed = _with_version(_demo(), "7").replace(_title(), "another title", 1)
    response = api.post_rubric(renamed)
    assert response.status_code == 409, response.text
    assert response.json()["type"] == "/problems/version-conflict"
    assert api.post_rubric(changed).status_code == 200  # same content, other spacing


def _demo() -> str:
    return (ROOT / "examples" / "demo" / "rubric.yaml").read_text(encoding="utf-8")


def _title() -> str:
    return str(yaml.safe_load(_demo())["title"])


def test_an_invalid_rubric_is_422_with_every_issue_located(api: Api) -> None:
    bad = _demo().replace("weight:", "weigth:", 1)
    response = api.post_rubric(bad, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "/problems/invalid-rubric"
    assert body["title"] == "Invalid rubric"
    codes = [issue["code"] for issue in body["issues"]]
    assert "schema.unknown_key" in codes
    located = body["issues"][codes.index("schema.unknown_key")]["location"]
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "weigth:" in t)
    assert located["line"] == line
    chinese = api.post_rubric(bad, **{"Accept-Language": "zh-CN"})
    assert chinese.json()["title"] == "评分表无效"


@pytest.mark.parametrize(
    ("header", "title"),
    [
        (None, "评分表无效"),
        ("fr-FR, en;q=0.5", "Invalid rubric"),
        ("en;q=0.2, zh;q=0.8", "评分表无效"),
        ("de", "评分表无效"),
    ],
)
def test_the_language_follows_accept_language(api: Api, header: str | None, title: str) -> None:
    extra = {} if header is None else {"Accept-Language": header}
    response = api.post_rubric("id: [", **extra)
    assert response.json()["title"] == title


def test_an_unknown_media_type_is_415(api: Api) -> None:
    response = api.post_rubric(_demo(), **{"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["type"] == "/problems/unsupported-media"


def test_json_and_toml_rubrics_are_taken(api: Api) -> None:
    rubric = perfscore.loads_rubric(_demo())
    as_json = perfscore.dump_rubric(rubric, "json")
    response = api.post_rubric(as_json, **{"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["hash"] == perfscore.content_hash(rubric)


def test_score_the_seed_department_and_read_its_record(api: Api) -> None:
    assert api.post_rubric(SHAOYANG.read_text(encoding="utf-8")).status_code == 201
    rubric_id = perfscore.load_rubric(SHAOYANG).id
    inputs = _seed_inputs()
    response = api.client.post(f"/v1/rubrics/{rubric_id}/score", json=inputs, headers=api.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == "90.00"
    assert body["grade"] == "良好"
    expected = perfscore.compile_rubric(perfscore.load_rubric(SHAOYANG)).score(inputs)
    record_id = body.pop("record_id")
    assert json.loads(json.dumps(expected.to_dict(), default=str)) == {
        k: v for k, v in body.items() if k in expected.to_dict()
    }
    record = api.client.get(f"/v1/records/{record_id}", headers=api.headers()).json()
    assert record["record_id"] == record_id
    assert record["inputs"] == inputs
    assert record["result"]["total"] == "90.00"
    assert record["rubric"]["hash"] == perfscore.content_hash(perfscore.load_rubric(SHAOYANG))
    assert record["perfscore_version"] == perfscore.__version__
    assert record["inputs_hash"].startswith("sha256:")


def test_invalid_inputs_are_422_with_the_issues(api: Api) -> None:
    assert api.post_rubric(SHAOYANG.read_text(encoding="utf-8")).status_code == 201
    rubric_id = perfscore.load_rubric(SHAOYANG).id
    inputs = _seed_inputs()
    inputs["staff_authorized"] = -1
    inputs["staff_autorized"] = 3
    response = api.client.post(f"/v1/rubrics/{rubric_id}/score", json=inputs, headers=api.headers())
    assert response.status_code == 422
    codes = {issue["code"] for issue in response.json()["issues"]}
    assert "input.unknown" in codes
    for bad, kind in ((b"[1, 2]", "inputs-not-object"), (b"{", "bad-json")):
        response = api.client.post(
            f"/v1/rubrics/{rubric_id}/score", content=bad, headers=api.headers()
        )
        assert response.json()["type"] == f"/problems/{kind}"


def test_the_shipped_rubrics_score_when_the_service_allows_them(api: Api, db_url: str) -> None:
    rubric_id = perfscore.load_rubric(SHAOYANG).id
    response = api.client.post(
        f"/v1/rubrics/{rubric_id}/score", json=_seed_inputs(), headers=api.headers()
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == "90.00"


def test_a_service_that_refuses_shipped_rubrics(tmp_path: Path) -> None:
    from perfscore.service import ServiceSettings

    settings = ServiceSettings(db_url=f"sqlite:///{tmp_path / 's.db'}", allow_shipped=False)
    for api in make_api(settings):
        rubric_id = perfscore.load_rubric(SHAOYANG).id
        response = api.client.post(
            f"/v1/rubrics/{rubric_id}/score", json=_seed_inputs(), headers=api.headers()
        )
        assert response.status_code == 404
        variant = (ROOT / "examples" / "local-variant" / "rubric.yaml").read_text(encoding="utf-8")
        refused = api.post_rubric(variant)
        assert refused.status_code == 422
        assert refused.json()["type"] == "/problems/invalid-rubric"
        assert refused.json()["issues"][0]["code"] == "compose.shipped_refused"


def test_input_schema_of_the_version_in_force(api: Api) -> None:
    assert api.post_rubric(SHAOYANG.read_text(encoding="utf-8")).status_code == 201
    rubric = perfscore.load_rubric(SHAOYANG)
    schema = api.client.get(f"/v1/rubrics/{rubric.id}/input-schema", headers=api.headers())
    assert schema.status_code == 200
    sections = {"unit", "claimed", "overrides", "judged"}  # an inputs file's own sections
    assert set(schema.json()["properties"]) == set(rubric.inputs) | sections
    bad = api.client.get(
        f"/v1/rubrics/{rubric.id}/input-schema?on=2023-13-01", headers=api.headers()
    )
    assert bad.status_code == 400
    assert bad.json()["type"] == "/problems/bad-date"


def test_tenants_never_see_each_others_rubrics_or_records(api: Api) -> None:
    demo = _with_version(_demo(), "private-1")
    assert api.post_rubric(demo).status_code == 201
    rubric = perfscore.loads_rubric(demo)
    inputs = yaml.safe_load((ROOT / "examples" / "demo" / "inputs.yaml").read_text("utf-8"))
    scored = api.client.post(f"/v1/rubrics/{rubric.id}/score", json=inputs, headers=api.headers())
    assert scored.status_code == 200, scored.text
    record_id = scored.json()["record_id"]
    b = api.headers(api.key_b)
    assert api.client.get("/v1/rubrics", headers=b).json() == {"rubrics": []}
    for response in (
        api.client.get(f"/v1/rubrics/{rubric.id}/versions/private-1", headers=b),
        api.client.get(f"/v1/rubrics/{rubric.id}/input-schema", headers=b),
        api.client.post(f"/v1/rubrics/{rubric.id}/score", json=inputs, headers=b),
        api.client.get(f"/v1/records/{record_id}", headers=b),
        api.client.post(
            "/v1/diff",
            json={
                "old": {"id": rubric.id, "version": "private-1"},
                "new": {"id": rubric.id, "version": "private-1"},
            },
            headers=b,
        ),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM
    # B may store a rubric with the same id and version: it is B's own
    assert api.post_rubric(demo, key=api.key_b).status_code == 201
    mine = api.client.get(f"/v1/records/{record_id}", headers=api.headers())
    assert mine.status_code == 200


def test_score_batch_from_jsonl_and_csv_keeps_the_good_rows(api: Api) -> None:
    demo = _demo()
    assert api.post_rubric(demo).status_code == 201
    rubric = perfscore.loads_rubric(demo)
    compiled = perfscore.compile_rubric(rubric)
    good = yaml.safe_load((ROOT / "examples" / "demo" / "inputs.yaml").read_text("utf-8"))
    good = json.loads(json.dumps(good, default=str))
    rows = [good, {**good, next(iter(good)): "not a number"}, good]
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    response = api.client.post(
        f"/v1/rubrics/{rubric.id}/score-batch",
        content=body.encode(),
        headers=api.headers(**{"Content-Type": "application/x-ndjson"}),
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["status"] for line in lines] == ["scored", "failed", "scored"]
    assert [line["row"] for line in lines] == [1, 2, 3]
    assert lines[1]["issues"][0]["code"].startswith("input.")
    expected = compiled.score(good).total
    assert Decimal(lines[0]["result"]["total"]) == expected
    for line in (lines[0], lines[2]):
        record = api.client.get(f"/v1/records/{line['record_id']}", headers=api.headers())
        assert record.json()["result"]["total"] == line["result"]["total"]
    header = list(good)
    csv_body = ",".join(header) + "\n" + ",".join(str(good[k]) for k in header) + "\n"
    from_csv = api.client.post(
        f"/v1/rubrics/{rubric.id}/score-batch",
        content=csv_body.encode(),
        headers=api.headers(**{"Content-Type": "text/csv"}),
    )
    assert [json.loads(x)["result"]["total"] for x in from_csv.text.splitlines()] == [str(expected)]


def test_diff_two_stored_versions_over_a_population(api: Api) -> None:
    old = _with_version(_demo(), "1")
    new = _with_version(_demo(), "2")
    first_weight = next(line for line in new.splitlines() if "weight:" in line)
    assert api.post_rubric(old).status_code == 201
    assert api.post_rubric(new).status_code == 201
    rubric = perfscore.loads_rubric(old)
    good = yaml.safe_load((ROOT / "examples" / "demo" / "inputs.yaml").read_text("utf-8"))
    response = api.client.post(
        "/v1/diff",
        json={
            "old": {"id": rubric.id, "version": "1"},
            "new": {"id": rubric.id, "version": "2"},
            "population": [json.loads(json.dumps(good, default=str)), "not an object"],
        },
        headers=api.headers(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["scored"] == 1
    assert body["summary"]["failed"] == 1
    assert len(body["departments"]) == 2
    assert first_weight  # the versions differ only in their version: no score moved
    assert body["summary"]["unchanged"] == 1
    assert body["summary"]["grade_changed"] == 0


def test_limits_body_size_rows_and_rate(tmp_path: Path) -> None:
    from perfscore.service import ServiceSettings

    settings = ServiceSettings(
        db_url=f"sqlite:///{tmp_path / 's.db'}",
        max_body_bytes=2000,
        max_batch_rows=2,
        rate_per_second=0.5,
        rate_burst=6,
    )
    for api in make_api(settings):
        big = api.post_rubric("#" * 3000)
        assert big.status_code == 413
        assert big.json()["type"] == "/problems/too-large"
        rubric_id = perfscore.load_rubric(SHAOYANG).id
        rows = b"{}\n{}\n{}\n"
        many = api.client.post(
            f"/v1/rubrics/{rubric_id}/score-batch",
            content=rows,
            headers=api.headers(**{"Content-Type": "application/x-ndjson"}),
        )
        assert many.status_code == 413
        assert many.json()["type"] == "/problems/too-many-rows"
        statuses = [
            api.client.get("/v1/rubrics", headers=api.headers()).status_code for _ in range(6)
        ]
        assert statuses[-1] == 429
        limited = api.client.get("/v1/rubrics", headers=api.headers())
        assert limited.headers["retry-after"].isdigit()
        # another key has its own bucket
        assert api.client.get("/v1/rubrics", headers=api.headers(api.key_b)).status_code == 200


def test_extends_resolves_among_the_tenants_own_rubrics_only(api: Api) -> None:
    base = _with_version(_demo(), "base-1")
    assert api.post_rubric(base).status_code == 201
    base_id = perfscore.loads_rubric(base).id
    variant = f'extends: {base_id}\nid: demo-variant\ntitle: A variant\nversion: "1"\n'
    made = api.post_rubric(variant)
    assert made.status_code == 201, made.text
    pinned = api.post_rubric(
        variant.replace(f"extends: {base_id}", f"extends: {base_id}/base-1").replace(
            'version: "1"', 'version: "2"'
        )
    )
    assert pinned.status_code == 201, pinned.text
    # the composed text is stored: the variant loads alone, with the base's indicators
    text = api.client.get("/v1/rubrics/demo-variant/versions/1", headers=api.headers()).json()[
        "text"
    ]
    assert "extends" not in perfscore.loads_rubric(text).model_dump()
    assert len(perfscore.loads_rubric(text).indicators) == len(
        perfscore.loads_rubric(base).indicators
    )
    other = api.post_rubric(variant, key=api.key_b)
    assert other.status_code == 422
    assert other.json()["issues"][0]["code"] == "compose.reference"


def test_the_version_in_force_on_a_date_is_the_one_scored(api: Api) -> None:
    demo = _demo()
    inputs = yaml.safe_load((ROOT / "examples" / "demo" / "inputs.yaml").read_text("utf-8"))
    inputs = json.loads(json.dumps(inputs, default=str))
    rubric_id = perfscore.loads_rubric(demo).id
    versions = {
        "2023": "effective: {from: 2023-01-01, until: 2023-12-31}\nstatus: retired\n",
        "2024": "effective: {from: 2024-01-01}\n",
        "2025-draft": "effective: {from: 2025-01-01}\nstatus: draft\n",
    }
    for version, head in versions.items():
        text = _with_version(demo, version).replace("title:", head + "title:", 1)
        assert api.post_rubric(text).status_code == 201, api.post_rubric(text).text
    for day, expected in (
        ("2023-06-30", "2023"),
        ("2024-02-01", "2024"),
        ("2026-01-01", "2024"),  # the draft is never in force
    ):
        r = api.client.post(
            f"/v1/rubrics/{rubric_id}/score?on={day}", json=inputs, headers=api.headers()
        )
        assert r.status_code == 200, r.text
        assert r.json()["rubric"]["version"] == expected, day
    early = api.client.post(
        f"/v1/rubrics/{rubric_id}/score?on=2022-12-31", json=inputs, headers=api.headers()
    )
    assert early.status_code == 404
    assert early.json()["type"] == "/problems/not-in-force"
    listed = api.client.get("/v1/rubrics", headers=api.headers()).json()["rubrics"]
    assert {r["version"]: r["status"] for r in listed} == {
        "2023": "retired",
        "2024": "published",
        "2025-draft": "draft",
    }


def test_review_a_self_evaluation_and_record_it(api: Api) -> None:
    from perfscore.loading import load_document

    assert api.post_rubric(SHAOYANG.read_text(encoding="utf-8")).status_code == 201
    rubric = perfscore.load_rubric(SHAOYANG)
    path = ROOT / "examples" / "daxiang-emergency-2023" / "self-evaluation.yaml"
    data, _ = load_document(path)
    body = json.loads(json.dumps(data, default=str))
    response = api.client.post(f"/v1/rubrics/{rubric.id}/review", json=body, headers=api.headers())
    assert response.status_code == 200, response.text
    got = response.json()
    expected = perfscore.compile_rubric(rubric).review(data).to_dict()
    record_id = got.pop("record_id")
    assert got == json.loads(json.dumps(expected, default=str))
    kinds = {f["kind"] for f in got["findings"]}
    assert "over_claimed" in kinds
    assert set(got) >= {
        "findings",
        "claimed_total",
        "computed_total",
        "claimed_grade",
        "computed_grade",
    }
    record = api.client.get(f"/v1/records/{record_id}", headers=api.headers()).json()
    assert record["kind"] == "review"
    assert record["result"]["computed_total"] == got["computed_total"]
    loose = api.client.post(
        f"/v1/rubrics/{rubric.id}/review?tolerance=100", json=body, headers=api.headers()
    )
    assert {f["kind"] for f in loose.json()["findings"]} < kinds
    bad = api.client.post(
        f"/v1/rubrics/{rubric.id}/review?tolerance=-1", json=body, headers=api.headers()
    )
    assert bad.status_code == 400
    assert bad.json()["type"] == "/problems/bad-tolerance"
