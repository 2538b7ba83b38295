"""Which stage and persona a question names: by name, alias, HubSpot stage label or job
title, tolerant of typos. A stage only implied by the situation is left to retrieval."""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz, process

from knowledge.models import JourneyMap
from knowledge.text import EVERYDAY_SHORT, singular, words, written_words

# Labels of HubSpot's default deal stages and the lifecycle stages specific enough to
# name one journey stage ("customer" or "lead" alone are everyday words, so not here).
DEAL_STAGE_LABELS = {
    "appointmentscheduled": "appointment scheduled",
    "qualifiedtobuy": "qualified to buy",
    "presentationscheduled": "presentation scheduled",
    "decisionmakerboughtin": "decision maker bought in",
    "contractsent": "contract sent",
    "closedwon": "closed won",
    "closedlost": "closed lost",
}
LIFECYCLE_LABELS = {
    "subscriber": ["subscriber"],
    "marketingqualifiedlead": ["marketing qualified lead", "mql"],
    "salesqualifiedlead": ["sales qualified lead", "sql"],
    "evangelist": ["evangelist"],
}
FUZZY_MIN_CHARS = 5
FUZZY_CUTOFF = 84.0
STEM_MIN_CHARS = 6  # "contract stage" names the stage whose alias is "contracting"
_STAGE_WORDS = frozenset({"stage", "phase"})


@dataclass(frozen=True)
class Mention:
    kind: str  # "stage" | "persona"
    ref_id: str
    phrase: str
    start: int
    end: int
    exact: bool

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Detection:
    stage_id: str | None
    persona_id: str | None
    stage_phrase: str | None
    persona_phrase: str | None
    mentions: tuple[Mention, ...]

    @property
    def stage_ids(self) -> list[str]:
        return list(dict.fromkeys(m.ref_id for m in self.mentions if m.kind == "stage"))

    @property
    def persona_ids(self) -> list[str]:
        return list(dict.fromkeys(m.ref_id for m in self.mentions if m.kind == "persona"))


