"""check-updates, new-trial and crosscheck against a local HTTP server (pytest-httpserver) replaying
ClinicalTrials.gov API v2 answers recorded by public projects (tests/data/ctgov/PROVENANCE.md).
Nothing leaves the machine: TRIALMETA_CTGOV_URL points the client at the local server.

Expected numbers are the API's own, as printed in the recorded NCT00791778 record: PFS HR 1.09
(95% CI 0.72-1.63, p 0.655), OS HR 1.49 (0.69-3.23, p 0.84), 123 participants STARTED per arm.
"""

from __future__ import annotations

import copy
import json
import shutil
import time

import pytest
import yaml
from werkzeug import Response

from conftest import DATA

CTGOV = DATA / "ctgov"
NCT = "NCT00791778"
RECORD = json.loads((CTGOV / f"{NCT}.json").read_text(encoding="utf-8"))
RAW = (CTGOV / f"{NCT}.json").read_bytes()


@pytest.fixture
def ctgov(httpserver, monkeypatch, tmp_path):
    """The local server as the API's base URL, a fresh cache folder, fast retries."""
    monkeypatch.setenv("TRIALMETA_CTGOV_URL", httpserver.url_for("/api/v2"))
    monkeypatch.setenv("TRIALMETA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRIALMETA_CTGOV_BACKOFF", "0.01")
    monkeypatch.setenv("TRIALMETA_CTGOV_INTERVAL", "0")
    return httpserver


def serve_record(server, body: bytes = RAW, **kw):
    server.expect_request(f"/api/v2/studies/{NCT}").respond_with_data(body, content_type="application/json", **kw)


def serve_batch(server, record: dict):
    server.expect_request("/api/v2/studies").respond_with_json({"studies": [record]})


@pytest.fixture
def drafted(ctgov, run_cli, tmp_path):
    """A registry folder holding the new-trial draft of the recorded record."""
    serve_record(ctgov)
    reg = tmp_path / "reg"
    code, out, err = run_cli("new-trial", NCT, "--out", reg, cwd=tmp_path)
    assert code == 0, err
    return reg


def test_new_trial_writes_a_draft_that_validates_with_the_posted_numbers(drafted, run_cli, tmp_path):
    text = (drafted / "nct00791778.yaml").read_text(encoding="utf-8")
    # the HR, CI and arm sizes exactly as the API printed them
    assert "hr: 1.09\n    ci: [0.72, 1.63]" in text and "hr: 1.49\n    ci: [0.69, 3.23]" in text
    assert text.count("n: 123  # participant flow") == 2 and 'p: "0.655"' in text
    data = yaml.safe_load(text)
    assert data["phase"] == "2" and data["design"]["blinding"] == "double-blind"
    assert data["other_ids"] == ["sponsor 12007", "EudraCT 2008-004429-41", "NIH 2008"]
    assert data["arms"]["experimental"]["label"] == "Sorafenib (Nexavar, BAY43-9006)"
    assert [r["endpoint"] for r in data["results"]] == ["PFS", "OS"]
    assert all(r["status"] == "unverified" and r["source"] == "ctgov" for r in data["results"])
    assert any(p.get("pmid") == "23591401" for p in data["publications"])
    # the CA-125 HR (1.43, 0.93-2.20) has no endpoint in the vocabulary: listed, not dropped
    assert "1.43 (95% CI 0.93-2.20)" in " ".join(data["notes"])
    code, out, err = run_cli("validate", drafted, cwd=tmp_path)
    assert code == 0, err
    assert err.count("unverified result") == 2


def test_new_trial_never_overwrites(drafted, ctgov, run_cli, tmp_path):
    before = (drafted / "nct00791778.yaml").read_bytes()
    code, out, err = run_cli("new-trial", NCT, "--out", drafted, cwd=tmp_path)
    assert code == 1 and "already exists" in err
    assert (drafted / "nct00791778.yaml").read_bytes() == before


