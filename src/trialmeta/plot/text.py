"""Texts of a forest plot: cell strings, RevMan statistics lines, footnotes.

Pure helpers shared by :mod:`trialmeta.plot.forest` (pooled analyses) and
:mod:`trialmeta.plot.trial_forest` (single-trial subgroup forests). Every number goes through
:mod:`trialmeta.fmt`, the formats the evidence tables use, so a figure and a table print
the same strings. RevMan 5 conventions (Cochrane Handbook 5.1 §11.3.2.1; R meta
``settings.meta("RevMan5")``; the strings of Steurer et al. 2006, Cochrane CD004270, Analysis 1.1):

* ratio and CI ``0.55 [0.28, 1.09]`` (two decimals), weight ``42.3%`` (one decimal);
* ``Heterogeneity: Tau² = 0.01; Chi² = 2.74, df = 2 (P = 0.25); I² = 27%`` (I² whole percent;
  ``Not applicable`` for k = 1), ``Test for overall effect: Z = 3.18 (P = 0.001)``, or
  ``t = 2.14, df = 2 (P = 0.17)`` under HKSJ, ``Test for subgroup differences: Chi² = ...``;
* P two decimals from 0.01, three from 0.001, one significant digit below, ``P < 0.00001``;
* the log axis lives in :mod:`trialmeta.plot.axis` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trialmeta import fmt
from trialmeta.plot.scene import text_width
from trialmeta.registry.vocab import ENDPOINTS

FONT = 7.0  # points; the smallest size a journal accepts in a figure
EM_DASH = "\u2014"
_SUPERSCRIPTS = dict(zip("abcdefghijklmnoprstuvwxyz", "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"))


def count(x) -> str:
    return str(int(x)) if fmt.positive(x) or x == 0 else ""


def events_n(events, n) -> str:
    """'49/69'; '—/69' when only N is known; '' when neither is (nothing is invented)."""
    e, t = count(events), count(n)
    if not e and not t:
        return ""
    return f"{e or EM_DASH}/{t or EM_DASH}"


def weight_text(w) -> str:
    return fmt.percent(w, 1) if fmt.positive(w) or w == 0 else ""


def estimate_text(est, lo, hi) -> str:
    """RevMan cell: '0.55 [0.28, 1.09]', '1.11 [no CI]' or 'Not estimable'."""
    if not fmt.positive(est):
        return "Not estimable"
    if not (fmt.positive(lo) and fmt.positive(hi)):
        return f"{fmt.ratio(est)} [no CI]"
    return fmt.ratio_ci(est, lo, hi)


def year(row) -> str:
    """The data cut's year: its cut-off date's, else its first publication's."""
    for key in ("data_cutoff", "publication_date"):
        value = row.get(key)
        if isinstance(value, str) and value[:4].isdigit():
            return value[:4]
    return ""


def higher_is_better(endpoint: str, measure: str) -> bool:
    """True for a ratio of good events (responders): RR > 1 then favours the experimental arm."""
    return measure == "RR" and ENDPOINTS.get(endpoint, ("",))[0] == "binary"


def favours(experimental: str, control: str, endpoint: str, measure: str) -> tuple[str, str]:
    """('Favours <left side>', 'Favours <right side>') of the null line.

    Hazard ratios (and risk ratios of harms) below 1 favour the experimental arm; risk
    ratios of responses above 1 do (RevMan: authors must swap the labels for beneficial
    outcomes).
    """
    if higher_is_better(endpoint, measure):
        return f"Favours {control}", f"Favours {experimental}"
    return f"Favours {experimental}", f"Favours {control}"


def in_sentence(label: str) -> str:
    """An arm label inside a sentence: a capitalised ordinary first word is lower-cased
    ('Placebo + fulvestrant' -> 'placebo + fulvestrant'); acronyms and codes stay ('KRd', 'CDK4/6i')."""
    first = label.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].isalpha() and first[1:].islower():
        return label[0].lower() + label[1:]
    return label


def short_arm(label: str) -> str:
    """An arm as the favours labels name it: the acronym in brackets ending the label
    ('Carfilzomib + lenalidomide + dexamethasone (KRd)' -> 'KRd'); else the label without a
    bracketed explanation ('Palbociclib + endocrine therapy (exemestane in cohort 1, ...)' ->
    'palbociclib + endocrine therapy'), in sentence case."""
    label = label.strip()
    if label.endswith(")") and "(" in label:
        head, inner = label[:-1].rsplit("(", 1)
        if inner and " " not in inner and any(c.isupper() for c in inner):
            return inner
        if head.strip():
            return in_sentence(head.strip())
    return in_sentence(label)


def measure_label(measure: str, level: float) -> str:
    return f"{measure} [{level:.0%} CI]"


# ----------------------------------------------------------------------------- statistics lines

def statistics_lines(pooled) -> list[tuple[str, str]]:
    """(role, text) lines under a subtotal: heterogeneity and test for overall effect.

    ``pooled`` is anything with the :class:`trialmeta.stats.pooling.GroupResult` attributes (the
    pooled row of the analysis frame, as a namespace)."""
    return [("heterogeneity", fmt.heterogeneity(pooled)), ("overall-effect", fmt.overall_effect(pooled))]


