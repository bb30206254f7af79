"""Loading the knowledge base: the YAML files under ``rules/``, read, checked and frozen.

:func:`load_knowledge_base` reads every ``*.yaml`` file of a folder, splits
each into its sections (a list section such as ``rules:`` may be spread over
several files; ``vocabulary:`` and ``questions:`` are each defined by one),
hands every section to its parser, runs the checks across them
(:mod:`triage.kb.checks`) and returns a frozen
:class:`~triage.kb.model.KnowledgeBase`. The parsers append their problems
(with file and line) to one list, in the order the sections are read, and
the loader fails once with :class:`~triage.errors.KnowledgeBaseError`, so one
run shows them all. Nothing read from a file is ever evaluated as code.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

from ..conclusions import Names
from ..errors import InputFileError, KnowledgeBaseError, Location, Problem
from ..vocabulary import Vocabulary, parse_vocabulary
from ..yamlio import YamlList, YamlMap, line_of, load_yaml
from .checks import check_safety_floor, check_salience_order
from .derived import parse_derived_facts
from .entries import Entries, unknown_key
from .model import KnowledgeBase, Question
from .questions import parse_questions
from .rules import parse_rules
from .settings import parse_settings
from .sources import parse_sources
from .techniques import parse_techniques

_SECTIONS = ("knowledge_base", "vocabulary", "sources", "derived_facts", "rules", "techniques",
             "questions")
#: Sections defined once, as a whole (not lists merged across files).
_SINGLE_SECTIONS = ("vocabulary", "questions")


def default_rules_dir() -> Path:
    """The bundled knowledge base: inside the installed wheel, or the repo's ``rules/``."""
    packaged = Path(str(resources.files("triage"))) / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


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
    sections = _Sections(problems)
    for path in files:
        sections.read_file(path)
    if not files:
        problems.append(Problem(Location(str(directory)), "no *.yaml files in the knowledge base folder"))
    return _parse(directory, files, sections, problems)


class _Sections:
    """The sections of every file, gathered for their parsers; file-level problems go to ``problems``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        #: Each ``knowledge_base:`` section found, with its file (exactly one is expected).
        self.settings: list[tuple[YamlMap, str]] = []
        #: The entries of each list section, and each definition of a single section, with their files.
        self.raw: dict[str, Entries] = {s: [] for s in _SECTIONS}

    def problem(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where, message))

    def read_file(self, path: Path) -> None:
        """Read ``path`` and file its sections away (a file that cannot be read is a problem)."""
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
                unknown_key(name, data, key, _SECTIONS, "section", self.problems)
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

    def single(self, section: str) -> tuple[Any, str | None]:
        """A section that one file defines whole, and that file (``None`` if absent)."""
        found = self.raw[section]
        if len(found) > 1:
            self.problem(Location(found[1][1]), f"{section} is defined in more than one file "
                         f"(first in {found[0][1]})")
        return found[0] if found else (None, None)


def _parse(directory: Path, files: list[Path], sections: _Sections, problems: list[Problem]) -> KnowledgeBase:
    """Parse every section in dependency order, check across them, and build the knowledge base."""
    before = len(problems)
    vocabulary = _vocabulary(directory, sections)
    if len(problems) > before:
        # Everything else is checked against the vocabulary: against a broken
        # one it would only add a cascade of misleading errors.
        raise KnowledgeBaseError(problems)
    sources = parse_sources(sections.raw["sources"], problems)
    derived = parse_derived_facts(sections.raw["derived_facts"], problems)
    settings = parse_settings(sections.settings, directory, problems)
    techniques = parse_techniques(sections.raw["techniques"], sources, vocabulary.muscles, problems)
    rules = parse_rules(sections.raw["rules"], vocabulary, Names(derived, vocabulary.muscles, techniques),
                        sources, settings.salience, problems)
    check_salience_order(rules, problems)
    check_safety_floor(rules, vocabulary, problems)
    questions: tuple[Question, ...] = ()
    raw_questions, questions_file = sections.single("questions")
    if raw_questions is not None:
        questions = parse_questions(raw_questions, questions_file or "", problems, vocabulary)
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(
        directory=directory,
        version=kb_version(files, directory),
        vocabulary=vocabulary,
        rules=tuple(rules),
        techniques=techniques,
        sources=sources,
        derived_facts=derived,
        evidence_weights=settings.evidence_weights,
        dispositions=settings.dispositions,
        always_advice=settings.always_advice,
        files=tuple(files),
        questions=questions,
    )


def _vocabulary(directory: Path, sections: _Sections) -> Vocabulary:
    """The case vocabulary, which every other section is checked against."""
    raw, file = sections.single("vocabulary")
    if raw is None:
        sections.problem(Location(str(directory)), "no vocabulary section: the knowledge base "
                         "must define the case fields and their values (see rules/vocabulary.yaml)")
        return Vocabulary({}, ())
    return parse_vocabulary(raw, file or "", sections.problems)
