"""Loading and validating the knowledge base (the YAML files under ``rules/``).

``load_knowledge_base`` reads every ``*.yaml`` file of a folder, checks all of
it against the case vocabulary and against itself, and returns a frozen
:class:`KnowledgeBase`. It collects every problem (with file and line) before
failing once with :class:`~triage.errors.KnowledgeBaseError`, so one run shows
them all. Nothing read from a file is ever evaluated as code.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any

from .case import Case, blank_answers, parse_case
from .conclusions import CONCLUSION_KINDS, STRENGTHS, Conclusion, Names, Refer, before_any_firing, kind_of
from .errors import CaseError, InputFileError, KnowledgeBaseError, Location, Problem
from .kb.conditions import Condition, parse_when
from .kb.model import DispositionAdvice, KnowledgeBase, KnowledgeRule, Question, Source, Technique
from .questions import parse_questions
from .vocabulary import SCREENING_FIELDS, Disposition, Vocabulary, not_allowed, parse_vocabulary
from .yamlio import YamlList, YamlMap, line_of, load_yaml

RULE_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
NAME_ID = re.compile(r"^[a-z0-9_-]+$")

#: Laid under every rule example, so that examples only say what matters.
EXAMPLE_BASE: dict[str, Any] = {"pain_sites": ["lower_back"], "red_flags": [], "conditions": []}

_SECTIONS = ("knowledge_base", "vocabulary", "sources", "derived_facts", "rules", "techniques",
             "questions")
#: Sections defined once, as a whole (not lists merged across files).
_SINGLE_SECTIONS = ("vocabulary", "questions")
_RULE_KEYS = ("id", "description", "sources", "salience", "when", "then", "examples")
_TECHNIQUE_KEYS = ("id", "name", "kind", "for", "steps", "hold", "cautions", "sources")
_TECHNIQUE_KINDS = ("warming", "stretch", "massage", "rest")


def default_rules_dir() -> Path:
    """The bundled knowledge base: inside the installed wheel, or the repo's ``rules/``."""
    packaged = Path(str(resources.files("triage"))) / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def knowledge_base_files(directory: Path) -> tuple[list[Path], list[Problem]]:
    """The files that make up the knowledge base in ``directory``, in load order.

    Every entry of the folder must be a regular, readable ``*.yaml`` or
    ``*.yml`` file (hidden entries, starting with ``.``, are ignored). Anything
    else is a problem, never a skip: a red-flag file that became a dangling
    link, a FIFO or ``RED-FLAGS.YAML`` must not silently drop its rules.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        where = Location(str(path))
        if path.suffix not in (".yaml", ".yml"):
            shown = " (extensions are lower case: .yaml or .yml)" if path.suffix.lower() in (
                ".yaml", ".yml") else ""
            problems.append(Problem(where, "not a knowledge-base file: every entry of the folder "
                                    f"must be a *.yaml or *.yml file{shown}; move it elsewhere"))
        elif path.is_symlink() and not path.exists():
            problems.append(Problem(where, "a link to nothing (dangling or looping symbolic link)"))
        elif not path.is_file():
            problems.append(Problem(where, "not a regular file (a folder, FIFO or device)"))
        else:
            files.append(path)
    return files, problems


def kb_version(files: list[Path], directory: Path) -> str:
    """A hash of the knowledge base's files: names and contents.

    Line endings are normalised, so a checkout with CRLF endings hashes the
    same as one with LF; anything else that changes a file changes the hash.
    """
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return "sha256:" + digest.hexdigest()


def load_knowledge_base(directory: Path | str | None = None) -> KnowledgeBase:
    """Load, validate and return the knowledge base in ``directory``.

    Raises :class:`KnowledgeBaseError` listing every problem found.
    """
    directory = Path(directory) if directory is not None else default_rules_dir()
    if not directory.is_dir():
        raise KnowledgeBaseError([Problem(Location(str(directory)),
                                          "the knowledge base folder does not exist")])
    files, problems = knowledge_base_files(directory)
    reader = _Reader(directory)
    reader.problems.extend(problems)
    for path in files:
        reader.read_file(path)
    if not files:
        reader.problem(Location(str(directory)), "no *.yaml files in the knowledge base folder")
    return reader.finish(files)


class _Reader:
    """Accumulates the sections of every file, then validates across them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []
        self.settings: list[tuple[YamlMap, str]] = []
        self.raw: dict[str, list[tuple[Any, str]]] = {s: [] for s in _SECTIONS}
        self.vocabulary = Vocabulary({}, ())

    def problem(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where, message))

    def read_file(self, path: Path) -> None:
        name = str(path)
        try:
            data = load_yaml(path.read_text(encoding="utf-8-sig"), name)
        except InputFileError as exc:
            self.problem(exc.location, exc.message)
            return
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(Location(name), f"cannot read the file: {exc}")
            return
        if data is None:
            return
        if not isinstance(data, YamlMap):
            self.problem(Location(name, line_of(data) or 1),
                         f"a knowledge-base file must be a mapping with sections {', '.join(_SECTIONS)}")
            return
        for key, value in data.items():
            if key not in _SECTIONS:
                self._unknown_key(name, data, key, _SECTIONS, "section")
                continue
            if key == "knowledge_base":
                if isinstance(value, YamlMap):
                    self.settings.append((value, name))
                else:
                    self.problem(Location(name, data.line_of(key)), "knowledge_base must be a mapping")
            elif key in _SINGLE_SECTIONS:
                self.raw[key].append((value, name))
            elif isinstance(value, YamlList):
                self.raw[key].extend((item, name) for item in value)
                if any(not isinstance(item, YamlMap) for item in value):
                    self.problem(Location(name, data.line_of(key)), f"every entry of {key} must be a mapping")
            else:
                self.problem(Location(name, data.line_of(key)), f"{key} must be a list")

    def _unknown_key(self, file: str, mapping: YamlMap, key: Any, allowed: tuple[str, ...],
                     what: str) -> None:
        self.problem(Location(file, mapping.line_of(key)), not_allowed(f"unknown {what}", key, allowed))

    def _check_keys(self, file: str, mapping: YamlMap, allowed: tuple[str, ...], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self._unknown_key(file, mapping, key, allowed, what)

    # -- sections ---------------------------------------------------------
    def finish(self, files: list[Path]) -> KnowledgeBase:
        before = len(self.problems)
        self.vocabulary = vocabulary = self._vocabulary_section()
        if len(self.problems) > before:
            # Everything else is checked against the vocabulary: against a broken
            # one it would only add a cascade of misleading errors.
            raise KnowledgeBaseError(self.problems)
        sources = self._sources()
        derived = self._derived_facts()
        settings = self._settings()
        techniques = self._techniques(sources)
        rules = self._rules(sources, derived, techniques, settings.get("salience", {}))
        self._check_salience_order(rules)
        self._check_safety_floor(rules, vocabulary)
        questions: tuple[Question, ...] = ()
        raw_questions, questions_file = self._single("questions")
        if raw_questions is not None:
            questions = parse_questions(raw_questions, questions_file or "", self.problems, vocabulary)
        if self.problems:
            raise KnowledgeBaseError(self.problems)
        return KnowledgeBase(
            directory=self.directory,
            version=kb_version(files, self.directory),
            vocabulary=vocabulary,
            rules=tuple(rules),
            techniques=techniques,
            sources=sources,
            derived_facts=derived,
            evidence_weights=settings["evidence_weights"],
            dispositions=settings["dispositions"],
            always_advice=settings["always_advice"],
            files=tuple(files),
            questions=questions,
        )

    def _single(self, section: str) -> tuple[Any, str | None]:
        """A section that one file defines whole, and that file (``None`` if absent)."""
        found = self.raw[section]
        if len(found) > 1:
            self.problem(Location(found[1][1]), f"{section} is defined in more than one file "
                         f"(first in {found[0][1]})")
        return found[0] if found else (None, None)

    def _vocabulary_section(self) -> Vocabulary:
        raw, file = self._single("vocabulary")
        if raw is None:
            self.problem(Location(str(self.directory)), "no vocabulary section: the knowledge base "
                         "must define the case fields and their values (see rules/vocabulary.yaml)")
            return Vocabulary({}, ())
        return parse_vocabulary(raw, file or "", self.problems)

    def _ids(self, section: str, pattern: re.Pattern[str]) -> list[tuple[YamlMap, str, str]]:
        """The entries of a section that have a well-formed, unique id."""
        seen: dict[str, Location] = {}
        good = []
        for item, file in self.raw[section]:
            if not isinstance(item, YamlMap):
                continue
            where = Location(file, item.line)
            ident = item.get("id")
            if not isinstance(ident, str) or not pattern.match(ident):
                self.problem(where, f"{section} entry needs an id matching {pattern.pattern}, got {ident!r}")
                continue
            if ident in seen:
                self.problem(where, f"duplicate id {ident!r} (first at {seen[ident]})")
                continue
            seen[ident] = where
            good.append((item, file, ident))
        return good

    def _sources(self) -> dict[str, Source]:
        sources = {}
        for item, file, ident in self._ids("sources", NAME_ID):
            self._check_keys(file, item, ("id", "title", "kind", "note"), "source field")
            title = self._text(item, "title", file)
            sources[ident] = Source(ident, title, str(item.get("kind", "")), str(item.get("note", "")).strip())
        return sources

    def _derived_facts(self) -> dict[str, str]:
        facts = {}
        for item, file, ident in self._ids("derived_facts", re.compile(r"^[a-z0-9_]+$")):
            self._check_keys(file, item, ("id", "description"), "derived fact field")
            facts[ident] = self._text(item, "description", file)
        return facts

    def _settings(self) -> dict[str, Any]:
        if len(self.settings) != 1:
            where = Location(self.settings[1][1]) if self.settings else Location(str(self.directory))
            self.problem(where, f"exactly one file must have a knowledge_base section, found {len(self.settings)}")
        fallback = {"evidence_weights": {"strong": 0.6, "supporting": 0.2}, "salience": {},
                    "dispositions": {}, "always_advice": ()}
        if not self.settings:
            return fallback
        data, file = self.settings[0]
        self._check_keys(file, data, ("name", "description", "evidence_weights", "salience",
                                      "dispositions", "always_advice"), "knowledge_base field")
        out = dict(fallback)
        weights = data.get("evidence_weights")
        if isinstance(weights, YamlMap) and set(weights) == set(STRENGTHS) and all(
                isinstance(w, float) and 0 < w < 1 for w in weights.values()):
            out["evidence_weights"] = dict(weights)
        else:
            self.problem(Location(file, data.line_of("evidence_weights")),
                         "evidence_weights needs strong and supporting, each a number between 0 and 1")
        salience = data.get("salience")
        if isinstance(salience, YamlMap) and set(salience) == set(CONCLUSION_KINDS) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in salience.values()):
            out["salience"] = dict(salience)
        else:
            self.problem(Location(file, data.line_of("salience")),
                         f"salience needs a whole number for each of {', '.join(CONCLUSION_KINDS)}")
        out["dispositions"] = self._disposition_advice(data, file)
        always = data.get("always_advice")
        if _is_text_list(always):
            out["always_advice"] = tuple(always)
        else:
            self.problem(Location(file, data.line_of("always_advice")), "always_advice must be a list of texts")
        return out

    def _disposition_advice(self, data: YamlMap, file: str) -> dict[Disposition, DispositionAdvice]:
        advice = {}
        table = data.get("dispositions")
        if not isinstance(table, YamlMap):
            self.problem(Location(file, data.line_of("dispositions")), "dispositions must be a mapping")
            return advice
        for disposition in Disposition:
            entry = table.get(disposition.value)
            where = Location(file, table.line_of(disposition.value))
            if not isinstance(entry, YamlMap) or not isinstance(entry.get("headline"), str) \
                    or not _is_text_list(entry.get("advice")):
                self.problem(where, f"dispositions.{disposition.value} needs a headline and a list of advice")
                continue
            self._check_keys(file, entry, ("headline", "advice"), "disposition field")
            advice[disposition] = DispositionAdvice(entry["headline"], tuple(entry["advice"]))
        for key in table:
            if key not in {d.value for d in Disposition}:
                self._unknown_key(file, table, key, tuple(d.value for d in Disposition), "disposition")
        return advice

    def _techniques(self, sources: dict[str, Source]) -> dict[str, Technique]:
        techniques = {}
        for item, file, ident in self._ids("techniques", re.compile(r"^[a-z0-9_]+$")):
            self._check_keys(file, item, _TECHNIQUE_KEYS, "technique field")
            where = Location(file, item.line)
            kind = item.get("kind")
            if kind not in _TECHNIQUE_KINDS:
                self.problem(Location(file, item.line_of("kind")),
                             f"technique kind must be one of {', '.join(_TECHNIQUE_KINDS)}, got {kind!r}")
            targets = item.get("for")
            if not _is_text_list(targets) or not targets or any(
                    t not in self.vocabulary.muscles and t != "any" for t in targets):
                self.problem(Location(file, item.line_of("for")),
                             f"technique 'for' must list muscles ({', '.join(self.vocabulary.muscles)})"
                             f" or any, got {targets!r}")
                targets = []
            for key in ("steps", "cautions"):
                if not _is_text_list(item.get(key)) or not item.get(key):
                    self.problem(Location(file, item.line_of(key)), f"technique {key} must be a non-empty list of texts")
            techniques[ident] = Technique(
                id=ident, name=self._text(item, "name", file), kind=str(kind),
                for_muscles=tuple(targets), steps=tuple(item.get("steps") or ()),
                hold=self._text(item, "hold", file), cautions=tuple(item.get("cautions") or ()),
                sources=self._source_ids(item, file, sources), location=where)
        return techniques

    def _text(self, item: YamlMap, key: str, file: str) -> str:
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(Location(file, item.line_of(key)), f"{key} must be a non-empty text")
            return ""
        return value.strip()

    def _source_ids(self, item: YamlMap, file: str, sources: dict[str, Source]) -> tuple[str, ...]:
        value = item.get("sources")
        where = Location(file, item.line_of("sources"))
        if not _is_text_list(value) or not value:
            self.problem(where, "sources must list at least one source id (see sources.yaml)")
            return ()
        for source in value:
            if source not in sources:
                self.problem(where, not_allowed("unknown source", source, sources))
        return tuple(value)

    # -- rules -------------------------------------------------------------
    def _rules(self, sources: dict[str, Source], derived: dict[str, str],
               techniques: dict[str, Technique], salience: dict[str, int]) -> list[KnowledgeRule]:
        rules = []
        for item, file, ident in self._ids("rules", RULE_ID):
            self._check_keys(file, item, _RULE_KEYS, "rule field")
            where = Location(file, item.line, field=None)
            description = self._text(item, "description", file)
            rule_sources = self._source_ids(item, file, sources)
            conditions = parse_when(item, file, self.problems, self.vocabulary, derived)
            conclusion = self._conclusion(item, file, derived, techniques)
            if conclusion is None:
                continue
            self._check_safety(ident, conditions, conclusion, where)
            level = item.get("salience", salience.get(conclusion.kind, 0))
            if isinstance(level, bool) or not isinstance(level, int):
                self.problem(Location(file, item.line_of("salience")), f"salience must be a whole number, got {level!r}")
                level = 0
            fire, not_fire = self._examples(item, file, ident)
            rules.append(KnowledgeRule(ident, description, rule_sources, level, tuple(conditions),
                                       conclusion, fire, not_fire, where))
        return rules

    def _conclusion(self, item: YamlMap, file: str, derived: dict[str, str],
                    techniques: dict[str, Technique]) -> Conclusion | None:
        then = item.get("then")
        where = Location(file, item.line_of("then"))
        kind = kind_of(then, where, self.problems)
        if kind is None:
            return None
        self._check_keys(file, then, kind.keys, f"key for a {kind.kind} conclusion")
        return kind.parse(then, where, Names(derived, self.vocabulary.muscles, techniques),
                          self.problems)

    def _check_safety(self, ident: str, conditions: list[Condition], conclusion: Conclusion,
                      where: Location) -> None:
        """Refuse rules that could give techniques or self-care to a referred case."""
        required = conclusion.required_test()
        if required is None:
            return
        test, reason = required
        if test not in {(c.subject, c.operator, c.operand) for c in conditions}:
            self.problem(where, f"{ident}: {reason}")

    def _examples(self, item: YamlMap, file: str, ident: str) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        examples = item.get("examples")
        if examples is None:
            return (), ()
        out: dict[str, list[Case]] = {"fires": [], "does_not_fire": []}
        if not isinstance(examples, YamlMap):
            self.problem(Location(file, item.line_of("examples")), "examples must be a mapping with fires and does_not_fire")
            return (), ()
        self._check_keys(file, examples, tuple(out), "examples key")
        for key in out:
            listed = examples.get(key, [])
            if not isinstance(listed, list):
                self.problem(Location(file, examples.line_of(key)), f"examples.{key} must be a list of cases")
                continue
            for n, raw in enumerate(listed, start=1):
                line = listed.line_of(n - 1) if isinstance(listed, YamlList) else examples.line_of(key)
                case_id = f"{ident} {key} #{n}"
                merged = {**EXAMPLE_BASE, **raw} if isinstance(raw, dict) else raw
                try:
                    out[key].append(parse_case(merged, case_id, self.vocabulary, file=file, line=line))
                except CaseError as exc:
                    self.problem(exc.location, f"invalid example: {exc.message}")
        return tuple(out["fires"]), tuple(out["does_not_fire"])

    def _check_salience_order(self, rules: list[KnowledgeRule]) -> None:
        """A rule that tests for an absent conclusion must fire after all its producers."""
        producers: dict[str, list[KnowledgeRule]] = {}
        for rule in rules:
            subject = rule.conclusion.draws_subject
            if subject:
                producers.setdefault(subject, []).append(rule)
        for rule in rules:
            for condition in rule.conditions:
                if not condition.is_negative:
                    continue
                late = [p for p in producers.get(condition.subject, [])
                        if p.salience <= rule.salience and p is not rule]
                for producer in late:
                    self.problem(rule.location,
                                 f"{rule.id} (salience {rule.salience}) tests that {condition.subject} "
                                 f"lacks a conclusion that {producer.id} (salience {producer.salience}) "
                                 f"can still draw; give {rule.id} a lower salience")


    def _check_safety_floor(self, rules: list[KnowledgeRule], vocabulary: Vocabulary) -> None:
        """Refuse a knowledge base in which a red flag or condition could reach self-care.

        Every value of the screening fields must, reported alone by a case
        that says nothing else, make some referral rule hold; each sign of
        :data:`EMERGENCY_FLOOR` must make an emergency rule hold. This holds
        for every knowledge base, bundled or not, so deleting a rule file
        cannot silently send a red flag to self-care.
        """
        referrals = [r for r in rules if isinstance(r.conclusion, Refer)]
        for name in SCREENING_FIELDS:
            spec = vocabulary.fields.get(name)
            for value in spec.values if spec else ():
                lone = _lone_finding(vocabulary, name, value)
                urgencies = {r.conclusion.urgency for r in referrals
                             if _tests_value(r, name, value) and _holds_alone(r, lone)}
                where = vocabulary.location(name, value)
                if not urgencies:
                    self.problem(where, f"safety floor: no referral rule fires for {name} {value!r} "
                                 "reported alone; add a rule that refers it (e.g. in "
                                 "rules/red-flags.yaml or rules/referrals.yaml)")
                elif value in EMERGENCY_FLOOR.get(name, ()) and Disposition.EMERGENCY not in urgencies:
                    self.problem(where, f"safety floor: {name} {value!r} must be referred as an "
                                 "emergency; add an emergency rule for it (rules/red-flags.yaml)")
        for name, values in EMERGENCY_FLOOR.items():
            spec = vocabulary.fields.get(name)
            for value in values:
                if spec is not None and value not in spec.values:
                    self.problem(vocabulary.location(name), f"safety floor: the vocabulary must keep "
                                 f"the emergency sign {value!r} among the values of {name}")


