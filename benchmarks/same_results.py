"""Digest every result triage gives, to show a refactoring changed none of them.

    python benchmarks/same_results.py --output before.txt      # on the old commit
    python benchmarks/same_results.py --compare before.txt     # on the new one

It hashes (SHA-256) the bytes of:

- ``triage run`` on each bundled example (``examples/``), in every output
  format but the terminal table, one worker (the CLI end to end, error
  records and audit trails included);
- the JSON of 20,000 generated cases (``benchmarks/cases.py``, seed 6)
  triaged in this process;
- every reply of ``TriageKB.next_question`` (the web questionnaire and
  ``/api/v1/next``) on the walk of each golden case (``tests/golden/``) and
  of 30 generated people through the questionnaire, one request per answer.

One line per input; ``--compare`` exits 1 and names the lines that differ.
The knowledge base's version is masked before hashing: it hashes the files of
``rules/``, so a knowledge-base edit that must change no result (a comment, a
lint mark) can be checked too.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import generate_cases, questionnaire_answers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Output formats whose bytes are compared (the table depends on the terminal width).
FORMATS = ("jsonl", "json", "yaml", "csv")
#: Generated batches: (number of cases, seed).
GENERATED = ((20_000, 6),)
#: Generated people walked through the questionnaire (besides the golden cases).
WALKS = 30


def main() -> None:
    """Compute the digests; write, print or compare them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="write the digests to this file")
    parser.add_argument("--compare", type=Path, help="compare with digests written earlier")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"which digests, comma-separated (default: {','.join(PARTS)})")
    args = parser.parse_args()

    from triage.kb import load_knowledge_base

    version = load_knowledge_base().version.encode("utf-8")
    lines = [line for part in args.parts.split(",") for line in PARTS[part](version)]
    text = "".join(line + "\n" for line in lines)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    if args.compare is None:
        if args.output is None:
            sys.stdout.write(text)
        return
    before = args.compare.read_text(encoding="utf-8").splitlines()
    differ = sorted(set(before) ^ set(lines))
    if differ:
        sys.stdout.write("results differ:\n" + "".join(f"  {line}\n" for line in differ))
        sys.exit(1)
    sys.stdout.write(f"same results: {len(lines)} digests identical\n")


def example_digests(version: bytes) -> list[str]:
    """One digest per bundled example and output format, from the CLI."""
    found = []
    for example in sorted((ROOT / "examples").iterdir()):
        for fmt in FORMATS:
            run = subprocess.run(
                [sys.executable, "-m", "triage", "run", str(example), "--format", fmt,
                 "--workers", "1", "--quiet"],
                capture_output=True, cwd=ROOT, check=False)
            digest = hashlib.sha256(_masked(run.stdout + run.stderr, version)).hexdigest()
            found.append(f"examples/{example.name} {fmt} exit={run.returncode} {digest}")
    return found


def generated_digests(version: bytes) -> list[str]:
    """One digest per generated batch, triaged in this process."""
    from triage.case import parse_case
    from triage.formats import to_json
    from triage.session import TriageSession

    session = TriageSession()
    vocabulary = session.kb.vocabulary
    found = []
    for count, seed in GENERATED:
        digest = hashlib.sha256()
        for n, raw in enumerate(generate_cases(count, seed), start=1):
            result = session.triage(parse_case(raw, f"gen#{n}", vocabulary))
            digest.update(_masked(to_json(result).encode("utf-8"), version) + b"\n")
        found.append(f"generated count={count} seed={seed} {digest.hexdigest()}")
    return found


def walk_digests(version: bytes) -> list[str]:
    """One digest per walk through the questionnaire: every reply, as the JSON API sends it."""
    import json

    import yaml

    from triage.api import load

    api = load()
    people = [(entry["name"], entry["case"]) for name in ("cases.yaml", "policy-v2.yaml")
              for entry in yaml.safe_load((ROOT / "tests" / "golden" / name).read_text())]
    people += [(f"generated#{n}", case) for n, case in enumerate(generate_cases(WALKS, seed=7), start=1)]
    found = []
    for name, case in people:
        person = questionnaire_answers(case, api.kb.questions)
        digest = hashlib.sha256()
        answers: dict[str, object] = {}
        while True:
            reply = api.next_question(answers)
            digest.update(_masked(json.dumps(reply, ensure_ascii=False).encode("utf-8"), version) + b"\n")
            if "question" not in reply:
                break
            answers[reply["question"]["id"]] = person[reply["question"]["id"]]
        found.append(f"walk {name} steps={len(answers)} {digest.hexdigest()}")
    return found


def _masked(output: bytes, version: bytes) -> bytes:
    return output.replace(version, b"KB_VERSION")


#: The digests by part (``--parts``).
PARTS = {"examples": example_digests, "generated": generated_digests, "walks": walk_digests}


if __name__ == "__main__":
    main()
