"""What a message asks for: a skill and its arguments, or a question back.

Explicit syntax (`account Acme`, `velocity --week 2026-11-02`) stays exact, unless the
words after `account` or `deal` name no record and read as a question for the map
("account executives care about what in demos?"). Anything
else is understood by meaning: the intent from the skills' example utterances, the
names the CRM knows, time phrases, the thread's context, and the stage and persona the
journey map implies. When two skills are close, the best is weak, or a name fits several
records, the result asks back with options instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knowledge.glossary import expand_acronyms
from knowledge.language import LanguageDetector, detector_for
from knowledge.lexical import STOPWORDS
from knowledge.text import normalize, words
from skills.entities import Entity, find_entities
from skills.intents import FILLERS, IntentModel
from skills.names import NameDirectory
from skills.nudges import setting_from_words
from skills.registry import Registry, SkillInputError, missing_required, parse_args
from skills.timephrases import TimeRange, find_time
from skills.understanding_result import Clarification, Option, ThreadMemory, Understanding

# Calibrated on the dev split of tests/data/understanding (bench/understanding.py).
NAMED_BONUS = 0.06  # a company or deal is named: its skills gain ...
NAMED_ASK_PENALTY = 0.06  # ... and the map Q&A loses (a question about an account is about the account)
UNNAMED_PENALTY = 0.12  # account or deal without any name to run on
DEAL_NAMED_BONUS = 0.08
OWNER_BONUS = 0.05
TIME_BONUS = 0.04
MAP_ASK_DISCOUNT = 0.05  # the map's own questions count this much less than `ask`'s examples
WEAK = 0.20  # a best non-ask score below this asks back
CLOSE = 0.01  # two skills within this ask back
NAMED_SKILLS = ("account", "deal")
MAX_OPTIONS = 3
_GREETING = re.compile(r"^(?:hey|hi|hello|yo|hiya|morning)\b[,!]?\s*", re.IGNORECASE)
_FOLLOWUP_REF = re.compile(r"\b(there|they|them|their|this account|that account|this deal|that deal|it)\b", re.I)


Embed = Callable[[str], list[float]]


@dataclass
class Understander:
    """Built once per process; `directory` is read on every call so a refreshed CRM
    snapshot is picked up."""

    registry: Registry
    model: IntentModel
    embed_query: Embed
    directory: Callable[[], NameDirectory] = NameDirectory
    common_words: Collection[str] = frozenset()
    map_vectors: Callable[[], np.ndarray | None] = lambda: None
    # The stage and persona a message's words name (Retriever.said): arguments of `gaps`.
    map_words: Callable[[str], tuple[str | None, str | None]] = lambda text: (None, None)
    # With an LLM configured: its tool call decides first; None (no call, failure,
    # timeout) leaves the decision to the offline path below.
    llm_route: Callable[[str], Any] | None = None
    # A message in another language goes to `ask`, which says the bot reads English only.
    language: LanguageDetector = field(default_factory=LanguageDetector)

    def understand(
        self, message: str, *, memory: ThreadMemory | None = None, today: dt.date | None = None
    ) -> Understanding:
        text = _GREETING.sub("", normalize(message)).strip()
        explicit = self._explicit(text)
        if explicit is None:
            return self._by_meaning(text, memory, today)
        name = explicit.arguments.get(explicit.skill or "")
        if explicit.skill not in NAMED_SKILLS or self._names_record(str(name or "")):
            return explicit
        # "account executives care about…": a skill's name first, then no record but a
        # question for the map; any other reading keeps the syntax (an unknown account).
        meaning = self._by_meaning(text, memory, today)
        return meaning if meaning.skill == "ask" else explicit

    def _by_meaning(self, text: str, memory: ThreadMemory | None, today: dt.date | None) -> Understanding:
        language = self.language.check(text)
        if not language.english:
            return Understanding(text, "ask", {"question": text}, confidence=language.confidence, how="language")
        if self.llm_route is not None:
            chosen = self.llm_route(text)
            if chosen is not None:
                return Understanding(text, chosen.skill, dict(chosen.arguments), confidence=1.0, how="llm")
        directory = self.directory()
        entities = find_entities(text, directory, self.common_words)
        named = [e for e in entities if e.type in ("company", "deal")]
        time = find_time(text, today or dt.date.today())
        vector = np.asarray(self.embed_query(_masked(text, entities)), dtype=np.float32)
        map_vectors = self.map_vectors()
        scores = self.model.similarities(vector, {"ask": map_vectors} if map_vectors is not None else None,
                                         MAP_ASK_DISCOUNT)
        remembered = memory is not None and bool(memory.account or memory.deal) and not named \
            and bool(_FOLLOWUP_REF.search(text))
        scores = self._adjust(scores, entities, time, has_directory=len(directory) > 0, remembered=remembered)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        result = Understanding(text, None, entities=entities, time=time, scores=scores)
        result.confidence = _confidence(ranked)
        ambiguous = next((e for e in named if e.ambiguous), None)
        best, best_score = ranked[0]
        if ambiguous is not None and best in NAMED_SKILLS:
            result.clarify = self._which_record(best, ambiguous)
            return result
        close = [name for name, score in ranked[:MAX_OPTIONS] if best_score - score <= CLOSE]
        if len(close) > 1:
            result.clarify = self._which_skill(close, text, entities, time, memory)
            return result
        if best != "ask" and best_score < WEAK:
            if "ask" in dict(ranked[:2]):
                best = "ask"
            else:
                result.clarify = self._which_skill([n for n, _ in ranked[:MAX_OPTIONS]], text, entities, time, memory)
                return result
        result.skill = best
        result.arguments = self._arguments(best, text, entities, time, memory)
        result.how = "thread" if remembered and best in NAMED_SKILLS else "meaning"
        return result

    def _explicit(self, text: str) -> Understanding | None:
        """`account Acme`, `gaps`, `velocity --week 2026-11-02`: a skill's name first, and
        the rest parses as its arguments."""
        first, _, rest = text.partition(" ")
        skill = self.registry.skills.get(first.lower())
        if skill is None:
            return None
        try:
            arguments = parse_args(skill, rest)
        except SkillInputError:
            return None
        if missing_required(skill, arguments):
            return None
        given = {a.name: arguments[a.name] for a in skill.args if arguments.get(a.name) not in (None, a.default)}
        return Understanding(text, skill.name, given, confidence=1.0, how="syntax")

    def _names_record(self, name: str) -> bool:
        """Whether the words after `account` or `deal` name a record: an id, or a company
        or deal the CRM snapshot knows."""
        if name.strip().isdigit():
            return True
        return any(e.type in ("company", "deal") for e in find_entities(name, self.directory(), self.common_words))

    def _adjust(
        self, scores: dict[str, float], entities: list[Entity], time: TimeRange | None, *,
        has_directory: bool, remembered: bool,
    ) -> dict[str, float]:
        out = dict(scores)
        named = any(e.type in ("company", "deal") for e in entities)
        if named:
            for name in NAMED_SKILLS:
                _add(out, name, NAMED_BONUS)
            _add(out, "ask", -NAMED_ASK_PENALTY)
        elif has_directory and not remembered:
            for name in NAMED_SKILLS:
                _add(out, name, -UNNAMED_PENALTY)
        if any(e.type == "deal" for e in entities):
            _add(out, "deal", DEAL_NAMED_BONUS)
        if any(e.type == "owner" for e in entities):
            _add(out, "churn", OWNER_BONUS)
            _add(out, "velocity", OWNER_BONUS)
        if time is not None:
            _add(out, "velocity", TIME_BONUS)
        return out

    def _arguments(
        self, skill: str, text: str, entities: list[Entity], time: TimeRange | None, memory: ThreadMemory | None
    ) -> dict[str, Any]:
        owner = next((e.record for e in entities if e.type == "owner" and e.record), None)
        if skill in NAMED_SKILLS:
            return self._record_argument(skill, text, entities, memory)
        if skill == "churn":
            return {"owner": owner.name} if owner else {}
        if skill == "velocity":
            return {"week": time.week.isoformat()} if time else {}
        if skill == "ask":
            return {"question": text}
        if skill == "nudges":
            return {"setting": setting_from_words(text)}
        if skill == "gaps":
            stage, persona = self.map_words(text)
            return {k: v for k, v in (("stage", stage), ("persona", persona)) if v}
        return {}

    def _record_argument(
        self, skill: str, text: str, entities: list[Entity], memory: ThreadMemory | None
    ) -> dict[str, Any]:
        """The account or deal to run on: the CRM record named (by id), else a name-like
        run of words when no CRM names are known, else the thread's."""
        company = next((e.record for e in entities if e.type == "company" and e.record), None)
        deal = next((e.record for e in entities if e.type == "deal" and e.record), None)
        if skill == "account":
            found = company.id if company else (deal.company_id if deal else None)
        else:
            found = deal.id if deal else (company.name if company else None)
        found = found or (_loose_name(text, self.common_words) if not entities else None)
        if found is None and memory is not None:
            found = memory.account if skill == "account" else (memory.deal or memory.account)
        return {skill: found} if found else {}

    def _which_record(self, skill: str, entity: Entity) -> Clarification:
        key = "account" if skill == "account" else "deal"
        options = tuple(
            Option(skill, {key: r.id}, r.name) for r in entity.matches[:MAX_OPTIONS + 2]
        )
        return Clarification(f"“{entity.text}” fits more than one record. Which one do you mean?", options)

    def _which_skill(
        self, names: list[str], text: str, entities: list[Entity], time: TimeRange | None, memory: ThreadMemory | None
    ) -> Clarification:
        options = tuple(
            Option(name, self._arguments(name, text, entities, time, memory), self.registry.skills[name].help)
            for name in names
        )
        return Clarification("I can do one of these. Which one?", options)


