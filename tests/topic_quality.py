"""Topic quality on the hand-labelled genuine bios (tests/data/topic_labels.csv).

The labels file holds source file, account id, the bio's language (read by hand), the split
(``tune`` while keywords were tuned, ``holdout`` left untouched until the end; fixed by a hash of
the id before any tuning) and 0-3 topic slugs (or ``none``). Bios and names are re-read from the
research files at run time; none of their text is stored here.

    python tests/topic_quality.py [--split holdout|tune|all]

prints top-topic precision and top-3 recall overall and per language; tests/test_topics.py
asserts the same figures.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from perks.paths import SHARED_BOTS_DIR
from perks.scoring.topic_rows import topic_text
from perks.topics import TopicInferrer

LABELS_PATH = Path(__file__).parent / "data" / "topic_labels.csv"


@dataclass
class Figures:
    accounts: int = 0
    tagged: int = 0  # accounts with at least one inferred topic
    top_right: int = 0  # tagged accounts whose top topic is one of the labels
    labels: int = 0
    found: int = 0  # labels among the inferred top 3

    @property
    def precision(self) -> float:
        return self.top_right / self.tagged if self.tagged else float("nan")

    @property
    def recall(self) -> float:
        return self.found / self.labels if self.labels else float("nan")

    def add(self, inferred: list[str], gold: set[str]) -> None:
        self.accounts += 1
        self.labels += len(gold)
        self.found += len(gold & set(inferred))
        if inferred:
            self.tagged += 1
            self.top_right += inferred[0] in gold


def read_profiles(source: str) -> dict[str, dict[str, str]]:
    """Bio, name and handle by account id from one research file (CSV or JSON of tweets)."""
    path = SHARED_BOTS_DIR / source
    if path.suffix == ".json":
        with path.open(encoding="utf-8") as handle:
            users = [tweet["user"] for tweet in json.load(handle)]
        return {str(u["id"]): {k: u.get(k) or "" for k in ("description", "name", "screen_name")}
                for u in users}
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return {row["id"]: {k: row.get(k) or "" for k in ("description", "name", "screen_name")}
                for row in csv.DictReader(handle)}


def read_labels(split: str = "all") -> list[dict[str, str]]:
    with LABELS_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row for row in rows if split == "all" or row["split"] == split]


def evaluate(rows: list[dict[str, str]], inferrer: TopicInferrer | None = None
             ) -> tuple[Figures, dict[str, Figures], list[tuple[dict, list[str], str]]]:
    """Overall and per-language figures, and (row, inferred slugs, text) for every account."""
    inferrer = inferrer or TopicInferrer()
    profiles = {source: read_profiles(source) for source in {row["source"] for row in rows}}
    texts = []
    for row in rows:
        p = profiles[row["source"]][row["id"]]
        texts.append(topic_text(p["description"], None))
    inferred = [[m.slug for m in found] for found in inferrer.infer(texts)]
    overall, by_language = Figures(), defaultdict(Figures)
    for row, slugs in zip(rows, inferred, strict=True):
        gold = set() if row["labels"] == "none" else set(row["labels"].split(";"))
        overall.add(slugs, gold)
        by_language[row["language"]].add(slugs, gold)
    return overall, dict(by_language), list(zip(rows, inferred, texts, strict=True))


def table(overall: Figures, by_language: dict[str, Figures]) -> str:
    lines = ["| language | bios | tagged | precision (top topic) | recall (top 3) |",
             "|---|---|---|---|---|"]
    ranked = sorted(by_language.items(), key=lambda item: -item[1].accounts)
    for name, f in [("all", overall), *ranked]:
        lines.append(f"| {name} | {f.accounts} | {f.tagged} | {f.precision:.2f} "
                     f"({f.top_right}/{f.tagged}) | {f.recall:.2f} ({f.found}/{f.labels}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "holdout", "all"), default="holdout")
    parser.add_argument("--errors", action="store_true",
                        help="also print each wrong or missed account (bio text on screen only)")
    args = parser.parse_args()
    overall, by_language, details = evaluate(read_labels(args.split))
    print(f"split: {args.split}")
    print(table(overall, by_language))
    if args.errors:
        for row, slugs, text in details:
            gold = set() if row["labels"] == "none" else set(row["labels"].split(";"))
            if (slugs and slugs[0] not in gold) or (gold - set(slugs)):
                print(f"{row['language']} gold={sorted(gold)} got={slugs} | "
                      + text.replace("\n", " / ")[:220])


if __name__ == "__main__":
    main()
