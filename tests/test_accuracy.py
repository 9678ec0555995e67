"""The doctor measured on real errors: pastes from public issues and forums, each with its source and the cause
the thread established (fixtures/corpus). This gates what issue 10 asks: the first diagnosis right for at least
95% of the cases labelled certain, and no case refused or crashing. `bench/bench_accuracy.py` prints the misses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from corpus import CORPUS, VERTEX_WORDS, grade, load_cases  # noqa: E402

CASES = load_cases()
GOAL = 0.95


def test_the_corpus_is_real_and_sourced() -> None:
    assert len(CASES) >= 165, "the shared 105 cases plus at least 60 found ones"
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids are unique"
    for case in CASES:
        assert case.source.strip(), f"{case.id}: no source"
        assert case.text.strip(), f"{case.id}: no text"
        assert not case.target.startswith("?"), f"{case.id}: cause {case.cause!r} maps to no catalog slug"
    shared = ROOT.parent / "shared" / "corpus" / "real-errors.jsonl"
    if shared.is_file():  # the project's copy keeps every case of the shared file, unchanged
        ours = (CORPUS / "real-errors.jsonl").read_text(encoding="utf-8").splitlines()
        theirs = shared.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in ours] == [json.loads(line) for line in theirs]


def test_first_diagnosis_is_right_for_95_percent_of_certain_cases() -> None:
    certain = [case for case in CASES if case.confidence == "certain"]
    misses = [(case.id, case.target, grade(case).first) for case in certain if not grade(case).right]
    rate = 1 - len(misses) / len(certain)
    assert rate >= GOAL, f"{rate:.1%} right first on {len(certain)} certain cases; misses: {misses}"


def test_vertex_errors_are_read_as_vertex_at_the_same_95_percent() -> None:
    """Issue 13: the certain cases whose paste, cause or note names Vertex AI, from every collection."""
    said = [(case, f"{case.text} {case.cause} {case.note}".lower()) for case in CASES if case.confidence == "certain"]
    vertex = [case for case, text in said if any(word in text for word in VERTEX_WORDS)]
    assert len(vertex) >= 30, "enough real Vertex AI cases to measure"
    misses = [(case.id, case.target, grade(case).first) for case in vertex if not grade(case).right]
    rate = 1 - len(misses) / len(vertex)
    assert rate >= GOAL, f"{rate:.1%} right first on {len(vertex)} certain Vertex AI cases; misses: {misses}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_no_case_is_refused_or_crashes(case) -> None:
    result = grade(case)
    assert not result.refused, f"refused: {result.error}"
    assert result.first is not None, "no diagnosis at all"


# Cases whose recognition is one line of data (or one small judgement) added for them (2026-12-03): each must
# keep being read right, and the layer that produced it named, so a later change to the matcher cannot drop them
# unnoticed inside the 95% margin.
DATA_LINES = {
    "h2-litellm-17074-vertex-3pro-image-thinking-level": ("thinking-config-unsupported", "relay: LiteLLM"),
    "h2-pollinations-4514-nanobanana-access-restricted": ("gateway-error", None),
    "h2-gcli2api-367-cli-channel-no-image-model-404": ("gateway-error", "relay: a relay's Gemini CLI"),
    "h2-pygenai-1534-number-of-images-extra-forbidden": ("invalid-argument", None),
    "h2-recipelanes-316-vertex-imagen4-retired-404": ("model-deprecated", "google: Vertex AI"),
    "h2-mscc-112-nano-banana-edit-retry-timeout": ("client-timeout", None),
    "langchain-google-877-imagen-via-generatecontent": ("wrong-endpoint", None),
    "h3-pygenai-967-imagen3-fast-vertex-only": ("wrong-model-name", None),
    "h3-amcwebui-28-image-size-not-applied": ("image-config-stripped", None),
    "h4-jsgenai-321-imagen-rai-filtered-all-images": ("safety-blocked", None),
    "h4-obot-2264-imagen-children-filter": ("safety-blocked", None),
    "h4-astrbot-qqgal-3-flash-preview-image-generation-retired": ("model-deprecated", None),
    "h4-vercelai-3776-image-only-message-needs-text": ("invalid-argument", None),
    "h4-vercelai-10674-gemini-image-model-on-predict": ("wrong-endpoint", None),
}


@pytest.mark.parametrize("case_id", sorted(DATA_LINES))
def test_a_case_learnt_from_one_line_of_data_is_read_right(case_id: str) -> None:
    from gemini_doctor.diagnosis import Context
    from gemini_doctor.explain import explain_document

    case = next(case for case in CASES if case.id == case_id)
    slug, layer = DATA_LINES[case_id]
    document = explain_document(case.text, "-", Context())
    assert document["diagnosis"][0]["slug"] == slug
    if layer:
        assert any(name.startswith(layer) for name in document["input"]["layers"]), document["input"]["layers"]
