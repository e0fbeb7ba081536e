"""Knowledge base commands.

    python -m rasa_addons.knowledge validate [--json]   check every file under knowledge/
    python -m rasa_addons.knowledge publish [--json]    build the index and switch to it
    python -m rasa_addons.knowledge gate --questions FILE [--heldout DIR] --json
                                                        the publish gate: the content against the live publication
    python -m rasa_addons.knowledge ensure              publish only if the content changed (and no
                                                        newer publication of the bridge is live), and
                                                        embed the gate's held-out questions ahead
    python -m rasa_addons.knowledge search "question" --language da
    python -m rasa_addons.knowledge import FILE --format csv|markdown|swefaq [--replace]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from rasa_addons.knowledge import importers
from rasa_addons.knowledge.publish import ensure_published, index_root, load_publication, publish
from rasa_addons.knowledge.schema import KNOWLEDGE_DIR, MUNICIPALITIES_FILE, ContentError, load_knowledge_base


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rasa_addons.knowledge", description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge", type=Path, default=KNOWLEDGE_DIR, help="the content directory")
    parser.add_argument("--index", type=Path, default=None, help="the publication directory (default var/knowledge)")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check the content files")
    validate.add_argument("--json", action="store_true", help="print the result as one JSON object (for tools)")
    published = commands.add_parser("publish", help="build the index and make it live")
    published.add_argument("--json", action="store_true", help="print the result as one JSON object (for tools)")
    published.add_argument("--origin", choices=["files", "bridge"], default="files",
                           help="who publishes: the content files, or the bridge's content store (`ensure` keeps a "
                                "bridge publication newer than the files)")
    gated = commands.add_parser("gate", help="evaluate the content against the live publication (held-out and regression sets)")
    gated.add_argument("--questions", type=Path, required=True, help='JSON {"questions": [{"language", "question", "answer_id"}]}: the regression set')
    gated.add_argument("--heldout", type=Path, default=None, help="the held-out sets' directory (default tests/nlu)")
    gated.add_argument("--json", action="store_true", help="print the result as one JSON object (the only output form)")
    commands.add_parser("ensure", help="publish if nothing is published or the content changed")
    search = commands.add_parser("search", help="ask the live index a question")
    search.add_argument("question")
    search.add_argument("--language", default="da", choices=["da", "sv"])
    imported = commands.add_parser("import", help="import FAQ content into category files")
    imported.add_argument("file", type=Path)
    imported.add_argument("--format", required=True, choices=["csv", "markdown", "swefaq"])
    imported.add_argument("--replace", action="store_true", help="overwrite existing category files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    root = args.index.resolve() if args.index else index_root()

    try:
        if args.command == "validate":
            try:
                kb = load_knowledge_base(args.knowledge)
            except ContentError as error:
                if not args.json:
                    raise
                print(json.dumps({"ok": False, "problems": [p.as_dict() for p in error.problems]}, ensure_ascii=False))
                return 1
            if args.json:
                print(json.dumps({"ok": True, "answers": len(kb.answers), "categories": len(kb.categories), "problems": []}))
            else:
                print(f"{len(kb.answers)} answers in {len(kb.categories)} categories: ok")
        elif args.command == "publish":
            if not args.json:
                publish(args.knowledge, root, log=print, origin=args.origin)
            else:
                try:
                    publication = publish(args.knowledge, root, log=lambda _line: None, origin=args.origin)
                except ContentError as error:
                    print(json.dumps({"ok": False, "problems": [p.as_dict() for p in error.problems]}, ensure_ascii=False))
                    return 1
                manifest = publication.manifest
                print(json.dumps({"ok": True, "version": publication.version, "embedded_texts": manifest.get("embedded_texts"),
                                  "build_seconds": manifest.get("build_seconds"), "languages": manifest.get("languages")}))
        elif args.command == "gate":
            from rasa_addons.knowledge import gate

            try:
                result = gate.evaluate(args.knowledge, root, gate.read_questions(args.questions),
                                       args.heldout or gate.HELDOUT_DIR)
            except ContentError as error:
                print(json.dumps({"ok": False, "problems": [p.as_dict() for p in error.problems]}, ensure_ascii=False))
                return 1
            print(json.dumps(result, ensure_ascii=False))
        elif args.command == "ensure":
            version = ensure_published(args.knowledge, root, log=print)
            from rasa_addons.knowledge import gate

            gate.prepare(args.knowledge, root)
            print(version)
        elif args.command == "search":
            from rasa_addons.nlu import sentence_embeddings

            publication = load_publication(root)
            result = publication.search(args.language, args.question, sentence_embeddings.embed([args.question])[0])
            print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        elif args.command == "import":
            reader = {"csv": importers.read_csv, "markdown": importers.read_markdown, "swefaq": importers.read_swefaq}[args.format]
            categories = reader(args.file)
            has_answers = any(p.name != MUNICIPALITIES_FILE for p in args.knowledge.glob("*.yml"))
            taken = set(load_knowledge_base(args.knowledge).answers) if has_answers else set()
            for category in categories:  # check everything before writing anything
                existing = args.knowledge / f"{category.category}.yml"
                if existing.exists() and not args.replace:
                    raise ContentError([importers.Problem(existing, None, "already exists; use --replace to overwrite it")])
                clashes = sorted({a.id for a in category.answers} & taken) if not existing.exists() else []
                if clashes:
                    raise ContentError([importers.Problem(args.file, None, f"answer ids already in the knowledge base: {', '.join(clashes[:10])}")])
            written = [
                importers.write_category(args.knowledge, category, importers.header_for(category, args.file), args.replace)
                for category in categories
            ]
            load_knowledge_base(args.knowledge)  # the whole base must still be valid
            for path in written:
                print(f"wrote {path}")
            print("run `python -m rasa_addons.knowledge publish` (or `make knowledge`) to make it live")
    except ContentError as error:
        print(f"{len(error.problems)} problem(s):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