class Detector:
    """Phrase tables built once per map."""

    def __init__(self, journey_map: JourneyMap, extra_deal_labels: dict[str, str] | None = None) -> None:
        self.journey_map = journey_map
        self.deal_labels = {**DEAL_STAGE_LABELS, **(extra_deal_labels or {})}

    @cached_property
    def phrases(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(kind, ref_id, phrase words), longest phrases first."""
        table: list[tuple[str, str, tuple[str, ...]]] = []
        lifecycle_owner: dict[str, set[str]] = {}
        for stage in self.journey_map.stages:
            names = [stage.name, stage.id.replace("-", " "), *stage.aliases]
            names += [self.deal_labels.get(d, d) for d in stage.hubspot.deal_stages]
            for name in names:
                table.append(("stage", stage.id, tuple(words(name))))
            for lifecycle in stage.hubspot.lifecycle_stages:
                lifecycle_owner.setdefault(lifecycle, set()).add(stage.id)
        for lifecycle, stage_ids in lifecycle_owner.items():
            if len(stage_ids) == 1 and lifecycle in LIFECYCLE_LABELS:
                for label in LIFECYCLE_LABELS[lifecycle]:
                    table.append(("stage", next(iter(stage_ids)), tuple(words(label))))
        for persona in self.journey_map.personas:
            for name in [persona.name, persona.id.replace("-", " "), *persona.aliases]:
                table.append(("persona", persona.id, tuple(words(name))))
        unique = {(k, r, p) for k, r, p in table if p}
        return sorted(unique, key=lambda item: (-len(" ".join(item[2])), item))

    @cached_property
    def index(self) -> dict[tuple[str, ...], list[tuple[str, str]]]:
        """Phrase words (singular) -> (kind, ref_id): one dictionary look-up per window."""
        table: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        for kind, ref_id, phrase in self.phrases:
            key = tuple(singular(w) for w in phrase)
            if (kind, ref_id) not in table.setdefault(key, []):
                table[key].append((kind, ref_id))
        return table

    @cached_property
    def sizes(self) -> list[int]:
        return sorted({len(key) for key in self.index}, reverse=True)

    @cached_property
    def vocabulary(self) -> list[str]:
        return sorted({w for key in self.index for w in key if len(w) >= FUZZY_MIN_CHARS})

    def _correct(self, token: str) -> str | None:
        """The vocabulary word a typo'd token stands for, if one is close enough."""
        if token in self._corrections:
            return self._corrections[token]
        best = process.extractOne(token, self.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        word = best[0] if best and _same_initial(token, best[0]) and abs(len(token) - len(best[0])) <= 2 else None
        self._corrections[token] = word
        return word

    @cached_property
    def _corrections(self) -> dict[str, str | None]:
        return {}

    @cached_property
    def _known(self) -> frozenset[str]:
        return frozenset(self.vocabulary)

    @cached_property
    def _case_sensitive(self) -> frozenset[str]:
        """Acronyms that are also everyday words ("IT" / "it"): they count only in capitals."""
        names = [a for p in self.journey_map.personas for a in [p.name, *p.aliases]]
        names += [a for s in self.journey_map.stages for a in [s.name, *s.aliases]]
        return frozenset(n.lower() for n in names if n.isupper() and n.lower() in EVERYDAY_SHORT)

    def detect(self, text: str) -> Detection:
        tokens = [singular(w) for w in words(text)]
        lowercase_acronym = [w in self._case_sensitive and not r.isupper() for w, r in zip(tokens, written_words(text), strict=True)]
        known = self._known
        corrected: list[str] = []
        fixed: list[bool] = []
        for token in tokens:
            word = token if token in known or len(token) < FUZZY_MIN_CHARS else self._correct(token)
            corrected.append(word or token)
            fixed.append(word is not None and word != token)
        found: list[Mention] = []
        for size in self.sizes:
            for start in range(0, len(tokens) - size + 1):
                key = tuple(corrected[start : start + size])
                if size == 1 and lowercase_acronym[start]:
                    continue
                for kind, ref_id in self.index.get(key, ()):
                    exact = not any(fixed[start : start + size])
                    found.append(Mention(kind, ref_id, " ".join(key), start, start + size, exact))
        # Job-title patterns describe contacts' titles, not questions ("buyer" in a
        # rep's question is the prospect): the title words are learned as cues instead.
        if not any(m.kind == "stage" for m in found):
            found += self._stem_before_stage(tokens)
        mentions = _resolve_overlaps(found)
        stage = _pick(mentions, "stage")
        persona = _pick(mentions, "persona")
        return Detection(
            stage.ref_id if stage else None,
            persona.ref_id if persona else None,
            stage.phrase if stage else None,
            persona.phrase if persona else None,
            tuple(mentions),
        )

    @cached_property
    def _one_word_stage_names(self) -> dict[str, set[str]]:
        names: dict[str, set[str]] = {}
        for kind, ref_id, phrase in self.phrases:
            if kind == "stage" and len(phrase) == 1 and len(phrase[0]) >= STEM_MIN_CHARS:
                names.setdefault(phrase[0], set()).add(ref_id)
        return names

    def _stem_before_stage(self, tokens: list[str]) -> list[Mention]:
        """A word followed by "stage" or "phase" that shares its stem with one stage's
        one-word name or alias: "the contract stage" (alias "contracting")."""
        found: list[Mention] = []
        for i in range(len(tokens) - 1):
            word = tokens[i]
            if tokens[i + 1] not in _STAGE_WORDS or len(word) < STEM_MIN_CHARS:
                continue
            owners = {ref for name, refs in self._one_word_stage_names.items()
                      if len(os.path.commonprefix([word, name])) >= max(STEM_MIN_CHARS, min(len(word), len(name)) - 3) for ref in refs}
            if len(owners) == 1:
                found.append(Mention("stage", owners.pop(), word, i, i + 1, False))
        return found


def _same_initial(a: str, b: str) -> bool:
    # Typos rarely hit the first letter; requiring it avoids "decision" ~ "precision".
    return a[:1] == b[:1]


def _resolve_overlaps(found: list[Mention]) -> list[Mention]:
    """Longer and exact mentions win over the shorter ones they overlap. The very same
    words can name a stage and a persona at once ("procurement" is a Decision alias and
    the finance persona's); a shorter mention inside a longer one never counts ("decision"
    in "decision maker")."""
    chosen: list[Mention] = []
    for mention in sorted(found, key=lambda m: (-m.length, not m.exact, m.start)):
        if all(mention.end <= c.start or mention.start >= c.end
               or (c.kind != mention.kind and (c.start, c.end) == (mention.start, mention.end)) for c in chosen):
            chosen.append(mention)
    return sorted(chosen, key=lambda m: m.start)


def _pick(mentions: list[Mention], kind: str) -> Mention | None:
    of_kind = [m for m in mentions if m.kind == kind]
    if not of_kind:
        return None
    return sorted(of_kind, key=lambda m: (not m.exact, -m.length, m.start))[0]


_detectors: dict[int, tuple[weakref.ref[JourneyMap], Detector]] = {}
_detectors_lock = threading.Lock()


def detector_for(journey_map: JourneyMap) -> Detector:
    """The one Detector of a map object: its phrase tables are built once, whether the
    retriever or a `--stage` / `--persona` lookup asks first."""
    key = id(journey_map)
    with _detectors_lock:
        cached = _detectors.get(key)
        if cached is not None and cached[0]() is journey_map:
            return cached[1]
        detector = Detector(journey_map)
        def forget(_ref: object, k: int = key) -> None:
            _detectors.pop(k, None)

        _detectors[key] = (weakref.ref(journey_map, forget), detector)
        return detector
