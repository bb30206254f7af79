"""The words of ``triage ask`` (triage/cli/ask_words.py): lines built from the questionnaire's data."""

from __future__ import annotations

import dataclasses

import pytest
from test_questionnaire import question

from triage.cli.ask_words import skipped_lines
from triage.conditions import Condition
from triage.knowledge import KnowledgeBase
from triage.questionnaire import NOT_APPLICABLE, Skipped


@pytest.mark.parametrize(("condition", "words"), [
    (Condition("age", "at_least", 60), ("only needed if your answer to 'How old are you, in years?' "
                                        "was at least 60")),
    (Condition("course", "is_any", ("worsening", "unchanged")),
     ("only needed if your answer to 'Over the last few days, is the pain...' was getting worse "
      "or about the same")),
    (Condition("conditions", "has_none", ("dvt", "burns")),
     ("only needed if your answer to 'Do you have any of these conditions?' included none of "
      "a blood clot in a deep vein (DVT) and burns on the back or legs")),
    (Condition("age", "unknown", True), ("only needed if your answer to 'How old are you, in years?' "
                                         "was left out")),
])
def test_a_skipped_question_says_in_plain_words_what_it_depends_on(
        kb: KnowledgeBase, condition: Condition, words: str) -> None:
    asked = dataclasses.replace(question(kb, "lower_back_curve"), when=(condition,))
    [_, _, _, line] = skipped_lines((Skipped(asked, NOT_APPLICABLE, "rule syntax"),), kb.questions)
    assert line == f"    - {asked.text} ({words})"
