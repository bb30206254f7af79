"""The generated SDC Questionnaire: one item per question, codings from the vocabulary, skip logic.

Every expectation is derived from the loaded knowledge base, so a new
field, question or value needs no change here.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir_helpers import codings
from helpers import ROOT

from triage.fhir.common import ENABLE_WHEN_EXPRESSION, NONE_OF_THESE, SCREEN_SYSTEM, field_system
from triage.fhir.questionnaire import HELP_SUFFIX, build_questionnaire, is_screen
from triage.kb import KnowledgeBase, load_knowledge_base

#: FHIR R4's enableWhen operators (required binding questionnaire-enable-operator).
ENABLE_OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}


@pytest.fixture(scope="module")
def questionnaire(kb: KnowledgeBase) -> dict[str, Any]:
    return build_questionnaire(kb)


def _all_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for item in items for i in (item, *_all_items(item.get("item", [])))]


def test_it_parses_as_an_r4b_questionnaire(questionnaire: dict[str, Any]) -> None:
    Questionnaire.model_validate(questionnaire)


def test_one_item_per_question_in_order_with_the_question_ids_as_link_ids(
        questionnaire: dict[str, Any], kb: KnowledgeBase) -> None:
    assert [item["linkId"] for item in questionnaire["item"]] == [q.id for q in kb.questions]
    assert [item["text"] for item in questionnaire["item"]] == [q.text for q in kb.questions]
    assert questionnaire["version"] == kb.version


def test_link_ids_are_unique(questionnaire: dict[str, Any]) -> None:
    link_ids = [item["linkId"] for item in _all_items(questionnaire["item"])]
    assert len(link_ids) == len(set(link_ids))


def test_every_question_keeps_its_help(questionnaire: dict[str, Any], kb: KnowledgeBase) -> None:
    for item, question in zip(questionnaire["item"], kb.questions, strict=True):
        (help_item,) = item["item"]
        assert (help_item["linkId"], help_item["type"], help_item["text"]) == (
            question.id + HELP_SUFFIX, "display", question.help)


def test_answer_options_are_the_choices_coded_in_their_field_system(
        questionnaire: dict[str, Any], kb: KnowledgeBase) -> None:
    for item, question in zip(questionnaire["item"], kb.questions, strict=True):
        if question.answer in ("number", "yes_no"):
            assert "answerOption" not in item
            assert item["type"] == {"number": "integer", "yes_no": "boolean"}[question.answer]
            continue
        offered = [o["valueCoding"] for o in item["answerOption"]]
        expected = [{"system": field_system(question.field), "code": c.value, "display": c.label}
                    for c in question.choices]
        if is_screen(question):
            expected.append({"system": SCREEN_SYSTEM, "code": NONE_OF_THESE, "display": "None of these"})
        assert offered == expected
        assert item.get("repeats", False) is (question.answer == "many")


def test_the_screens_are_required_and_nothing_else(questionnaire: dict[str, Any], kb: KnowledgeBase) -> None:
    screens = {name for name, spec in kb.vocabulary.fields.items() if spec.is_screen}
    assert screens  # the vocabulary has screens (red_flags, conditions, ...)
    for item, question in zip(questionnaire["item"], kb.questions, strict=True):
        assert item.get("required", False) is (question.field in screens)


def test_number_limits_come_from_the_vocabulary(questionnaire: dict[str, Any], kb: KnowledgeBase) -> None:
    for item, question in zip(questionnaire["item"], kb.questions, strict=True):
        if question.answer != "number":
            continue
        limits = {e["url"].rsplit("/", 1)[1]: e["valueInteger"] for e in item["extension"]
                  if e["url"].endswith(("/minValue", "/maxValue"))}
        expected = {"minValue": question.spec.minimum, "maxValue": question.spec.maximum}
        assert limits == {k: v for k, v in expected.items() if v is not None}


def test_every_coding_has_system_code_and_display(questionnaire: dict[str, Any]) -> None:
    found = codings(questionnaire)
    assert found
    for coding in found:
        assert all(isinstance(coding.get(k), str) and coding[k] for k in ("system", "code", "display")), coding


def test_enable_when_names_an_earlier_item_and_one_of_its_answers(questionnaire: dict[str, Any]) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for item in questionnaire["item"]:
        for condition in item.get("enableWhen", []):
            assert condition["question"] in seen, (item["linkId"], condition)
            assert condition["operator"] in ENABLE_OPERATORS
            target = seen[condition["question"]]
            if "answerCoding" in condition:
                assert condition["answerCoding"] in [o["valueCoding"] for o in target["answerOption"]]
        if len(item.get("enableWhen", [])) > 1:
            assert item["enableBehavior"] in ("all", "any")
        seen[item["linkId"]] = item


def test_every_question_with_skip_logic_has_it_in_fhir(questionnaire: dict[str, Any], kb: KnowledgeBase) -> None:
    for item, question in zip(questionnaire["item"], kb.questions, strict=True):
        expressions = [e for e in item.get("extension", []) if e["url"] == ENABLE_WHEN_EXPRESSION]
        has_logic = bool(question.when or question.when_any)
        assert bool(item.get("enableWhen") or expressions) is has_logic, question.id
        assert not (item.get("enableWhen") and expressions), "SDC allows one of the two, not both"
        for extension in expressions:
            expression = extension["valueExpression"]
            assert expression["language"] == "text/fhirpath"
            # Every answer it tests is one of an earlier item's.
            for condition in (*question.when, *(c for g in question.when_any for c in g)):
                assert all(f"'{v}'" in expression["expression"] for v in condition.values()
                           if isinstance(v, str))


def _evaluate(condition: dict[str, Any], answers: dict[str, list[Any]]) -> bool:
    """One enableWhen on the answers so far (R4's rules), for the flat ones."""
    given = answers.get(condition["question"], [])
    if condition["operator"] == "exists":
        return bool(given) is condition["answerBoolean"]
    key = next(k for k in condition if k.startswith("answer"))
    wanted = condition[key]
    if key == "answerCoding":
        given, wanted = [g["code"] for g in given], wanted["code"]
    compare = {"=": lambda a: a == wanted, "!=": lambda a: a != wanted, ">": lambda a: a > wanted,
               "<": lambda a: a < wanted, ">=": lambda a: a >= wanted, "<=": lambda a: a <= wanted}
    return any(compare[condition["operator"]](a) for a in given)


#: Skip logic of kinds the bundled questions do not use yet, added to a copy of rules/questions.yaml.
EXTRA_WHEN = {
    "  - field: course\n": "    when:\n      first_episode: {is: false}\n",
    "  - field: pain_side\n": "    when:\n      pain_sites: {has_any: [buttock, below_knee]}\n",
    "  - field: can_touch_toes\n": "    when:\n      age: {below: 70}\n",
}


@pytest.fixture(scope="module")
def skip_logic_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    rules = tmp_path_factory.mktemp("skip-logic") / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (rules / "questions.yaml").read_text()
    for anchor, when in EXTRA_WHEN.items():
        assert anchor in text
        text = text.replace(anchor, anchor + when, 1)
    (rules / "questions.yaml").write_text(text)
    return load_knowledge_base(rules)


def test_enable_when_enables_exactly_when_the_question_applies(
        skip_logic_kb: KnowledgeBase, golden_cases: list[dict[str, Any]],
        generated_cases: list[dict[str, Any]]) -> None:
    """FHIR's flat enableWhen, evaluated on each case's answers, agrees with the question's own when."""
    from triage.case import parse_case
    from triage.fhir.response import response_from_case

    kb = skip_logic_kb
    questionnaire = build_questionnaire(kb)
    flat = [(item, q) for item, q in zip(questionnaire["item"], kb.questions, strict=True) if item.get("enableWhen")]
    assert len(flat) >= len(EXTRA_WHEN)
    for raw in golden_cases + generated_cases:
        case = parse_case(raw, "case", kb.vocabulary)
        response = response_from_case(case, kb.questions, kb.version)
        answers = {i["linkId"]: [next(iter(a.values())) for a in i["answer"]] for i in response["item"]}
        for item, question in flat:
            results = [_evaluate(c, answers) for c in item["enableWhen"]]
            enabled = any(results) if item.get("enableBehavior") == "any" else all(results)
            assert enabled is question.applies(case.value), (case.id, question.id)


def test_a_value_added_to_the_knowledge_base_is_offered_without_code_changes(tmp_path: Path) -> None:
    """The "Adding a red flag" steps (docs/knowledge-base.md), and the Questionnaire offers the new sign."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    vocabulary = (rules / "vocabulary.yaml").read_text()
    anchor = "        saddle_numbness:"
    assert anchor in vocabulary
    (rules / "vocabulary.yaml").write_text(vocabulary.replace(
        anchor, "        chest_pain: pain or tightness in the chest\n" + anchor, 1))
    questions = (rules / "questions.yaml").read_text()
    anchor = "      saddle_numbness: "
    (rules / "questions.yaml").write_text(questions.replace(
        anchor, "      chest_pain: Pain or tightness in your chest\n" + anchor, 1))
    with (rules / "red-flags.yaml").open("a") as red_flags:
        red_flags.write(
            "\n  - id: refer.emergency.chest_pain\n"
            "    description: Back pain with chest pain can come from the heart or the aorta.\n"
            "    sources: [nice-cks-back-pain]\n"
            "    when:\n      red_flags: {has: chest_pain}\n"
            "    then:\n      refer: emergency\n"
            "      reason: Back pain with chest pain can come from the heart; call an ambulance now.\n"
            "    examples:\n      fires: [{red_flags: [chest_pain]}]\n      does_not_fire: [{red_flags: []}]\n")
    clinic = load_knowledge_base(rules)
    questionnaire = build_questionnaire(clinic)
    question = next(q for q in clinic.questions if any(c.value == "chest_pain" for c in q.choices))
    item = next(i for i in questionnaire["item"] if i["linkId"] == question.id)
    assert {"system": field_system("red_flags"), "code": "chest_pain", "display": "Pain or tightness in your chest"} \
        in [o["valueCoding"] for o in item["answerOption"]]
    assert questionnaire["version"] == clinic.version != load_knowledge_base().version