_CAPITALISED = re.compile(r"\b[A-Z][\w&'.-]*(?:\s+[A-Z][\w&'.-]*)*")


def _loose_name(text: str, common_words: Collection[str]) -> str | None:
    """With no CRM names to match, the longest run of capitalised words that are not
    everyday words ("how engaged is Globex?" -> Globex)."""
    runs = [m.group(0).strip(".'") for m in _CAPITALISED.finditer(text)]
    names = [r for r in runs if not all(w.lower() in common_words or w.isupper() for w in r.split())]
    return max(names, key=len) if names else None


def _add(scores: dict[str, float], name: str, delta: float) -> None:
    if name in scores:
        scores[name] += delta


def _masked(text: str, entities: list[Entity]) -> str:
    """The message with its names replaced by the fillers the examples use, so the
    intent is compared on how it asks; with no names it is the text retrieval embeds."""
    if not entities:
        return expand_acronyms(text) or text
    out: list[str] = []
    last = 0
    for entity in entities:
        out.append(text[last : entity.start])
        out.append(FILLERS[entity.type][0])
        last = entity.end
    out.append(text[last:])
    return expand_acronyms("".join(out)) or text


def _confidence(ranked: list[tuple[str, float]]) -> float:
    if not ranked:
        return 0.0
    top = ranked[0][1]
    margin = top - (ranked[1][1] if len(ranked) > 1 else 0.0)
    return float(max(0.0, min(1.0, 0.5 * top + 2.0 * margin + 0.25)))


