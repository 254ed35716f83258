"""Topic taxonomy and keyword-based topic inference for account bios (and, optionally, posts).

The taxonomy (``data/taxonomy.json``) is a list of topics, each with a slug, a label and 8-25
keywords or phrases of up to three words, in English and Italian.

How a text is matched. Texts and keywords go through the same normalisation: lowercase, accents
stripped (``caffè`` -> ``caffe``), and split into word tokens, so punctuation and ``#``/``@``
never belong to a word: ``#vegan`` matches ``vegan`` and ``plant-based`` matches
``plant based``. CamelCase hashtags are split (``#GoVegan`` -> ``go vegan``); lowercase glued
hashtags (``#plantbased``) only match when the taxonomy lists the glued form, which it does for
the common ones. Cashtags (``$AAPL``) read as the word ``cashtag``, an Investing keyword.
Keywords match whole words or whole phrases only: ``art`` does not match ``smart``.

How a topic is weighted. ``k`` is the number of distinct keywords of the topic found in the
text; repeating one keyword does not count twice. The weight is ``1 - exp(-k / 1.5)``: one
keyword gives 0.49, two give 0.74, three 0.86, and it saturates towards 1. A phrase and the word
inside it (``coffee lover`` and ``coffee``) are two keywords, because the phrase is the
stronger evidence. Topics below ``min_weight`` are dropped and at most ``top_k`` are kept per
text, highest weight first (ties: the topic listed first in the taxonomy).

Evidence. Each kept topic carries the keywords that matched, spelled as in the taxonomy, so a
user can see why an account got a topic.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perks.paths import TAXONOMY_PATH

MAX_PHRASE_WORDS = 3
# Letters and digits only: "#vegan", "@vegan" and "#vegan_food" read as words ("vegan", "food").
WORD_PATTERN = r"[^\W_]+"
# Stock Twitter writes tickers as cashtags ($AAPL); each becomes the word "cashtag".
CASHTAG_MARK = "cashtag"
_CASHTAG = re.compile(r"(?<![\w$])\$[A-Za-z]{1,6}\b")
# A CamelCase hashtag (#GoVegan, #FinoAllaFineForzaJuventus) is read as separate words.
_CAMEL_HASHTAG = re.compile(r"#([A-Z][A-Za-z]*[a-z][A-Z][A-Za-z]*)")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def normalise(text: str) -> str:
    """Lowercase, strip accents, split CamelCase hashtags, mark cashtags (see module doc)."""
    # scikit-learn loads when texts are matched, not when a command only reads the taxonomy.
    from sklearn.feature_extraction.text import strip_accents_unicode

    if "#" in text:
        text = _CAMEL_HASHTAG.sub(lambda m: " " + _CAMEL_BOUNDARY.sub(" ", m[1]), text)
    if "$" in text:
        text = _CASHTAG.sub(f" {CASHTAG_MARK} ", text)
    return strip_accents_unicode(text.lower())


@dataclass(frozen=True)
class TopicDef:
    """One topic of the taxonomy."""

    slug: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class TopicMatch:
    """A topic inferred for one text: weight in 0..1 and the keywords that matched."""

    slug: str
    weight: float
    evidence: tuple[str, ...]


def load_taxonomy(path: str | Path | None = None) -> list[TopicDef]:
    """Read and validate a taxonomy JSON file (default: the bundled ``data/taxonomy.json``).

    Raises ValueError, naming the offending topic, when the file is not a list of
    ``{"slug", "label", "keywords"}`` objects, a slug is repeated or is not lowercase
    ascii-with-hyphens, or a topic has no keywords or an empty keyword.
    """
    path = Path(path) if path is not None else TAXONOMY_PATH
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: a taxonomy must be a JSON list of topics")
    topics: list[TopicDef] = []
    seen: set[str] = set()
    for position, item in enumerate(raw):
        if not isinstance(item, dict) or not {"slug", "label", "keywords"} <= item.keys():
            raise ValueError(f"{path}: topic #{position} needs slug, label and keywords")
        slug, keywords = item["slug"], item["keywords"]
        if not isinstance(slug, str) or not _is_slug(slug):
            raise ValueError(f"{path}: bad slug {slug!r} (lowercase ascii words and hyphens)")
        if slug in seen:
            raise ValueError(f"{path}: duplicate topic slug {slug!r}")
        seen.add(slug)
        if not isinstance(keywords, list) or not keywords:
            raise ValueError(f"{path}: topic {slug!r} has no keywords")
        if any(not isinstance(k, str) or not k.strip() for k in keywords):
            raise ValueError(f"{path}: topic {slug!r} has an empty keyword")
        topics.append(TopicDef(slug, str(item["label"]), tuple(k.strip() for k in keywords)))
    return topics


def _is_slug(text: str) -> bool:
    parts = text.split("-")
    return all(part and part.isascii() and part.isalnum() and part.islower() for part in parts)


class TopicInferrer:
    """Infers topics for batches of texts with one sparse keyword matrix.

    Built once per taxonomy (building costs a few milliseconds); ``infer`` is then safe to call
    repeatedly and from several threads.
    """

    def __init__(
        self,
        taxonomy: Sequence[TopicDef] | None = None,
        *,
        top_k: int = 3,
        min_weight: float = 0.4,
        saturation: float = 1.5,
    ) -> None:
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        if saturation <= 0:
            raise ValueError("saturation must be positive")
        self.taxonomy = list(taxonomy) if taxonomy is not None else load_taxonomy()
        self.top_k = top_k
        self.min_weight = min_weight
        self.saturation = saturation
        self._build()

    def _build(self) -> None:
        import numpy as np
        from scipy import sparse
        from sklearn.feature_extraction.text import CountVectorizer

        # One analyzer normalises both keywords and texts, so they always agree.
        normaliser = CountVectorizer(
            preprocessor=normalise, token_pattern=WORD_PATTERN
        ).build_analyzer()
        term_index: dict[str, int] = {}
        spellings: list[str] = []
        rows: list[int] = []
        cols: list[int] = []
        for topic_index, topic in enumerate(self.taxonomy):
            topic_terms: set[int] = set()
            for keyword in topic.keywords:
                words = normaliser(keyword)
                if not 1 <= len(words) <= MAX_PHRASE_WORDS:
                    raise ValueError(
                        f"topic {topic.slug!r}: keyword {keyword!r} must have 1 to "
                        f"{MAX_PHRASE_WORDS} words"
                    )
                term = " ".join(words)
                if term not in term_index:
                    term_index[term] = len(spellings)
                    spellings.append(keyword)
                topic_terms.add(term_index[term])
            for term_id in sorted(topic_terms):
                rows.append(term_id)
                cols.append(topic_index)
        self.slugs_ = np.array([topic.slug for topic in self.taxonomy], dtype=object)
        self.spellings_ = spellings
        # term x topic, 1 where the term is a keyword of the topic.
        self.term_topic_ = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(spellings), len(self.taxonomy)),
        )
        self.topic_term_ = self.term_topic_.T.tocsr()
        self.vectorizer_ = CountVectorizer(
            preprocessor=normalise,
            token_pattern=WORD_PATTERN,
            ngram_range=(1, MAX_PHRASE_WORDS),
            vocabulary=term_index,
            binary=True,  # a keyword counts once however often it is repeated
            dtype=np.float32,
        )

    def infer(self, texts: Sequence[str | None]) -> list[list[TopicMatch]]:
        """Return, for each text in order, its topics sorted by weight (highest first).

        Each list holds at most ``top_k`` matches, all with ``weight >= min_weight``; a text
        with no keyword (or None, or empty) gets an empty list. To use posts as well as the
        bio, pass them joined into one text per account.
        """
        import numpy as np

        if isinstance(texts, str):
            raise TypeError("infer() takes a sequence of texts, not a single string")
        documents = [text or "" for text in texts]
        results: list[list[TopicMatch]] = [[] for _ in documents]
        if not documents:
            return results
        terms = self.vectorizer_.transform(documents)  # doc x term, 0/1
        counts = (terms @ self.term_topic_).tocoo()  # doc x topic: distinct keywords found
        weights = 1.0 - np.exp(-counts.data.astype(np.float64) / self.saturation)
        keep = weights >= self.min_weight
        docs, topic_ids, weights = counts.row[keep], counts.col[keep], weights[keep]
        # Sort by document, then weight descending, then taxonomy order; rank within a document.
        order = np.lexsort((topic_ids, -weights, docs))
        docs, topic_ids, weights = docs[order], topic_ids[order], weights[order]
        starts = np.searchsorted(docs, docs, side="left")
        keep = (np.arange(len(docs)) - starts) < self.top_k
        docs, topic_ids, weights = docs[keep], topic_ids[keep], weights[keep]
        # Evidence only for kept matches: row i = terms of doc i that belong to topic i.
        evidence = terms[docs].multiply(self.topic_term_[topic_ids]).tocsr()
        evidence.sort_indices()
        for i, (doc, topic_id, weight) in enumerate(zip(docs, topic_ids, weights, strict=True)):
            term_ids = evidence.indices[evidence.indptr[i] : evidence.indptr[i + 1]]
            results[doc].append(
                TopicMatch(
                    slug=self.slugs_[topic_id],
                    weight=round(float(weight), 4),
                    evidence=tuple(self.spellings_[t] for t in term_ids),
                )
            )
        return results


def weight_for(distinct_keywords: int, saturation: float = 1.5) -> float:
    """The weight a topic gets from its number of distinct matched keywords (see module doc)."""
    return 1.0 - math.exp(-distinct_keywords / saturation)
