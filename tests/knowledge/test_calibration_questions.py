"""The calibration's out-of-scope questions when editors add answers: a question
the content now answers leaves the set, and one question fewer does not move
the thresholds."""

from __future__ import annotations

from rasa_addons.knowledge import index as retrieval


def document(answer_id: str, *questions: str) -> retrieval.Document:
    return retrieval.Document(answer_id=answer_id, title=questions[0], questions=list(questions),
                              passage=questions[0], bm25_text=" ".join(questions))


BASE = [
    document("moving", "Anmäl flytt", "hur anmäler jag flytt", "var får jag anmäla ny adress"),
    document("passport", "Nytt pass", "hur ansöker jag om pass", "hur får jag nytt pass"),
    document("housing_benefit", "Bostadsbidrag", "hur ansöker jag om bostadsbidrag"),
    document("long", "Barnomsorg", "Min dotter flyttar hit om en månad och behöver plats i förskola, "
                                   "vad gör jag och hur är det med färdtjänst till förskolan?"),
]


def test_a_question_the_content_now_answers_leaves_the_calibration_set():
    questions = ["hur får jag färdtjänst", "hur ansöker jag om pension"]
    assert retrieval.answered_out_of_scope(BASE, questions) == []
    added = BASE[:-1] + [document("fardtjanst", "Färdtjänst", "Hur ansöker jag om färdtjänst?")]
    assert retrieval.answered_out_of_scope(added, questions) == ["hur får jag färdtjänst"]


def test_a_word_in_a_long_example_question_does_not_make_it_answered():
    # "färdtjänst" is in the long question only: that answer is not about it.
    assert retrieval.answered_out_of_scope(BASE, ["färdtjänst"]) == []


def test_the_targets_are_whole_questions():
    assert retrieval._nearest_count(retrieval.MAX_FALSE_ANSWER_RATE, 50) == 1
    assert retrieval._nearest_count(retrieval.MAX_FALSE_ANSWER_RATE, 49) == 1
    assert retrieval._nearest_count(retrieval.MAX_FALSE_CLOSE_CALL_RATE, 50) == 7
    assert retrieval._nearest_count(retrieval.MAX_FALSE_ANSWER_RATE, 10) == 0