def test_check_updates_reports_changes_once_then_what_moved(drafted, ctgov, run_cli, tmp_path):
    serve_batch(ctgov, RECORD)
    state = drafted / ".ctgov-state.json"
    code, out, err = run_cli("check-updates", drafted, "--exit-code", "--max-age", "0", cwd=tmp_path)
    assert code == 1 and "first check: last update posted 2015-09-28" in out and state.exists()
    code, out, err = run_cli("check-updates", drafted, "--exit-code", "--max-age", "0", cwd=tmp_path)
    assert code == 0 and "unchanged" in out and "CHANGED" not in out, out
    # the registry lacks nothing the record posts for PFS/OS; the CA-125 analysis is reported as missing
    assert "posted, not in the registry: Time to First Pathologic CA-125" in out
    # an update: the last-update date moves and an analysis is revised (derived from the recorded record)
    moved = copy.deepcopy(RECORD)
    moved["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2026-11-30"
    moved["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][2]["analyses"][0]["paramValue"] = "1.52"
    ctgov.clear()
    serve_batch(ctgov, moved)
    code, out, err = run_cli("check-updates", drafted, "--exit-code", "--max-age", "0", "--format", "json",
                             cwd=tmp_path)
    assert code == 1
    [trial] = json.loads(out)["trials"]
    assert "last update posted: 2015-09-28 -> 2026-11-30" in trial["changes"]
    assert any("Overall Survival (OS): Hazard Ratio (HR) 1.49" in c and "-> Hazard Ratio (HR) 1.52" in c
               for c in trial["changes"])
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert saved["trials"][NCT]["last_update_posted"] == "2026-11-30"


def test_a_repeated_run_asks_nothing_and_offline_answers_from_the_cache(drafted, ctgov, run_cli, tmp_path):
    serve_batch(ctgov, RECORD)
    assert run_cli("check-updates", drafted, cwd=tmp_path)[0] == 0
    asked = len(ctgov.log)
    assert run_cli("check-updates", drafted, cwd=tmp_path)[0] == 0
    assert len(ctgov.log) == asked  # within --max-age: served from the cache
    ctgov.clear()  # the server now knows nothing
    code, out, err = run_cli("check-updates", drafted, "--offline", "--format", "md", cwd=tmp_path)
    assert code == 0 and f"| NCT00791778 | {NCT} | 2015-09-28 | no |" in out
    assert len(ctgov.log) == 0


def test_offline_without_a_cached_answer_is_a_clear_error(drafted, ctgov, run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALMETA_CACHE_DIR", str(tmp_path / "empty-cache"))
    code, out, err = run_cli("check-updates", drafted, "--offline", cwd=tmp_path)
    assert code == 1 and "--offline: no cached answer" in err
    assert not (drafted / ".ctgov-state.json").exists()


def test_since_reports_only_trials_updated_on_or_after_the_date(drafted, ctgov, run_cli, tmp_path):
    serve_batch(ctgov, RECORD)
    code, out, err = run_cli("check-updates", drafted, "--since", "2016-01-01", "--exit-code", cwd=tmp_path)
    assert code == 0 and "unchanged" in out
    code, out, err = run_cli("check-updates", drafted, "--since", "2015-09-28", "--exit-code", cwd=tmp_path)
    assert code == 1 and "CHANGED" in out


def test_crosscheck_agrees_with_a_faithful_copy_and_finds_an_altered_hr(drafted, ctgov, run_cli, tmp_path):
    serve_batch(ctgov, RECORD)
    file = drafted / "nct00791778.yaml"
    verified = file.read_text(encoding="utf-8").replace("    status: unverified\n", "") \
        .replace("    source: ctgov\n", "")
    file.write_text(verified, encoding="utf-8")
    code, out, err = run_cli("crosscheck", drafted, "--format", "json", "--exit-code", cwd=tmp_path)
    assert code == 0, err
    checks = json.loads(out)["checks"]
    assert [(c["endpoint"], c["verdict"]) for c in checks] == [("PFS", "agree"), ("OS", "agree")]
    # a copy of the registry with the PFS HR mistyped: 1.19 for the posted 1.09
    copy_dir = tmp_path / "altered"
    shutil.copytree(drafted, copy_dir)
    (copy_dir / "nct00791778.yaml").write_text(verified.replace("hr: 1.09", "hr: 1.19"), encoding="utf-8")
    code, out, err = run_cli("crosscheck", copy_dir, "--exit-code", cwd=tmp_path)
    assert code == 1
    assert "PFS   itt                  DIFFER" in out and "HR 1.19 vs 1.09" in out
    state = json.loads((copy_dir / ".ctgov-state.json").read_text(encoding="utf-8"))
    assert [c["verdict"] for c in state["crosscheck"]] == ["differ", "agree"]


# ------------------------------------------------------------------ bad network, bad data: exit 1, nothing written

def _new_trial_fails(run_cli, tmp_path, *ids, timeout="30"):
    out_dir = tmp_path / "drafts"
    code, out, err = run_cli("new-trial", *ids, "--out", out_dir, "--timeout", timeout, cwd=tmp_path)
    assert code == 1, (out, err)
    assert "Traceback" not in err and not out_dir.exists()
    return err


def test_unknown_nct_is_a_404_message(ctgov, run_cli, tmp_path):
    ctgov.expect_request("/api/v2/studies/NCT99999999").respond_with_data("", status=404)
    assert "has no study NCT99999999 (HTTP 404)" in _new_trial_fails(run_cli, tmp_path, "NCT99999999")


def test_malformed_id_asks_nothing(ctgov, run_cli, tmp_path):
    assert "'NCT1234' is not a ClinicalTrials.gov id" in _new_trial_fails(run_cli, tmp_path, "NCT1234")
    assert len(ctgov.log) == 0


def test_500_then_success_is_retried(ctgov, run_cli, tmp_path):
    ctgov.expect_ordered_request(f"/api/v2/studies/{NCT}").respond_with_data("oops", status=500)
    ctgov.expect_ordered_request(f"/api/v2/studies/{NCT}").respond_with_data(RAW, content_type="application/json")
    code, out, err = run_cli("new-trial", NCT, "--out", tmp_path / "drafts", cwd=tmp_path)
    assert code == 0, err
    assert [r.path for r, _ in ctgov.log] == [f"/api/v2/studies/{NCT}"] * 2


def test_persistent_500_gives_up(ctgov, run_cli, tmp_path):
    ctgov.expect_request(f"/api/v2/studies/{NCT}").respond_with_data("down", status=503)
    err = _new_trial_fails(run_cli, tmp_path, NCT)
    assert "HTTP 503" in err and "gave up after 4 tries" in err


def test_truncated_json(ctgov, run_cli, tmp_path):
    serve_record(ctgov, RAW[: len(RAW) // 2])
    assert "is not valid JSON" in _new_trial_fails(run_cli, tmp_path, NCT)


def test_html_error_page(ctgov, run_cli, tmp_path):
    page = b"<html><head><title>Service Unavailable</title></head><body><h1>Maintenance</h1></body></html>"
    ctgov.expect_request(f"/api/v2/studies/{NCT}").respond_with_data(page, content_type="text/html")
    assert "with a web page, not JSON (Service Unavailable Maintenance)" in _new_trial_fails(run_cli, tmp_path, NCT)


def test_50_mb_response_is_refused(ctgov, run_cli, tmp_path):
    def huge(request):
        chunk = b" " * (1024 * 1024)
        return Response((chunk for _ in range(50)), content_type="application/json")  # streamed, no length

    ctgov.expect_request(f"/api/v2/studies/{NCT}").respond_with_handler(huge)
    assert "larger than 20 MB" in _new_trial_fails(run_cli, tmp_path, NCT)


def test_slow_server_times_out(ctgov, run_cli, tmp_path):
    def slow(request):
        time.sleep(1.0)
        return Response(RAW, content_type="application/json")

    ctgov.expect_request(f"/api/v2/studies/{NCT}").respond_with_handler(slow)
    err = _new_trial_fails(run_cli, tmp_path, NCT, timeout="0.2")
    assert "did not answer NCT00791778 within 0.2 s" in err


def test_missing_modules_api_change(ctgov, run_cli, tmp_path):
    changed = {k: v for k, v in RECORD.items() if k != "protocolSection"}
    changed["protocol"] = RECORD["protocolSection"]  # a renamed module
    serve_record(ctgov, json.dumps(changed).encode())
    assert "has no protocolSection: the API may have changed" in _new_trial_fails(run_cli, tmp_path, NCT)


def test_unknown_fields_are_ignored(ctgov, run_cli, tmp_path):
    extra = copy.deepcopy(RECORD)
    extra["protocolSection"]["futureModule"] = {"x": 1}
    extra["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][0]["analyses"][0]["newField"] = "y"
    serve_record(ctgov, json.dumps(extra).encode())
    code, out, err = run_cli("new-trial", NCT, "--out", tmp_path / "drafts", cwd=tmp_path)
    assert code == 0, err


def test_check_updates_failure_leaves_the_state_file_as_it_was(drafted, ctgov, run_cli, tmp_path):
    serve_batch(ctgov, RECORD)
    assert run_cli("check-updates", drafted, cwd=tmp_path)[0] == 0
    state = (drafted / ".ctgov-state.json").read_bytes()
    ctgov.clear()
    ctgov.expect_request("/api/v2/studies").respond_with_data(b'{"studies": [', content_type="application/json")
    code, out, err = run_cli("check-updates", drafted, "--max-age", "0", cwd=tmp_path)
    assert code == 1 and "not valid JSON" in err
    assert (drafted / ".ctgov-state.json").read_bytes() == state


def test_dangling_group_ids_are_tolerated_and_reported(ctgov, run_cli, tmp_path):
    # derived from the recorded record: the OS analysis names a third group the outcome does not list
    dangling = copy.deepcopy(RECORD)
    dangling["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][2]["analyses"][0]["groupIds"].append("OG002")
    serve_record(ctgov, json.dumps(dangling).encode())
    code, out, err = run_cli("new-trial", NCT, "--out", tmp_path / "d", cwd=tmp_path)
    assert code == 0, err
    assert "Overall Survival (OS): group ids OG002 name no group of the outcome" in err
    data = yaml.safe_load((tmp_path / "d" / "nct00791778.yaml").read_text(encoding="utf-8"))
    assert "Group ids not in the outcome's groups: OG002." in data["results"][1]["notes"]


def test_direction_not_stated_is_said_in_the_draft(ctgov, run_cli, tmp_path):
    silent = copy.deepcopy(RECORD)
    for om in silent["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"]:
        for a in om["analyses"]:
            del a["estimateComment"]
    serve_record(ctgov, json.dumps(silent).encode())
    code, out, err = run_cli("new-trial", NCT, "--out", tmp_path / "d", cwd=tmp_path)
    assert code == 0, err
    assert "PFS: Hazard Ratio (HR) 1.09 (95% CI 0.72-1.63), p 0.655 (direction not stated in the record)" in out
    data = yaml.safe_load((tmp_path / "d" / "nct00791778.yaml").read_text(encoding="utf-8"))
    assert "The HR's direction is not a structured field of the record" in data["results"][0]["notes"]


def test_control_vs_experimental_is_not_imported(ctgov, run_cli, tmp_path):
    flipped = copy.deepcopy(RECORD)
    flipped["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][2]["analyses"][0]["estimateComment"] = \
        "Placebo compared to Sorafenib"
    serve_record(ctgov, json.dumps(flipped).encode())
    code, out, err = run_cli("new-trial", NCT, "--out", tmp_path / "d", cwd=tmp_path)
    assert code == 0, err
    assert "not imported: the record states it as control vs experimental" in out
    data = yaml.safe_load((tmp_path / "d" / "nct00791778.yaml").read_text(encoding="utf-8"))
    assert [r["endpoint"] for r in data["results"]] == ["PFS"]


def test_crosscheck_does_not_compare_ctgov_entries_with_themselves(drafted, ctgov, run_cli, tmp_path):
    serve_batch(ctgov, RECORD)
    code, out, err = run_cli("crosscheck", drafted, "--format", "json", cwd=tmp_path)
    assert code == 0 and json.loads(out)["checks"] == []
