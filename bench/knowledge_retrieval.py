"""Knowledge base benchmarks (`make bench`; numbers in docs/benchmarks.md).

    python bench/knowledge_retrieval.py swefaq      SweFAQ dev: top-1 within the category and against every answer
    python bench/knowledge_retrieval.py answertext  question to answer text on the base's own data (choosing BM25 and fusion)
    python bench/knowledge_retrieval.py heldout     catalogue held-out sets through the trained model
    python bench/knowledge_retrieval.py oos         out-of-scope questions through the trained model: answer rate
    python bench/knowledge_retrieval.py scale       a generated knowledge base of 5,000 answers per language
    python bench/knowledge_retrieval.py live        time for a published change to be answered by a running assistant
    python bench/knowledge_retrieval.py agreement   calibrates the classifier-agreement threshold (calibration data only)
    python bench/knowledge_retrieval.py loo         the decisions on the base's own leave-one-out questions (index with learned phrasings)
    python bench/knowledge_retrieval.py             all of them

SweFAQ questions are the example questions of the imported SweFAQ answers, so
the benchmark hides them: each SweFAQ answer is indexed by its answer text
only (passage embedding and BM25), the task the dataset was made for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.heldout import ROOT as REPO  # noqa: E402
from rasa_addons.knowledge import index as retrieval  # noqa: E402
from rasa_addons.knowledge.publish import ensure_published, index_root, load_publication  # noqa: E402
from rasa_addons.nlu import sentence_embeddings  # noqa: E402

SWEFAQ = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared")) / "data" / "swefaq" / "swefaq_dev.jsonl"
OUT_OF_SCOPE = {language: REPO / "bench" / "data" / f"out_of_scope_{language}.txt" for language in ("da", "sv")}


def _lines(path: Path) -> List[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------- SweFAQ


def swefaq() -> Dict[str, float]:
    """SweFAQ dev, two ways: each SweFAQ answer by its answer text only (the
    task the dataset was made for), and by its answer text with the example
    questions written for it from that text (what the shipped index holds,
    less the dataset's own question: the title and any example equal to a
    dev question are hidden)."""
    rows = [json.loads(line) for line in SWEFAQ.read_text(encoding="utf-8").splitlines() if line.strip()]
    publication = load_publication(index_root(), ensure_published())
    shipped = publication.languages["sv"]
    # The imported answer of each SweFAQ record (the importer appends the link).
    answer_id_of = {
        entry["answer"]: answer_id
        for answer_id, answer in publication.content["answers"].items()
        for language, entry in answer["languages"].items()
        if language == "sv" and answer_id.startswith("swefaq_")
    }
    gold = [answer_id_of[" ".join(r["candidate_answers"][r["label"]].split()) + f" Läs mer på {r['meta']['link']}"] for r in rows]
    text_of = {answer_id: text for text, answer_id in answer_id_of.items()}
    dataset_questions = {" ".join(r["question"].split()).casefold() for r in rows}

    swefaq_ids = [d.answer_id for d in shipped.documents if d.answer_id in text_of]
    swefaq_vectors = dict(zip(swefaq_ids, sentence_embeddings.embed_passages([text_of[i] for i in swefaq_ids])))
    chunk_texts = {i: retrieval.passage_chunks(text_of[i]) for i in swefaq_ids}
    all_chunks = [c for i in swefaq_ids for c in chunk_texts[i]]
    chunk_rows = iter(sentence_embeddings.embed_passages(all_chunks)) if all_chunks else iter(())
    chunk_vectors_of = {i: [next(chunk_rows) for _ in chunk_texts[i]] for i in swefaq_ids}
    question_vectors = sentence_embeddings.embed([r["question"] for r in rows])

    def index(with_written_examples: bool) -> "retrieval.LanguageIndex":
        # Every shipped Swedish answer; SweFAQ answers by their answer text
        # (whole, and in chunks when it is long, as the index does) and,
        # with_written_examples, the written example questions.
        documents, questions, passages, chunks = [], [], [], []
        shipped_chunk = 0
        for i, document in enumerate(shipped.documents):
            own = shipped.chunk_vectors[shipped_chunk : shipped_chunk + len(document.chunks)]
            shipped_chunk += len(document.chunks)
            start = shipped.question_starts[i]
            if document.answer_id in text_of:
                text = text_of[document.answer_id]
                kept = [
                    j for j, q in enumerate(document.questions)
                    if j > 0 and with_written_examples and " ".join(q.split()).casefold() not in dataset_questions
                ]
                written = [document.questions[j] for j in kept]
                documents.append(retrieval.Document(
                    document.answer_id, document.title, written, text, " ".join(written + [text]), chunk_texts[document.answer_id]
                ))
                if kept:
                    questions.append(shipped.question_vectors[[start + j for j in kept]])
                passages.append(swefaq_vectors[document.answer_id])
                chunks.extend(chunk_vectors_of[document.answer_id])
            else:
                documents.append(document)
                questions.append(shipped.question_vectors[start : start + len(document.questions)])
                passages.append(shipped.passage_vectors[i])
                chunks.extend(own)
        return retrieval.LanguageIndex(
            documents, np.vstack(questions), np.vstack(passages),
            chunk_vectors=np.vstack(chunks) if chunks else None,
        )

    result: Dict[str, Dict[str, float]] = {}
    for name, with_written_examples in (("answer_text_only", False), ("with_written_examples", True)):
        everything = index(with_written_examples)
        within, overall = [], []
        for row, answer_id, vector in zip(rows, gold, question_vectors):
            best_question, passage, relative = everything.component_scores(row["question"], vector)
            scores = everything.combine(best_question, passage, relative)
            overall.append(everything.answer_ids[int(np.argmax(scores))] == answer_id)
            # Within the category: BM25 relative to the category's best, as an
            # index of that category alone would score it.
            category = answer_id.rsplit("_", 1)[0] + "_"
            members = [j for j, other in enumerate(everything.answer_ids) if other.startswith(category)]
            lexical = retrieval.bm25_scores(everything.bm25, retrieval.tokens(row["question"]))[members]
            lexical = lexical / lexical.max() if lexical.max() > 0 else lexical
            local = everything.combine(best_question[members], passage[members], lexical)
            within.append(everything.answer_ids[members[int(np.argmax(local))]] == answer_id)
        written = sum(len(d.questions) for d in everything.documents if d.answer_id in text_of)
        result[name] = {
            "questions": len(rows),
            "top1_within_category": float(np.mean(within)),
            "top1_against_every_answer": float(np.mean(overall)),
            "answers_in_index": len(everything),
            "written_example_questions": written,
        }
        label = "answer text only" if not with_written_examples else f"answer text + {written} written example questions"
        print(f"SweFAQ dev ({len(rows)} questions), {label}: top-1 within the category {np.mean(within):.3f}; "
              f"against all {len(everything)} Swedish answers {np.mean(overall):.3f}")
    return result


def answer_text() -> Dict[str, Dict[str, float]]:
    """Question to answer text on the knowledge base's own data, the SweFAQ
    task without SweFAQ: the catalogue answers (not the SweFAQ ones) indexed
    by their answer text only, asked with their example questions and learned
    phrasings (data/nlu). Top-1 of e5 alone, BM25 alone (bm25s's k1 and b
    varied), their weighted sum and reciprocal-rank fusion; this is where
    the BM25 parameters and the fusion for answer-text retrieval can be
    chosen without looking at SweFAQ."""
    import bm25s

    from bench.heldout import training_examples
    from rasa_addons.knowledge.schema import KNOWLEDGE_DIR, load_knowledge_base

    kb = load_knowledge_base(KNOWLEDGE_DIR)
    learned = training_examples()
    result: Dict[str, Dict[str, float]] = {}
    for language in ("da", "sv"):
        answers = [a for a in kb.for_language(language) if not a.id.startswith("swefaq_")]
        position = {a.id: i for i, a in enumerate(answers)}
        texts = [a.entry(language).answer for a in answers]
        asked = [(q, position[a.id]) for a in answers for q in a.entry(language).examples]
        asked += [(text, position[topic]) for text, topic, lang in learned if lang == language and topic in position]
        gold = np.array([g for _, g in asked])
        dense = sentence_embeddings.embed([q for q, _ in asked]) @ sentence_embeddings.embed_passages(texts).T
        row = {"questions": len(asked), "e5": float((dense.argmax(1) == gold).mean())}
        dense_rank = np.argsort(np.argsort(-dense, 1), 1)
        for k1, b in ((1.2, 0.75), (1.5, 0.5), (1.5, 0.75), (1.5, 0.9), (2.0, 0.75)):
            bm25 = bm25s.BM25(k1=k1, b=b)
            bm25.index([retrieval.tokens(t) for t in texts], show_progress=False)
            lexical = np.array([retrieval.bm25_scores(bm25, retrieval.tokens(q)) for q, _ in asked])
            relative = lexical / np.maximum(lexical.max(1, keepdims=True), 1e-9)
            name = f"k1={k1},b={b}"
            row[f"bm25 {name}"] = float((lexical.argmax(1) == gold).mean())
            for weight in (0.1, 0.25, 0.5):
                row[f"e5 + {weight} bm25 {name}"] = float(((dense + weight * relative).argmax(1) == gold).mean())
            lexical_rank = np.argsort(np.argsort(-lexical, 1), 1)
            row[f"rrf {name}"] = float(((1 / (60 + dense_rank) + 1 / (60 + lexical_rank)).argmax(1) == gold).mean())
        result[language] = row
        print(f"answer text, {language} ({len(answers)} answers, {len(asked)} questions): "
              + "; ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "questions"))
    return result


# ---------------------------------------------------------------- through the model


def heldout() -> Dict[str, float]:
    from bench.heldout import evaluate_model

    results = evaluate_model(REPO / "models" / "ddh.tar.gz")
    summary = {}
    for language, result in results.items():
        counts = {d: result["decisions"].count(d) for d in ("intent", "answer", "close_call", "no_answer")}
        summary[language] = {k: result[k] for k in ("accuracy", "macro_f1", "strict_macro_f1", "close_call_rate")}
        print(f"held-out {language}: macro F1 {result['macro_f1']:.3f} (close call = first suggestion), "
              f"strict {result['strict_macro_f1']:.3f} (close call = not understood), accuracy {result['accuracy']:.3f}; "
              f"handled as {counts}")
    return summary


def out_of_scope() -> Dict[str, float]:
    import asyncio

    from rasa.core.agent import Agent

    from bench.heldout import KNOWLEDGE_INTENT

    ensure_published()
    agent = Agent.load(str(REPO / "models" / "ddh.tar.gz"))
    summary = {}
    total, answered_total = 0, 0
    for language, path in OUT_OF_SCOPE.items():
        questions = _lines(path)
        parsed = [asyncio.run(agent.parse_message(q)) for q in questions]
        answered, close, personal, wrong = 0, 0, 0, []
        for question, parse in zip(questions, parsed):
            intent = parse["intent"]["name"]
            decision = (parse.get("knowledge") or {}).get("decision")
            if intent == KNOWLEDGE_INTENT and decision == "answer":
                answered += 1
                wrong.append((question, parse["knowledge"]["answer_id"]))
            elif intent == KNOWLEDGE_INTENT and decision == "close_call":
                close += 1
            elif intent in ("payout_inquiry", "case_status_inquiry"):
                personal += 1
                wrong.append((question, intent))
        rate = (answered + personal) / len(questions)
        total += len(questions)
        answered_total += answered + personal
        summary[language] = {"questions": len(questions), "answer_rate": rate, "close_call_rate": close / len(questions)}
        print(f"out of scope {language} ({len(questions)}): answered {rate:.3f} "
              f"(knowledge {answered}, personal topic {personal}), close call {close / len(questions):.3f}")
        # Only what was answered, never the questions: the set stays unseen by
        # whoever writes content or calibration questions from these numbers.
        for given, count in sorted(Counter(given for _question, given in wrong).items()):
            print(f"    answered with {given}: {count}")
    summary["both"] = {"questions": total, "answer_rate": answered_total / total}
    print(f"out of scope da+sv ({total}): answered {answered_total / total:.3f}")
    return summary


def agreement() -> Dict[str, float]:
    """Calibrate the classifier-agreement rules of the KnowledgeRetriever on
    the calibration out-of-scope questions (knowledge/calibration/): which
    classifier probability would turn how many of them into an answer, when
    the classifier's answer is among the retriever's likeliest (any) and
    when it is the retriever's best candidate (first)."""
    import asyncio

    from rasa.core.agent import Agent

    from rasa_addons.knowledge.publish import calibration_questions
    from rasa_addons.nlu import knowledge_retriever

    ensure_published()
    knowledge_retriever.KnowledgeRetriever._with_classifier = lambda self, result, subranking, index: result
    agent = Agent.load(str(REPO / "models" / "ddh.tar.gz"))
    eligible: Dict[str, List[float]] = {"any": [], "first": []}
    total = 0
    for language in ("da", "sv"):
        for question in calibration_questions(REPO / "knowledge", language):
            total += 1
            parse = asyncio.run(agent.parse_message(question))
            knowledge = parse.get("knowledge") or {}
            best = (parse.get("intent_subranking") or [{}])[0]
            candidates = [c["answer_id"] for c in knowledge.get("candidates") or []]
            if (
                parse["intent"]["name"] == "knowledge_question"
                and knowledge.get("decision") != "answer"
                and (knowledge.get("confidence") or 0) >= 0.2
                and best.get("name") in candidates
            ):
                eligible["any"].append(float(best.get("confidence") or 0))
                if best.get("name") == candidates[0]:
                    eligible["first"].append(float(best.get("confidence") or 0))
    result: Dict[str, Dict[str, float]] = {"any": {}, "first": {}}
    for rule, probabilities in eligible.items():
        for threshold in (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.85, 0.9):
            result[rule][str(threshold)] = sum(p >= threshold for p in probabilities) / total
            print(f"agreement ({rule} candidate) at classifier probability {threshold}: "
                  f"{result[rule][str(threshold)]:.3f} of {total} calibration out-of-scope questions answered")
    return result


