"""Controlled vocabularies: harmonised biomarker categories, endpoints, assessments.

Trials name their subgroups in their own words ("PIK3CA-mutated cohort", "AKT-pathway
altered", "without detectable alteration"); analyses need one harmonised category per
population so that like is pooled with like. Extend these tables as the data needs, with a
definition for every term: a term without a definition invites inconsistent use.
"""

from __future__ import annotations


BIOMARKERS: dict[str, str] = {
    "all-patients": "The whole randomised population of the trial or cohort (ITT).",
    "pi3k-akt-altered": "Tumour with a PI3K/AKT-pathway alteration (PIK3CA, AKT1 or PTEN), "
    "as defined by the trial's assay.",
    "pi3k-akt-non-altered": "Tumour tested with a valid result and no PI3K/AKT-pathway alteration found.",
    "pi3k-akt-not-detected": "No PI3K/AKT-pathway alteration detected, including patients whose test "
    "failed or was not done (mixes non-altered with unknown status).",
    "pi3k-akt-altered-bridging": "PI3K/AKT-pathway alteration found by re-testing trial samples with a "
    "companion-diagnostic assay (CDx bridging analysis), not by the assay that allocated the patients; "
    "not a randomised cohort, so kept apart from pi3k-akt-altered.",
    "ccne1-high": "CCNE1 (cyclin E1) mRNA expression above the median.",
    "ccne1-low": "CCNE1 (cyclin E1) mRNA expression at or below the median.",
    "esr1-wild-type": "No ESR1 mutation detected in baseline circulating tumour DNA.",
    "cytogenetic-high-risk": "Myeloma with high-risk cytogenetics (t(4;14), t(14;16) or del(17p) by FISH).",
    "cytogenetic-standard-risk": "Myeloma without high-risk cytogenetic abnormalities.",
    "prior-lines-1": "Exactly one prior line of therapy.",
    "prior-lines-2plus": "Two or more prior lines of therapy.",
    "prior-bortezomib": "Patients who had received bortezomib before study entry.",
    "prior-lenalidomide": "Patients who had received lenalidomide before study entry.",
    "measurable-disease": "Patients with measurable disease at baseline (RECIST).",
    "non-measurable-disease": "Patients without measurable disease at baseline.",
    "visceral-lung-liver": "Patients with lung and/or liver metastases.",
    "non-luminal-subtype": "Non-luminal PAM50 intrinsic subtype.",
}

#: Endpoint code -> (kind, description). ``kind`` decides which effect measures apply.
ENDPOINTS: dict[str, tuple[str, str]] = {
    "PFS": ("time-to-event", "Progression-free survival"),
    "OS": ("time-to-event", "Overall survival"),
    "PFS2": ("time-to-event", "Time to second progression or death"),
    "TTC": ("time-to-event", "Time to first chemotherapy"),
    "TTQD": ("time-to-event", "Time to deterioration of quality of life"),
    "DOR": ("time-to-event", "Duration of response (responders only)"),
    "ORR": ("binary", "Objective (overall) response rate: partial response or better"),
    "VGPR": ("binary", "Very good partial response or better"),
    "CR": ("binary", "Complete response or better"),
    "SCR": ("binary", "Stringent complete response"),
}

ASSESSMENTS: dict[str, str] = {
    "investigator": "Assessed by the local investigator.",
    "bicr": "Blinded independent central review.",
    "irc": "Independent review committee.",
    "not-applicable": "Endpoint needs no assessor (e.g. death).",
    "unspecified": "The source read does not say who assessed the endpoint.",
}

PUBLICATION_KINDS: dict[str, str] = {
    "journal": "Peer-reviewed journal article.",
    "congress": "Congress abstract or presentation.",
    "regulatory": "Regulator review, approval summary, label or HTA opinion.",
    "registry": "Trial registry record (e.g. ClinicalTrials.gov).",
    "secondary": "Secondary report of a primary source (news, summary, mirror, sponsor page).",
}



def endpoint_kind(code: str) -> str:
    return ENDPOINTS[code][0]