#: Emergency signs that every knowledge base must keep and send to emergency
#: care (possible cauda equina syndrome, progressive neurological deficit,
#: spinal fracture). A floor under the data, not a copy of it.
EMERGENCY_FLOOR: dict[str, tuple[str, ...]] = {
    "red_flags": ("saddle_numbness", "bladder_or_bowel_change", "sexual_dysfunction",
                  "leg_weakness", "major_trauma"),
}


def _lone_finding(vocabulary: Vocabulary, name: str, value: str) -> dict[str, Any]:
    """A case that reports only ``value`` of ``name``: screened, every other answer unknown."""
    answers = blank_answers(vocabulary)
    answers[name] = frozenset({value})
    return answers


def _tests_value(rule: KnowledgeRule, name: str, value: str) -> bool:
    """Whether ``rule`` asks for ``value`` of the list field ``name`` (not merely allows it)."""
    return any(c.subject == name and c.operator in ("has", "has_any", "has_all")
               and value in c.values() for c in rule.conditions)


def _holds_alone(rule: KnowledgeRule, answers: dict[str, Any]) -> bool:
    """Whether every test of ``rule`` holds for ``answers`` before any conclusion is drawn."""
    before = before_any_firing()
    return all(c.holds(answers[c.subject] if c.on_case else before[c.subject])
               for c in rule.conditions)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


__all__ = [
    "CONCLUSION_KINDS", "Conclusion", "KnowledgeBase", "KnowledgeRule", "Source", "Technique",
    "default_rules_dir", "kb_version", "load_knowledge_base",
]
