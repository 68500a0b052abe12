"""The ClinicalTrials.gov API v2 client: the one module of trialmeta that speaks HTTP.

* Base URL ``https://clinicaltrials.gov/api/v2``, or the environment variable
  ``TRIALMETA_CTGOV_URL`` (tests, mirrors).
* httpx with connect/read timeouts; retries with exponential backoff (tenacity) on 429, 5xx
  and connection errors (a 429's ``Retry-After`` is honoured up to a bound); a polite pause
  between requests (1.2 s: ClinicalTrials.gov allows about 50 requests a minute); a User-Agent
  naming trialmeta and its version.
* Every answer is kept in an on-disk store (:mod:`trialmeta.living.store`) in the user's cache
  folder: a repeated run within the freshness window asks nothing, and ``offline=True``
  answers from the store alone. (A store with an explicit freshness window rather than an HTTP
  cache such as hishel: the check must ask again after ``max_age`` whatever the server's cache
  headers say, and ``--offline`` must answer from any stored body, fresh or not.)
* A response larger than ``max_bytes`` is refused while it streams in (never held whole), and
  anything that is not a JSON object (an HTML error page, a truncated body) is a clear
  :class:`RegistryFetchError`, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from importlib import metadata
from urllib.parse import urlencode

import httpx
import tenacity

from trialmeta.errors import TrialmetaError
from trialmeta.living.store import ResponseStore

DEFAULT_URL = "https://clinicaltrials.gov/api/v2"
NCT_RE = re.compile(r"^NCT\d{8}$")
#: The widest request: one study's record with its results is well under 5 MB.
MAX_BYTES = 20 * 1024 * 1024
#: Studies per page of a batched query (the API's maximum is 1000).
PAGE_SIZE = 100


class RegistryFetchError(TrialmetaError):
    """ClinicalTrials.gov could not be asked, or answered something unusable."""


class _Retryable(Exception):
    """A failure worth another try (429, 5xx, connection or timeout); carries the message."""

    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


def base_url() -> str:
    return os.environ.get("TRIALMETA_CTGOV_URL", DEFAULT_URL).rstrip("/")


def user_agent() -> str:
    try:
        version = metadata.version("trialmeta")
    except metadata.PackageNotFoundError:  # running from a source tree
        version = "0.1.0"
    return f"trialmeta/{version} (living-evidence client; +https://pypi.org/project/trialmeta/)"


def check_nct(nct_id: str) -> str:
    value = str(nct_id).strip().upper()
    if not NCT_RE.match(value):
        raise RegistryFetchError(f"{nct_id!r} is not a ClinicalTrials.gov id (expected NCT and 8 digits, "
                                 "e.g. NCT02437318)")
    return value


@dataclass
class CtgovClient:
    """Ask ClinicalTrials.gov for study records. ``offline=True`` answers from the store only."""

    store: ResponseStore
    offline: bool = False
    timeout: float = 30.0
    max_bytes: int = MAX_BYTES
    attempts: int = 4
    # first wait between tries, doubled each time (capped at 30 s); TRIALMETA_CTGOV_BACKOFF overrides (tests)
    backoff: float = field(default_factory=lambda: float(os.environ.get("TRIALMETA_CTGOV_BACKOFF", "1")))
    # polite pause between two requests: ClinicalTrials.gov asks for at most ~50 requests a minute per
    # address; TRIALMETA_CTGOV_INTERVAL overrides (a local mirror, tests)
    min_interval: float = field(default_factory=lambda: float(os.environ.get("TRIALMETA_CTGOV_INTERVAL", "1.2")))
    url: str = field(default_factory=base_url)
    requests: int = 0             # requests actually sent (tests and summaries read it)
    _last: float = 0.0

    # ------------------------------------------------------------------ public

    def study(self, nct_id: str, fields: tuple[str, ...] = ()) -> dict:
        """One study's record (``GET /studies/{nctId}``)."""
        nct = check_nct(nct_id)
        params = {"format": "json"}
        if fields:
            params["fields"] = ",".join(fields)
        data = self.get_json(f"/studies/{nct}", params, what=nct)
        if "protocolSection" not in data:
            raise RegistryFetchError(f"ClinicalTrials.gov's answer for {nct} has no protocolSection: the API may "
                                     "have changed; nothing was written")
        return data

    def studies(self, nct_ids: list[str], fields: tuple[str, ...] = ()) -> list[dict]:
        """Several studies in one batched query (``filter.ids``), following ``nextPageToken``."""
        ids = [check_nct(n) for n in nct_ids]
        out: list[dict] = []
        token = None
        for _ in range(1000):  # a bound: a server that always returns a token cannot loop us forever
            params = {"format": "json", "filter.ids": ",".join(ids), "pageSize": str(PAGE_SIZE)}
            if fields:
                params["fields"] = ",".join(fields)
            if token:
                params["pageToken"] = token
            page = self.get_json("/studies", params, what="the batched query")
            got = page.get("studies")
            if not isinstance(got, list):
                raise RegistryFetchError("ClinicalTrials.gov's answer to the batched query has no 'studies' list: "
                                         "the API may have changed; nothing was written")
            out.extend(got)
            token = page.get("nextPageToken")
            if not token:
                return out
        raise RegistryFetchError("ClinicalTrials.gov kept returning a nextPageToken after 1000 pages; stopped")

    # ------------------------------------------------------------------ transport

    def get_json(self, path: str, params: dict, what: str) -> dict:
        full = f"{self.url}{path}?{urlencode(sorted(params.items()))}"
        body = self.store.get(full, fresh_only=not self.offline)
        if body is None:
            if self.offline:
                raise RegistryFetchError(f"--offline: no cached answer for {what} ({full}); run once online first")
            body = self._fetch(full, what)
            data = _parse(body, what)
            self.store.put(full, body)
            return data
        return _parse(body, what)

    def _fetch(self, full: str, what: str) -> bytes:
        retry = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=_wait(self.backoff),
            retry=tenacity.retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            with httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=True,
                              headers={"User-Agent": user_agent(), "Accept": "application/json"}) as http:
                for attempt in retry:
                    with attempt:
                        return self._once(http, full, what)
        except _Retryable as exc:
            raise RegistryFetchError(f"{exc} (gave up after {self.attempts} tries); nothing was written") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, http: httpx.Client, full: str, what: str) -> bytes:
        pause = self.min_interval - (time.monotonic() - self._last)
        if pause > 0:
            time.sleep(pause)
        self._last = time.monotonic()
        self.requests += 1
        try:
            with http.stream("GET", full) as resp:
                if resp.status_code == 429 or resp.status_code >= 500:
                    raise _Retryable(f"ClinicalTrials.gov answered HTTP {resp.status_code} for {what}",
                                     _retry_after(resp.headers.get("Retry-After")))
                if resp.status_code == 404:
                    raise RegistryFetchError(f"ClinicalTrials.gov has no study {what} (HTTP 404); check the id")
                if resp.status_code >= 400:
                    raise RegistryFetchError(f"ClinicalTrials.gov refused the request for {what} "
                                             f"(HTTP {resp.status_code}): {_snippet(resp.read())}")
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise RegistryFetchError(_too_big(what, int(declared), self.max_bytes))
                chunks, size = [], 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise RegistryFetchError(_too_big(what, size, self.max_bytes))
                    chunks.append(chunk)
                kind = resp.headers.get("Content-Type", "")
                body = b"".join(chunks)
        except httpx.TimeoutException:
            raise _Retryable(f"ClinicalTrials.gov did not answer {what} within {self.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"could not reach ClinicalTrials.gov at {self.url} ({type(exc).__name__}: "
                             f"{exc or 'connection failed'})") from None
        if "html" in kind.lower():
            raise RegistryFetchError(f"ClinicalTrials.gov answered {what} with a web page, not JSON "
                                     f"({_snippet(body)}); nothing was written")
        return body


def _parse(body: bytes, what: str) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryFetchError(f"ClinicalTrials.gov's answer for {what} is not valid JSON ({exc}; it may have "
                                 f"been cut short: {len(body)} bytes received); nothing was written") from None
    if not isinstance(data, dict):
        raise RegistryFetchError(f"ClinicalTrials.gov's answer for {what} is a JSON {type(data).__name__}, "
                                 "not an object; nothing was written")
    return data


def _wait(first: float):
    expo = tenacity.wait_exponential(multiplier=first, max=30)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "wait", None)
        return min(asked, 60.0) if asked is not None else expo(state)
    return wait


def _retry_after(value: str | None) -> float | None:
    return float(value) if value and value.strip().isdigit() else None


def _too_big(what: str, size: int, limit: int) -> str:
    return (f"ClinicalTrials.gov's answer for {what} is larger than {limit // (1024 * 1024)} MB ({size} bytes or "
            "more); refused, nothing was written")


def _snippet(body: bytes) -> str:
    text = re.sub(r"<[^>]+>", " ", body[:2000].decode("utf-8", "replace"))
    text = " ".join(text.split())
    return (text[:120] + "...") if len(text) > 120 else text or "empty body"
