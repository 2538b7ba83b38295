"""Title cues: the single words of a map's persona titles that imply a persona."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.inference import MapInference, title_cues
from knowledge.models import JourneyMap
from knowledge.validation import load_map

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample() -> JourneyMap:
    return load_map(ROOT / "knowledge" / "data" / "sample_map.yaml").journey_map


def _with_aliases(journey_map: JourneyMap, aliases: dict[str, list[str]]) -> JourneyMap:
    personas = [p.model_copy(update={"aliases": aliases.get(p.id, p.aliases)}) for p in journey_map.personas]
    return journey_map.model_copy(update={"personas": personas})


def test_a_word_of_one_persona_only_is_a_cue(sample: JourneyMap) -> None:
    cues = title_cues(sample)
    assert cues["cfo"] == "finance" and cues["ciso"] == "technical-evaluator" and cues["cro"] == "economic-buyer"


def test_a_shared_title_word_goes_to_the_persona_holding_most_of_it(sample: JourneyMap) -> None:
    # "VP Sales", "VP of Sales" (economic buyer) against "VP RevOps" and "VP Finance".
    assert title_cues(sample)["vp"] == "economic-buyer"
    shifted = _with_aliases(sample, {"economic-buyer": ["CRO", "VP Sales"],
                                     "champion": ["VP RevOps", "VP of Revenue Operations", "VP GTM"]})
    assert title_cues(shifted)["vp"] == "champion"


def test_a_shared_word_split_evenly_or_used_by_the_stage_definitions_is_no_cue(sample: JourneyMap) -> None:
    # The economic buyer's name says "VP Sales" too: two against two.
    even = _with_aliases(sample, {"economic-buyer": ["CRO", "VP Sales"], "champion": ["VP RevOps", "VP GTM"]})
    assert "vp" not in title_cues(even)
    # "Economic buyer" and "budget buyer": the stage definitions speak of "the buyer" in general.
    assert any("buyer" in s.definition.lower() for s in sample.stages)
    assert "buyer" not in title_cues(sample)


def test_a_pair_of_title_words_is_a_cue_where_neither_word_is_one(sample: JourneyMap) -> None:
    cues = title_cues(sample)
    # "sales ops director" (champion, alias and job-title patterns) against "sales ops analyst".
    assert "sale" not in cues and "ops" not in cues
    assert cues["sale ops"] == "champion"
    assert cues["salesforce admin"] == "technical-evaluator"
    # Function words break pairs; a pair holding a cue word leaves it to that word.
    assert "director of" not in cues and "of revop" not in cues
    assert "chief revenue" in cues and "vp sale" not in cues


def test_the_persona_a_text_cues(sample: JourneyMap) -> None:
    inference = MapInference(None, None, title_cues(sample))
    assert inference.cued_persona("the sales ops guy is running the rollout") == "champion"
    assert inference.cued_persona("the VP asked how this differs from our CRM") == "economic-buyer"
    assert inference.cued_persona("our salesforce admin and the CFO both asked") is None  # they disagree
    assert inference.cued_persona("the director of the team asked") is None


def test_a_word_naming_a_stage_is_about_the_stage_not_a_person(sample: JourneyMap) -> None:
    # "decision maker" is the economic buyer's, but "Decision" is also a stage of the map.
    assert any(s.name == "Decision" for s in sample.stages)
    assert "decision" not in title_cues(sample)
    assert MapInference(None, None, title_cues(sample)).cued_persona("what does the decision stage look like?") is None
    renamed = sample.model_copy(update={"stages": [s.model_copy(update={"name": "Commit"}) if s.name == "Decision"
                                                   else s for s in sample.stages]})
    assert title_cues(renamed)["decision"] == "economic-buyer"


def test_a_bare_map_gives_cues_from_its_persona_names_alone(sample: JourneyMap) -> None:
    # No aliases, job-title patterns or HubSpot roles: only the personas' names speak.
    personas = [p.model_copy(update={"aliases": [], "job_title_patterns": [], "hubspot_buying_roles": []})
                for p in sample.personas]
    stages = [s.model_copy(update={"aliases": []}) for s in sample.stages]
    bare = sample.model_copy(update={"personas": personas, "stages": stages})
    cues = title_cues(bare)
    assert cues and set(cues.values()) <= {p.id for p in personas}
    assert cues.get("cfo") == "finance"  # from "Financial gatekeeper (CFO, FP&A, procurement)"
    assert cues["vp"] == "economic-buyer"  # "Economic buyer (CRO / VP Sales)"


def test_a_short_everyday_word_of_a_title_is_no_cue(sample: JourneyMap) -> None:
    # "go" of "go-to-market operations" (the champion's job-title pattern): "go live", "go past the trial".
    assert any("go" in p.lower() for p in next(p for p in sample.personas if p.id == "champion").job_title_patterns)
    assert "go" not in title_cues(sample)
    assert MapInference(None, None, title_cues(sample)).cued_persona("prospect wants proof before they go past the trial") is None