def _words(text: str) -> list[str]:
    """Words, keeping 'P = 0.05' (around '=' and '<') and two-word brackets such as
    '(REML, HKSJ)' or '[0.17, 10.02]' in one piece."""
    raw = text.split()
    merged: list[str] = []
    i = 0
    while i < len(raw):
        w = raw[i]
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if any(w.count(o) > w.count(c) and nxt.count(c) > nxt.count(o) for o, c in ("()", "[]")):
            w, i = f"{w} {raw[i + 1]}", i + 1
        merged.append(w)
        i += 1
    out: list[str] = []
    glue = False
    for w in merged:
        estimate_ci = w.startswith("[") and out and out[-1].replace(".", "", 1).isdigit()  # '0.73 [0.48, 1.11]'
        if out and (glue or w in ("=", "<") or estimate_ci):
            out[-1] += f" {w}"
        else:
            out.append(w)
        glue = w in ("=", "<")
    return out


def wrap_clauses(text: str, width: float, size: float = FONT, weight: str = "normal",
                 marks: tuple[str, ...] = (";", ",")) -> list[str]:
    """Greedy word wrap that prefers to break after a clause (``marks`` in order of
    preference) when the line stays at least half full, and never inside 'Chi² = 3.87' or
    '(P = 0.05)'. A single over-long word is kept whole."""
    words, lines = _words(text), []
    fits = lambda ws: text_width(" ".join(ws), size, weight) <= width  # noqa: E731
    while words:
        n = 1
        while n < len(words) and fits(words[:n + 1]):
            n += 1
        if n < len(words):
            for mark in marks:
                ends = [i for i in range(1, n + 1) if words[i - 1].endswith(mark)
                        and text_width(" ".join(words[:i]), size, weight) >= width / 2]
                if ends:
                    n = ends[-1]
                    break
        lines.append(" ".join(words[:n]))
        words = words[n:]
    return lines or [""]


# ----------------------------------------------------------------------------- footnotes

def sentence(text: str) -> str:
    """Notes as sentences: an initial capital (not for symbols: 'τ²', 'k = 1' stay) and a full stop."""
    text = " ".join(text.split())
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if text[0].isascii() and text[0].islower() and len(first) > 1 and first.isalpha():  # not 'k = 1'
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def superscript(letter: str) -> str:
    return "".join(_SUPERSCRIPTS.get(c, c) for c in letter)


@dataclass
class Footnotes:
    """Lettered notes (a, b, ... skipping q, which has no superscript) plus plain notes.

    The same text always gets the same letter, so ten adjusted HRs share one footnote."""

    lettered: dict[str, str] = field(default_factory=dict)  # text -> letter
    plain: list[str] = field(default_factory=list)

    def mark(self, text: str) -> str:
        """The superscript letter of ``text`` (new or existing)."""
        text = sentence(text)
        if text not in self.lettered:
            n = len(self.lettered)
            letters = "abcdefghijklmnoprstuvwxyz"
            self.lettered[text] = letters[n] if n < len(letters) else f"{letters[n // 25 - 1]}{letters[n % 25]}"
        return superscript(self.lettered[text])

    def marks(self, texts) -> str:
        """The marks of several notes, in letter order ('ᵃᶜ', never 'ᶜᵃ')."""
        for t in dict.fromkeys(texts):
            self.mark(t)
        letters = sorted({self.lettered[sentence(t)] for t in texts}, key=lambda x: (len(x), x))
        return "".join(superscript(x) for x in letters)

    def note(self, text: str) -> None:
        text = sentence(text)
        if text and text not in self.plain:
            self.plain.append(text)

    def lines(self) -> list[tuple[str, str]]:
        """(role, text) in order: lettered first ('ᵃ text'), then the plain notes."""
        out = [("footnote", f"{superscript(letter)} {text}") for text, letter in self.lettered.items()]
        return out + [("note", text) for text in self.plain]


def study_flags(row: dict, measure: str) -> list[str]:
    """Footnote texts for one study row of the analysis frame (or a tidy results row)."""
    notes = []
    if row.get("immature") is True:
        notes.append("Immature data (interim analysis; few events).")
    if row.get("adjusted") is True:
        notes.append(f"Covariate-adjusted {measure} (beyond stratification).")
    if row.get("approximate") is True:
        notes.append(f"Approximate SE: {row.get('derivation')} ({row.get('derivation_detail')}).")
    source = row.get("ci_source")
    kind = getattr(source, "kind", "published")
    if kind == "computed" and measure == "RR":
        notes.append("RR and 95% CI computed from responders/N (not published).")
    elif kind == "computed":
        notes.append(f"CI {source}, not published.")
    elif kind == "recomputed":
        notes.append(f"CI {source}.")
    if row.get("responders_derived") is True:
        notes.append("Responders derived from published percentages x N.")
    skipped = row.get("skipped")
    if isinstance(skipped, (list, tuple)) and skipped:
        notes.append(f"Data cut used: {row.get('data_cut')}; newer: {'; '.join(skipped)}.")
    if row.get("usable") is False:
        why = row.get("reason") or "no standard error"
        notes.append(f"Shown, not pooled: {why}." if fmt.positive(row.get("est")) else f"Not estimable: {why}.")
    return notes
