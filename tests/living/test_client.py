"""The client's pagination, answer store and request shape, against recorded ClinicalTrials.gov pages
(genomoncology/biomcp's receipted captures, tests/data/ctgov/PROVENANCE.md) served locally."""

from __future__ import annotations

import json

import pytest

from conftest import DATA
from trialmeta.living.client import CtgovClient, RegistryFetchError, user_agent
from trialmeta.living.store import ResponseStore

PAGE1 = json.loads((DATA / "ctgov" / "search_phelan_limit5_20260811.json").read_text(encoding="utf-8"))
PAGE2 = json.loads((DATA / "ctgov" / "search_phelan_next_20260811.json").read_text(encoding="utf-8"))


@pytest.fixture
def client(httpserver, tmp_path):
    return CtgovClient(ResponseStore(tmp_path / "cache"), url=httpserver.url_for("/api/v2"), backoff=0.01,
                       min_interval=0)


def test_batched_query_follows_next_page_token(httpserver, client):
    def pages(request):
        from werkzeug import Response

        token = request.args.get("pageToken")
        # the recorded pages 1 and 2; past page 2 (whose own token leads further) a final empty page,
        # built here, not recorded
        body = {None: PAGE1, PAGE1["nextPageToken"]: PAGE2}.get(token, {"studies": []})
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/api/v2/studies").respond_with_handler(pages)
    ids = [s["protocolSection"]["identificationModule"]["nctId"] for s in PAGE1["studies"] + PAGE2["studies"]]
    got = client.studies(ids, ("NCTId", "OverallStatus"))
    assert [s["protocolSection"]["identificationModule"]["nctId"] for s in got] == ids
    # page 2 carries a token of its own: the client followed it once more, so three requests; every one
    # asked narrowly, named trialmeta, and passed the ids in one batch
    assert len(httpserver.log) == 3 and httpserver.log[2][0].args["pageToken"] == PAGE2["nextPageToken"]
    first, second = httpserver.log[0][0], httpserver.log[1][0]
    assert first.args["fields"] == "NCTId,OverallStatus" and first.args["filter.ids"] == ",".join(ids)
    assert second.args["pageToken"] == PAGE1["nextPageToken"]
    assert first.headers["User-Agent"] == user_agent() and user_agent().startswith("trialmeta/")


def test_store_serves_fresh_answers_and_offline_any(httpserver, client, tmp_path):
    httpserver.expect_request("/api/v2/studies").respond_with_json({"studies": []})
    assert client.studies(["NCT00791778"]) == []
    assert client.studies(["NCT00791778"]) == [] and client.requests == 1
    stale = CtgovClient(ResponseStore(tmp_path / "cache", max_age=0), url=client.url, min_interval=0)
    assert CtgovClient(ResponseStore(tmp_path)).min_interval == 1.2  # the polite default
    stale.studies(["NCT00791778"])
    assert stale.requests == 1  # too old: asked again
    offline = CtgovClient(ResponseStore(tmp_path / "cache", max_age=0), url=client.url, offline=True)
    assert offline.studies(["NCT00791778"]) == [] and offline.requests == 0
    with pytest.raises(RegistryFetchError, match="--offline: no cached answer"):
        offline.studies(["NCT02437318"])


def test_base_url_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIALMETA_CTGOV_URL", "http://mirror.example/api/v2/")
    assert CtgovClient(ResponseStore(tmp_path)).url == "http://mirror.example/api/v2"
    monkeypatch.delenv("TRIALMETA_CTGOV_URL")
    assert CtgovClient(ResponseStore(tmp_path)).url == "https://clinicaltrials.gov/api/v2"


def test_requests_are_spaced_politely(httpserver, tmp_path):
    import time

    httpserver.expect_request("/api/v2/studies/NCT00791778").respond_with_json({"protocolSection": {}})
    spaced = CtgovClient(ResponseStore(tmp_path / "c", max_age=0), url=httpserver.url_for("/api/v2"),
                         min_interval=0.3)
    start = time.monotonic()
    for _ in range(3):
        spaced.study("NCT00791778")
    assert spaced.requests == 3 and time.monotonic() - start >= 0.6


def test_429_is_retried_after_the_wait_it_asks(httpserver, client):
    httpserver.expect_ordered_request("/api/v2/studies/NCT00791778").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "0"})
    httpserver.expect_ordered_request("/api/v2/studies/NCT00791778").respond_with_json({"protocolSection": {}})
    assert client.study("NCT00791778") == {"protocolSection": {}} and client.requests == 2
