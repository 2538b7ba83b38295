"""How well the bot understands messages written by other people, and what it costs.

    python -m bench.understanding [--split dev|test|all] [--misses]
    python -m bench.understanding --second-map

Corpus: tests/data/understanding/{dev,test}.yaml (split once, seed 20261125; tune on dev
only), names from tests/data/understanding/crm_names.yaml plus the sandbox portal's
generated names as distractors. Targets on the test split: routing >= 0.95, company/deal
entities >= 0.95, stage >= 0.92, persona >= 0.90, asset in top 3 >= 0.90; stage >= 0.90
on the second map; routing + entities <= 10 ms p95 on top of the query embedding.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, percentile, scratch_settings
from knowledge.answers import OTHER_STAGES
from knowledge.retrieval import Retriever
from knowledge.service import KnowledgeService
from knowledge.validation import load_map
from skills.builtin import default_registry
from skills.names import NameDirectory, NamedRecord
from skills.understanding import Understander, build_understander
from skills.understanding_result import Understanding

DATA = ROOT / "tests" / "data" / "understanding"
SECOND_MAP = ROOT / "tests" / "data" / "second_map.yaml"
SECOND_QUESTIONS = ROOT / "tests" / "data" / "second_map_questions.yaml"
TODAY = dt.date(2026, 11, 25)


@dataclass
class Score:
    hits: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.hits += ok
        self.total += 1

    @property
    def rate(self) -> float:
        return round(self.hits / self.total, 3) if self.total else 0.0


@dataclass
class Report:
    routing: Score = field(default_factory=Score)
    routing_offered: Score = field(default_factory=Score)  # routed right, or asked back with the right skill offered
    entities: Score = field(default_factory=Score)
    stage: Score = field(default_factory=Score)
    stage_offered: Score = field(default_factory=Score)  # the stage, or one of the answer's "Answer for" stages
    persona: Score = field(default_factory=Score)
    assets: Score = field(default_factory=Score)
    asked_back: int = 0
    understand_ms: list[float] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "utterances": self.routing.total,
            "routing": self.routing.rate,
            "routing_or_offered": self.routing_offered.rate,
            "asked_back": self.asked_back,
            "entities": self.entities.rate,
            "entity_items": self.entities.total,
            "stage": self.stage.rate,
            "stage_or_offered": self.stage_offered.rate,
            "stage_items": self.stage.total,
            "persona": self.persona.rate,
            "persona_items": self.persona.total,
            "asset_top3": self.assets.rate,
            "asset_items": self.assets.total,
            "understand_p50_ms": round(percentile(self.understand_ms, 50), 2) if self.understand_ms else None,
            "understand_p95_ms": round(percentile(self.understand_ms, 95), 2) if self.understand_ms else None,
        }


def load_items(split: str) -> list[dict[str, Any]]:
    names = ["dev", "test"] if split == "all" else [split]
    items: list[dict[str, Any]] = []
    for name in names:
        items += yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    return items


def corpus_directory(with_sandbox: bool = True) -> NameDirectory:
    raw = yaml.safe_load((DATA / "crm_names.yaml").read_text(encoding="utf-8"))
    records = [NamedRecord("company", c["id"], c["name"]) for c in raw["companies"]]
    records += [NamedRecord("deal", d["id"], d["name"], d.get("company")) for d in raw["deals"]]
    records += [NamedRecord("owner", o["id"], o["name"]) for o in raw["owners"]]
    if with_sandbox:
        from sandbox.generator import generate_portal

        portal = generate_portal(now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
        for oid, obj in portal.objects["companies"].items():
            records.append(NamedRecord("company", f"s{oid}", str(obj.properties["name"])))
        for oid, obj in portal.objects["deals"].items():
            records.append(NamedRecord("deal", f"s{oid}", str(obj.properties["dealname"])))
    return NameDirectory.of(records)


def setup(map_path: Path | None = None) -> tuple[KnowledgeService, Retriever, Understander]:
    settings = scratch_settings(**({"journey_map_path": map_path} if map_path else {}))
    service = KnowledgeService(settings)
    service.index()
    retriever = service.live.current().retriever
    directory = corpus_directory()
    understander = build_understander(
        default_registry(), service.embeddings, lambda: directory, lambda: retriever.inference.map_vectors,
        retriever.said,
    )
    return service, retriever, understander


def evaluate(retriever: Retriever, understander: Understander, items: list[dict[str, Any]]) -> Report:
    report = Report()
    for item in items:
        text = item["text"]
        understander.understand(text, today=TODAY)  # embeds (once; kept by the embeddings' cache)
        started = time.perf_counter()
        result = understander.understand(text, today=TODAY)  # so this times routing + entities alone
        report.understand_ms.append((time.perf_counter() - started) * 1000)
        retrieval = retriever.retrieve(text, k=3)
        routed_ok = _routed_ok(item, result)
        report.routing.add(routed_ok)
        report.routing_offered.add(routed_ok or (result.clarify is not None and item["skill"] in
                                                 {o.skill for o in result.clarify.options}))
        report.asked_back += result.clarify is not None
        expected = [e for e in item.get("entities") or [] if e["type"] in ("company", "deal")]
        entity_ok = True
        if expected:
            entity_ok = _entities_ok(item, expected, result, understander.directory())
            report.entities.add(entity_ok)
        stage = retrieval.stage.stage_id if retrieval.stage else None
        stage_ok = True
        if item.get("stage") and item["skill"] == "ask":
            stage_ok = stage == item["stage"]
            report.stage.add(stage_ok)
            offered = retrieval.stage.runners_up[:OTHER_STAGES] if retrieval.stage else ()
            report.stage_offered.add(stage_ok or item["stage"] in offered)
        persona_ok = True
        if item["skill"] == "ask":
            persona_ok = retrieval.persona_id == item.get("persona")
            report.persona.add(persona_ok)
        top = [h.unit.ref_id for h in retrieval.assets[:3]]
        asset_ok = True
        if item.get("assets"):
            asset_ok = any(a in item["assets"] for a in top)
            report.assets.add(asset_ok)
        if not (routed_ok and entity_ok and stage_ok and persona_ok and asset_ok):
            report.misses.append({
                "text": text, "expected": item["skill"], "got": result.skill,
                "clarify": [o.label for o in result.clarify.options] if result.clarify else None,
                "scores": {k: round(v, 3) for k, v in sorted(result.scores.items(), key=lambda kv: -kv[1])[:3]},
                "entities": [e.to_dict() for e in result.entities], "expected_entities": expected,
                "stage": [stage, item.get("stage")], "persona": [retrieval.persona_id, item.get("persona"),
                                                                  retrieval.persona_how],
                "assets": [top, item.get("assets")] if not asset_ok else None,
            })
    return report


def _routed_ok(item: dict[str, Any], result: Understanding) -> bool:
    if item["skill"] == "clarify":
        return result.clarify is not None and any(o.skill == item.get("intended_skill") for o in result.clarify.options)
    return result.skill == item["skill"]


def _entities_ok(item: dict[str, Any], expected: list[dict[str, Any]], result: Understanding,
                 directory: NameDirectory) -> bool:
    """Every expected company or deal found: by name; an ambiguous one seen as ambiguous
    (with the right name among the candidates when the corpus names it); a deal reached
    through its company only when that company has exactly that one deal."""
    found = [e for e in result.entities if e.type in ("company", "deal")]
    names = {e.record.name for e in found if e.record}
    if item["skill"] == "clarify":
        names |= {r.name for e in found if e.ambiguous for r in e.matches}
    for company in [e.record for e in found if e.record and e.type == "company"]:
        deals = [r.name for r in directory.records if r.type == "deal" and r.company_id == company.id]
        names |= set(deals) if len(deals) == 1 else set()
    for want in expected:
        if want.get("name") is None and not any(e.ambiguous for e in found):
            return False
        if want.get("name") is not None and want["name"] not in names:
            return False
    return True


def second_map() -> dict[str, Any]:
    _, retriever, _ = setup(SECOND_MAP)
    items = yaml.safe_load(SECOND_QUESTIONS.read_text(encoding="utf-8"))
    stage, persona, assets = Score(), Score(), Score()
    for item in items:
        retrieval = retriever.retrieve(item["question"], k=3)
        stage.add((retrieval.stage.stage_id if retrieval.stage else None) == item["stage"])
        persona.add(retrieval.persona_id == item.get("persona"))
        assets.add(any(h.unit.ref_id in item["acceptable_assets"] for h in retrieval.assets[:3]))
    return {"map": load_map(SECOND_MAP).journey_map.name, "questions": len(items), "stage": stage.rate,
            "persona": persona.rate, "asset_top3": assets.rate}


def big_portal(companies: int = 10_000, deals: int = 50_000) -> dict[str, Any]:
    """Name matching cost with a large portal's names (the corpus's own plus generated
    ones): every test-split message, timed alone."""
    from skills.entities import find_entities

    records = list(corpus_directory(with_sandbox=False).records)
    records += [NamedRecord("company", f"g{i}", f"Company {i:05d} Holdings") for i in range(companies)]
    records += [NamedRecord("deal", f"h{i}", f"Platform deal {i:05d}") for i in range(deals)]
    directory = NameDirectory.of(records)
    started = time.perf_counter()
    _ = directory.fuzzy_choices  # built with the directory, off the message path
    build_s = time.perf_counter() - started
    timings = []
    for item in load_items("test"):
        started = time.perf_counter()
        find_entities(item["text"], directory)
        timings.append((time.perf_counter() - started) * 1000)
    return {"names": len(directory), "build_s": round(build_s, 2), "p50_ms": round(percentile(timings, 50), 2),
            "p95_ms": round(percentile(timings, 95), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev", choices=("dev", "test", "all"))
    parser.add_argument("--misses", action="store_true", help="list what was missed (dev only, to tune)")
    parser.add_argument("--second-map", action="store_true")
    parser.add_argument("--big-portal", action="store_true", help="name matching with 60,000 CRM names")
    args = parser.parse_args()
    if args.big_portal:
        print(json.dumps(big_portal(), indent=2))
        return
    if args.second_map:
        print(json.dumps(second_map(), indent=2))
        return
    _, retriever, understander = setup()
    report = evaluate(retriever, understander, load_items(args.split))
    print(json.dumps({"split": args.split, **report.summary()}, indent=2))
    if args.misses:
        if args.split != "dev":
            raise SystemExit("--misses lists dev misses only: tune on dev, report test")
        for miss in report.misses:
            print(json.dumps(miss, ensure_ascii=False))


if __name__ == "__main__":
    main()
