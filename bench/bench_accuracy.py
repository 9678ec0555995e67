"""How often `explain` names the right cause first on real pastes from public issues and forums.

Reads every `fixtures/corpus/*.jsonl` file (each case: its source, the verbatim text, the cause the thread
established). A case is right when the first diagnosis's slug is the case's `expected` slug (or one of its
`also_right`), or, for a cause the corpus labels without a catalog slug, the slug `causes.toml` maps it to; a
Vertex AI entry also counts for a case labelled with the general entry it refines (`causes.toml` [refines]) when
the case's thread established a Vertex AI cause.
Prints the figure for the cases labelled certain and for all, per cause, and lists every miss.

    python bench/bench_accuracy.py [--all] [--misses] [--file PATTERN]
"""

from __future__ import annotations

import argparse
from collections import Counter

from corpus import CORPUS, Case, grade, load_cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print each miss with its text")
    parser.add_argument("--file", default="*.jsonl", help="glob of corpus files under fixtures/corpus")
    args = parser.parse_args()
    cases = load_cases(CORPUS, args.file)
    results = [(case, grade(case)) for case in cases]
    for label, chosen in (("certain", [r for r in results if r[0].confidence == "certain"]), ("all", results)):
        right = sum(1 for _, g in chosen if g.right)
        print(f"{label}: {right}/{len(chosen)} right first ({100 * right / max(1, len(chosen)):.1f}%)")
    per_cause: Counter[str] = Counter()
    per_cause_right: Counter[str] = Counter()
    for case, g in results:
        per_cause[case.target] += 1
        per_cause_right[case.target] += g.right
    print("\nper cause (right/all):")
    for cause, count in sorted(per_cause.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {cause:32} {per_cause_right[cause]}/{count}")
    refused = [c for c, g in results if g.refused]
    print(f"\nrefused (exit 2 or a traceback): {len(refused)}")
    misses = [(c, g) for c, g in results if not g.right]
    print(f"misses: {len(misses)}")
    for case, g in misses:
        _print_miss(case, g, args.misses)


def _print_miss(case: Case, g, verbose: bool) -> None:
    print(f"- {case.id} [{case.confidence}] want {case.target}, got {g.first or 'nothing'} ({case.source})")
    if verbose:
        print("    " + case.text[:400].replace("\n", "\n    "))


if __name__ == "__main__":
    main()