def vocabulary(texts: Collection[str]) -> frozenset[str]:
    """Everyday words (the examples' and the map's own): a one-word company name that is
    also one of these needs a capital letter to count."""
    found = set(STOPWORDS)
    for text in texts:
        found.update(words(re.sub(r"\{\w+\}", " ", text)))
    return frozenset(found)


def build_understander(
    registry: Registry,
    embeddings: Any,
    directory: Callable[[], NameDirectory] = NameDirectory,
    map_vectors: Callable[[], np.ndarray | None] = lambda: None,
    map_words: Callable[[str], tuple[str | None, str | None]] = lambda text: (None, None),
) -> Understander:
    """The understander of a process: intent examples embedded once; everyday words
    (the embedding model's whole-word vocabulary and the examples') for name matching."""
    from skills.intents import intent_model

    texts = [u for skill in registry.skills.values() for u in skill.utterances]
    model_dir = getattr(embeddings, "model_dir", None)
    common = vocabulary(texts) | model_words(model_dir)
    return Understander(registry, intent_model(registry, embeddings), embeddings.embed_query, directory,
                        common, map_vectors, map_words=map_words, language=detector_for(model_dir))


def model_words(model_dir: Any) -> frozenset[str]:
    """Whole English words of the embedding model's vocabulary (about 20,000)."""
    if model_dir is None:
        return frozenset()
    from pathlib import Path

    path = Path(model_dir) / "vocab.txt"
    if not path.exists():
        return frozenset()
    lines = path.read_text(encoding="utf-8").split()
    return frozenset(w for w in lines if w.isalpha() and w.isascii() and len(w) > 1 and w.islower())


def understander_for(ctx: Any, registry: Registry) -> Understander:
    """The understander for a skill context: CRM names when a CRM is configured (from
    the snapshot, refreshed every few minutes), the live map's own questions for `ask`."""
    from skills.name_source import CrmNames

    names: Callable[[], NameDirectory] = CrmNames(lambda: ctx.gateway) if ctx.crm_configured else NameDirectory
    live = ctx.knowledge.live
    understander = build_understander(registry, ctx.knowledge.embeddings, names,
                                      lambda: live.current().retriever.inference.map_vectors,
                                      lambda text: live.current().retriever.said(text))
    chat = ctx.knowledge.asker.chat
    if chat is not None:
        from knowledge.catalog import argument_values
        from skills.llm_routing import route_with_llm

        timeout = ctx.settings.llm_timeout_s
        understander.llm_route = lambda text: route_with_llm(
            chat, registry, text, timeout_s=timeout, values=argument_values(live.current().journey_map))
    return understander


def add_map_reading(result: Understanding, retriever: Any, memory: ThreadMemory | None = None) -> Understanding:
    """Stage and persona as the journey map reads the message (named, cued or inferred),
    falling back to the thread's when the message implies none. For a skill other than
    `ask` only a stage and a persona the message names count, as `gaps` takes them
    (`Retriever.said`, no embedding): an inferred or title-cued one is how the map would
    read a question, which that skill never uses."""
    chosen = result.arguments if result.how == "llm" else {}  # the LLM's pick stands over the offline reading
    # In `account Acme` the skill's name is syntax: "account" would cue the account executive.
    text = result.text.partition(" ")[2] or result.text if result.how == "syntax" else result.text
    if result.skill in (None, "ask"):
        retrieval = retriever.retrieve(text, k=1, stage_id=chosen.get("stage"), persona_id=chosen.get("persona"))
        stage, persona = (retrieval.stage.stage_id if retrieval.stage else None), retrieval.persona_id
    else:
        said_stage, said_persona = retriever.said(text)
        stage, persona = chosen.get("stage") or said_stage, chosen.get("persona") or said_persona
    result.stage = stage or (memory.stage_id if memory else None)
    result.persona = persona or (memory.persona_id if memory else None)
    return result
