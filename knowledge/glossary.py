"""Revenue-team acronyms and jargon spelled out, so that "ROI" finds "return on investment".

The small embedding model and BM25 both miss these otherwise; the query keeps the
acronym and gains its expansion.
"""

from __future__ import annotations

import re

ACRONYMS: dict[str, str] = {
    "roi": "return on investment",
    "tco": "total cost of ownership",
    "poc": "proof of concept pilot",
    "pov": "proof of value pilot",
    "qbr": "quarterly business review",
    "ebr": "executive business review",
    "sso": "single sign-on",
    "saml": "single sign-on",
    "rfp": "request for proposal",
    "rfi": "request for information",
    "nps": "net promoter score survey",
    "csm": "customer success manager",
    "msa": "master services agreement contract",
    "dpa": "data processing agreement",
    "soc2": "SOC 2 security compliance report",
    "soc": "security compliance report",
    "gdpr": "GDPR data privacy",
    "api": "API integration",
    "crm": "CRM",
    "arr": "annual recurring revenue",
    "mql": "marketing qualified lead",
    "sql": "sales qualified lead",
    "cro": "chief revenue officer",
    "cfo": "chief financial officer finance",
    "ciso": "chief information security officer security",
    "cio": "chief information officer IT",
    "it": "IT technical",
    "ops": "operations",
    "revops": "revenue operations",
    "onboard": "onboarding",
}
PHRASES: dict[str, str] = {
    "customer story": "case study",
    "customer stories": "case studies",
    "success story": "case study",
    "1:1": "one-on-one coaching",
    "1:1s": "one-on-one coaching",
}
_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9]*\b")


def expand_acronyms(text: str) -> str:
    """`text` plus the spelled-out form of each known acronym and phrase it contains."""
    extra: list[str] = []
    for token in _TOKEN.findall(text):
        low = token.lower()
        if low in ACRONYMS and (low != "it" or token == "IT"):
            extra.append(ACRONYMS[low])
    lowered = text.lower()
    extra.extend(expansion for phrase, expansion in PHRASES.items() if phrase in lowered)
    return f"{text} ({'; '.join(dict.fromkeys(extra))})" if extra else text