def loo_decisions() -> Dict[str, Dict[str, int]]:
    """What the decision does with the knowledge base's own leave-one-out
    questions, in the index the Rasa process assembles (the publication plus
    the learned phrasings of data/nlu, calibrated again): how many are right
    or wrong first, and answered, offered as a close call or refused. Where
    "Did you mean" and "no answer" come from, without the held-out sets."""
    from collections import Counter

    from bench.heldout import training_examples
    from rasa_addons.nlu.knowledge_retriever import _calibration_questions, merge

    publication = load_publication(index_root(), ensure_published())
    learned = training_examples()
    result: Dict[str, Dict[str, int]] = {}
    for language, language_index in publication.languages.items():
        rows = [(text, topic) for text, topic, lang in learned if lang == language and topic in language_index.position]
        texts = [text for text, _ in rows]
        vectors = sentence_embeddings.embed(texts) if texts else np.zeros((0, 384), dtype=np.float32)
        questions, question_vectors = _calibration_questions(publication, language)
        merged = merge(language_index, (texts, [topic for _, topic in rows], vectors), questions, question_vectors)
        features, correct, gold = retrieval.leave_one_out(merged)
        decisions = [merged.calibration.decide(p) for p in merged.calibration.probability(features)]
        calibration = merged.calibration
        print(f"leave-one-out {language}: answer threshold {calibration.answer_threshold:.2f}, "
              f"close call threshold {calibration.close_threshold:.2f}")
        for part in ("catalogue", "swefaq"):
            chosen = [k for k, g in enumerate(gold) if merged.answer_ids[g].startswith("swefaq_") == (part == "swefaq")]
            if not chosen:
                continue
            counts = Counter(("right" if correct[k] else "wrong") + " " + decisions[k] for k in chosen)
            result[f"{language} {part}"] = dict(sorted(counts.items()))
            print(f"    {part} ({len(chosen)} questions, right first {np.mean(correct[chosen]):.3f}): "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return result


# ---------------------------------------------------------------- scale

_WORDS = {
    "da": "ansøgning tilskud borger kommune frist betaling kort adresse bolig barn skole ældre pension bil vej affald "
          "byggeri tilladelse attest klage regning aftale ydelse opgørelse registrering fornyelse afmelding tilmelding "
          "selvbetjening underskrift fuldmagt vielse navn flytning sygdom hjælp plads venteliste bibliotek hal".split(),
    "sv": "ansökan bidrag medborgare kommun tidsfrist betalning kort adress bostad barn skola äldre pension bil väg avfall "
          "bygge tillstånd intyg klagomål faktura avtal ersättning beslut registrering förnyelse avanmälan anmälan "
          "etjänst underskrift fullmakt vigsel namn flytt sjukdom hjälp plats kö bibliotek hall".split(),
}
_QUESTION = {"da": ["hvordan søger jeg {a} {b}", "hvor finder jeg {a} til {b}", "hvad gælder for {a} og {b}"],
             "sv": ["hur söker jag {a} {b}", "var hittar jag {a} för {b}", "vad gäller för {a} och {b}"]}


def generated_knowledge_base(directory: Path, answers_per_language: int, seed: int = 7) -> None:
    """Benchmark content only: category files of generated answers."""
    import yaml

    rng = random.Random(seed)
    per_category = 250
    for c in range(answers_per_language // per_category):
        answers = []
        for k in range(per_category):
            number = c * per_category + k
            entry = {}
            for language in ("da", "sv"):
                words = _WORDS[language]
                a, b, extra = rng.sample(words, 3)
                entry[language] = {
                    "title": f"{a} {b} {number}",
                    "answer": f"{a.capitalize()} {b} {extra} {number}: " + " ".join(rng.sample(words, 12)) + f". https://example.org/{number}",
                    "examples": [t.format(a=a, b=f"{b} {number}") for t in _QUESTION[language][:2]],
                }
            answers.append({"id": f"generated_{number}", "source": "generated benchmark content", "last_verified": "2026-12-01", **entry})
        (directory / f"generated_{c:02d}.yml").write_text(
            yaml.safe_dump({"category": f"generated_{c:02d}", "name": f"Generated {c}", "answers": answers}, allow_unicode=True),
            encoding="utf-8",
        )


def _random_vectors(texts: List[str]) -> np.ndarray:
    """Stand-in vectors (unit length, like e5's) to time everything but the model."""
    rng = np.random.default_rng(len(texts))
    vectors = rng.standard_normal((len(texts), 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def scale(answers_per_language: int = 5000, queries: int = 300, real_embeddings: bool = False) -> Dict[str, float]:
    """Build, load and search a generated knowledge base. Without
    `real_embeddings` the first build uses stand-in vectors (the e5 time of a
    cold build is measured separately as texts per second and added up);
    every search embeds its message with the real model."""
    from rasa_addons.knowledge.publish import LiveIndex, publish

    workdir = Path(tempfile.mkdtemp(prefix="kb-scale-"))
    content, root = workdir / "knowledge", workdir / "index"
    content.mkdir()
    shutil.copytree(REPO / "knowledge" / "calibration", content / "calibration")
    generated_knowledge_base(content, answers_per_language)
    sentence_embeddings.embed(["warm up"])

    sample = [f"hvordan søger jeg tilskud til bolig {i}" for i in range(256)]
    started = time.perf_counter()
    sentence_embeddings.embed(sample)
    per_text = (time.perf_counter() - started) / len(sample)
    texts_to_embed = 2 * answers_per_language * 4  # title, 2 examples, passage; two languages

    started = time.perf_counter()
    if real_embeddings:
        publish(content, root, log=lambda _: None)
    else:
        publish(content, root, embed_queries=_random_vectors, embed_passages=_random_vectors, log=lambda _: None)
    cold_without_model = time.perf_counter() - started
    cold = cold_without_model if real_embeddings else cold_without_model + per_text * texts_to_embed
    # One answer changes: the rebuild embeds only its texts.
    path = content / "generated_00.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("generated benchmark content", "generated benchmark content, edited", 1), encoding="utf-8")
    first = path.read_text(encoding="utf-8")
    path.write_text(first.replace("title: ", "title: Ændret ", 1), encoding="utf-8")
    started = time.perf_counter()
    publish(content, root, log=lambda _: None)
    warm = time.perf_counter() - started

    # Memory and load time in a fresh process, as a server would load it.
    import subprocess

    probe = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from bench.knowledge_retrieval import _rss_mb\n"
        "from rasa_addons.knowledge.publish import LiveIndex\n"
        "import numpy, bm25s\n"
        "before = _rss_mb(); started = time.perf_counter()\n"
        "LiveIndex(__import__('pathlib').Path(%r)).load_now()\n"
        "print(_rss_mb() - before, time.perf_counter() - started)\n"
    ) % (str(REPO), str(root))
    measured = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    extra_memory, load_seconds = float(measured[-2]), float(measured[-1])
    publication = LiveIndex(root).load_now()

    rng = random.Random(3)
    latencies, search_only = {}, {}
    for language in ("da", "sv"):
        words = _WORDS[language]
        texts = [rng.choice(_QUESTION[language]).format(a=rng.choice(words), b=f"{rng.choice(words)} {rng.randrange(5000)}") + f" {i}" for i in range(queries)]
        total, search = [], []
        for text in texts:
            t0 = time.perf_counter()
            vector = sentence_embeddings.embed([text])[0]
            t1 = time.perf_counter()
            publication.search(language, text, vector)
            t2 = time.perf_counter()
            total.append((t2 - t0) * 1000)
            search.append((t2 - t1) * 1000)
        latencies[language] = float(np.percentile(total, 95))
        search_only[language] = float(np.percentile(search, 95))
    shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "answers_per_language": answers_per_language,
        "real_embeddings_in_cold_build": real_embeddings,
        "e5_ms_per_text": per_text * 1000,
        "build_cold_seconds_without_e5": cold_without_model,
        "build_cold_seconds": cold,
        "build_one_change_seconds": warm,
        "load_seconds": load_seconds,
        "extra_memory_mb": extra_memory,
        "p95_ms_with_embedding": latencies,
        "p95_ms_search_only": search_only,
    }
    print(f"e5: {per_text * 1000:.1f} ms per text in batches; a cold build embeds {texts_to_embed} texts")
    print(f"generated KB, {answers_per_language} answers per language: index build {cold:.1f} s from scratch "
          f"({cold_without_model:.1f} s without the model), "
          f"{warm:.1f} s after one change; load {load_seconds:.2f} s, +{extra_memory:.0f} MB; "
          f"p95 per message {latencies} ms (embedding + search), search alone {search_only} ms")
    return result


# ---------------------------------------------------------------- live


def live() -> Dict[str, float]:
    """Start the real Rasa and action servers, publish a new answer, time
    until a citizen gets it."""
    from tests.support.assistant import running_assistant
    from tests.support.knowledge import EXTRA_ANSWER_ID, knowledge_copy, publish_into

    workdir = Path(tempfile.mkdtemp(prefix="kb-live-"))
    question = "hvornår har genbrugspladsen åbent i weekenden"
    with running_assistant(workdir / "assistant") as assistant:
        content = knowledge_copy(workdir / "content", extra_answer=True)
        started = time.perf_counter()
        publish_into(assistant.knowledge_root, content)
        published = time.perf_counter()
        sender = f"bench-{time.time()}"
        while True:
            reply = assistant.send(sender, question, {"language": "da", "municipality": "101"})
            if reply["nlu"]["topic"] == EXTRA_ANSWER_ID:
                break
            if time.perf_counter() - started > 180:
                raise SystemExit("the change did not go live within 180 s")
            time.sleep(0.5)
        live_seconds = time.perf_counter() - published
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"a published change is live after {live_seconds:.1f} s (publishing it took {published - started:.1f} s)")
    return {"publish_seconds": published - started, "live_seconds": live_seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="*", default=["swefaq", "heldout", "oos", "scale", "live"])
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--real-embeddings", action="store_true", help="embed the generated answers with e5 (slow)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    import logging

    from rasa.utils.log_utils import configure_structlog

    # Rasa's own debug lines would print the questions of the sets.
    os.environ["LOG_LEVEL"] = "WARNING"
    logging.basicConfig(level=logging.WARNING)
    configure_structlog(logging.WARNING)
    runners = {"agreement": agreement, "loo": loo_decisions, "answertext": answer_text, "swefaq": swefaq, "heldout": heldout, "oos": out_of_scope, "scale": lambda: scale(args.answers, real_embeddings=args.real_embeddings), "live": live}
    results = {name: runners[name]() for name in args.what}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
