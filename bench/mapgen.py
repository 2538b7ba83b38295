"""A large journey map for benchmarks: the sample map plus thousands of generated assets
that read like real ones (titles and summaries built from the map's own buyer questions,
personas and formats), so they compete with the real assets in retrieval."""

from __future__ import annotations

import datetime as dt
import random

from knowledge.models import ContentAsset, JourneyMap

FORMATS = ["blog_post", "guide", "webinar", "case_study", "checklist", "video", "datasheet", "template", "faq", "whitepaper"]
OPENERS = ["A practical guide", "Field notes", "Playbook", "Explainer", "Checklist", "Webinar recording", "Customer story",
           "Worksheet", "Primer", "Deep dive"]
ANGLES = [
    "with examples from mid-market SaaS teams",
    "for teams running Salesforce or HubSpot",
    "with a worked example and a template",
    "based on interviews with 40 revenue leaders",
    "in under ten minutes",
    "with the numbers finance asks for",
    "for regulated industries",
    "for teams that forecast in spreadsheets today",
]


def generate_map(base: JourneyMap, total_assets: int, seed: int = 7) -> JourneyMap:
    rng = random.Random(seed)
    stages = base.stages
    personas = [p.id for p in base.personas]
    persona_names = {p.id: p for p in base.personas}
    assets = list(base.assets)
    seen: set[str] = set()
    n = 0
    while len(assets) < total_assets:
        n += 1
        stage = rng.choice(stages)
        question = rng.choice(stage.questions)
        persona = rng.choice(personas)
        pain = rng.choice(persona_names[persona].pain_points or ["unclear priorities"])
        fmt = rng.choice(FORMATS)
        topic = question.text.rstrip("?")
        answers = [question.id] if rng.random() < 0.6 else []
        title = f"{rng.choice(OPENERS)}: {topic[:80]}"
        angle = rng.choice(ANGLES)
        if (title, angle, persona) in seen:
            continue
        seen.add((title, angle, persona))
        assets.append(
            ContentAsset(
                id=f"as-gen-{n:05d}",
                title=title,
                url=f"https://www.fieldline.example/library/gen-{n:05d}",
                format=fmt,
                stages=[stage.id],
                personas=[persona] if rng.random() < 0.8 else [],
                answers=answers,
                summary=(f"{topic}? {angle.capitalize()}. Written for {persona_names[persona].name.lower()}s "
                         f"dealing with {pain.lower().rstrip('.')}."),
                owner="Content library",
                last_reviewed=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 300)),
            )
        )
    return base.model_copy(update={"assets": assets, "version": f"{base.version}-bench{total_assets}"})
