"""Topic inference: every keyword of the taxonomy found in a batch of texts in one pass.

How a text is read. A batch is joined into one UTF-8 buffer; ASCII letters are lowercased and
ASCII punctuation (``#``, ``@``, ``-``, ``_`` ...) becomes a space, so ``#vegan`` matches
``vegan`` and ``plant-based`` matches ``plant based``. CamelCase hashtags are split first
(``#GoVegan`` -> ``go vegan``); lowercase glued hashtags (``#plantbased``) match only when the
taxonomy lists the glued form. Cashtags (``$AAPL``) read as the keyword ``cashtag``.
Keywords are lowercased the same way and listed both with and without accents, so ``caffè`` and
``caffe`` both match ``caffè``. One Aho–Corasick automaton finds every keyword occurrence; a hit
counts only on whole words: the characters either side must not be letters or digits (emoji
and symbols separate words), so ``art`` does not fire inside ``smart``.

How a topic is weighted. ``k`` is the number of distinct keywords of the topic found in the
text; repeating one keyword does not count twice. The weight is ``1 - exp(-k / 1.5)``: one
keyword gives 0.49, two give 0.74, three 0.86, and it saturates towards 1. A phrase and the word
inside it (``coffee lover`` and ``coffee``) are two keywords, because the phrase is the stronger
evidence. Topics below ``min_weight`` are dropped and at most ``top_k`` are kept per text,
highest weight first; ties go to the topic whose first keyword comes earlier in the text.

Evidence. Each kept topic carries the keywords that matched, spelled as in the taxonomy.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from perks.topics.language import FUNCTION_WORDS, LANGUAGES, SCRIPTS, guess_languages
from perks.topics.taxonomy import TopicDef, load_taxonomy

MAX_PHRASE_WORDS = 5
CASHTAG_MARK = "cashtag"
SEPARATOR = 0x1E  # the ASCII record separator: joins texts, never part of a word
_CAMEL_HASHTAG = re.compile(rb"#([A-Z][A-Za-z]*[a-z][A-Z][A-Za-z]*)")
_CAMEL_BOUNDARY = re.compile(rb"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_QUOTES = ((b"\xe2\x80\x99", b"'"), (b"\xe2\x80\x98", b"'"))  # curly apostrophes, 3 bytes -> 1
_LATIN_1 = re.compile(rb"\xc3[\x80-\xbf]")  # the accented letters of the languages we list


def _fold_table() -> dict[bytes, bytes]:
    """``é``, ``É`` -> ``e`` and so on for the Latin-1 letters; ``ß`` -> ``ss``."""
    fold = {}
    for code in range(0xC0, 0x100):
        char = chr(code)
        plain = "".join(c for c in unicodedata.normalize("NFKD", char.lower())
                        if not unicodedata.combining(c))
        if char == "ß":
            plain = "ss"
        if plain.isascii() and plain.isalpha():
            fold[char.encode("utf-8")] = plain.encode("ascii")
    return fold


_FOLD = _fold_table()


def _byte_table() -> bytes:
    """Lowercase ASCII letters, keep digits and non-ASCII bytes, turn ASCII punctuation into
    spaces; the separator and ``$`` survive (``$`` marks cashtags, dropped after)."""
    table = bytearray(range(256))
    for code in range(128):
        char = chr(code)
        table[code] = ord(char.lower()) if char.isalnum() else 0x20
    table[SEPARATOR] = SEPARATOR
    table[ord("$")] = ord("$")
    return bytes(table)


_TABLE = _byte_table()
_WORD_BYTE = np.zeros(256, dtype=bool)  # bytes that continue a word on the right of a hit
_WORD_BYTE[[ord(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789"]] = True
_WORD_BYTE[0xC3:0xE0] = True  # lead bytes of 2-byte letters: Latin accents, Greek, Cyrillic ...
_LEAD_2 = np.zeros(256, dtype=bool)
_LEAD_2[0xC3:0xE0] = True
_CONTINUATION = np.zeros(256, dtype=bool)
_CONTINUATION[0x80:0xC0] = True


class TopicMatch(NamedTuple):
    """A topic inferred for one text: weight in 0..1 and the keywords that matched."""

    slug: str
    weight: float
    evidence: tuple[str, ...]


def keyword_forms(keyword: str) -> list[str]:
    """The forms a keyword is searched in, normalised exactly as texts are (module doc):
    ``Plant-Based`` -> ``plant based``, ``Caffè`` -> ``caffe``; [] if it has no word."""
    words = prepare_buffer([keyword]).replace(b"$", b" ").decode("utf-8", "replace").split()
    return [" ".join(words)] if words else []


class TopicInferrer:
    """Infers topics (and a language guess) for batches of texts with one keyword automaton.

    Built once per taxonomy (about 50 ms for the bundled one); ``infer`` is then safe to call
    repeatedly and from several threads.
    """

    def __init__(self, taxonomy: Sequence[TopicDef] | None = None, *, top_k: int = 3,
                 min_weight: float = 0.4, saturation: float = 1.5) -> None:
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
        import ahocorasick_rs  # a compiled wheel: loaded only by what infers topics

        key_ids: dict[str, int] = {}  # searched form -> term id
        spellings: list[str] = []  # term id -> keyword as the taxonomy spells it
        term_of: dict[str, int] = {}  # first form of a keyword -> term id
        term_topics: list[set[int]] = []
        for topic_index, topic in enumerate(self.taxonomy):
            for keyword in topic.keywords:
                forms = keyword_forms(keyword)
                if not forms or len(forms[0].split()) > MAX_PHRASE_WORDS:
                    raise ValueError(f"topic {topic.slug!r}: keyword {keyword!r} must have 1 to "
                                     f"{MAX_PHRASE_WORDS} words")
                term = term_of.get(forms[0])
                if term is None:
                    term = term_of[forms[0]] = len(spellings)
                    spellings.append(keyword)
                    term_topics.append(set())
                term_topics[term].add(topic_index)
                for form in forms:
                    key_ids.setdefault(form, term)
        self.n_terms_ = len(spellings)
        self.cashtag_term_ = term_of.get(CASHTAG_MARK, -1)
        # Function words for the language guess share the automaton, with ids after the terms.
        self.word_langs_: list[np.ndarray] = []
        function_words = sorted({w for words in FUNCTION_WORDS.values() for w in words})
        for word in function_words:
            langs = [i for i, lang in enumerate(LANGUAGES) if word in FUNCTION_WORDS[lang]]
            self.word_langs_.append(np.array(langs, dtype=np.int64))
        keys = list(key_ids)
        forms_bytes = [k.encode("utf-8") for k in keys]
        # Padded with spaces: unpadded, "e" and "a" would hit inside nearly every word.
        words_bytes = [f" {keyword_forms(w)[0]} ".encode() for w in function_words]
        self.automaton_ = ahocorasick_rs.BytesAhoCorasick(forms_bytes)
        # Function words only when languages are asked for: they triple the hits.
        self.language_automaton_ = ahocorasick_rs.BytesAhoCorasick(forms_bytes + words_bytes)
        self.pattern_term_ = np.array([key_ids[k] for k in keys]
                                      + [self.n_terms_ + i for i in range(len(function_words))],
                                      dtype=np.int64)
        self.pattern_len_ = np.array([len(b) for b in forms_bytes + words_bytes], dtype=np.int64)
        self.spellings_ = spellings
        self.slugs_ = [topic.slug for topic in self.taxonomy]
        counts = np.array([len(t) for t in term_topics], dtype=np.int64)
        self.term_indptr_ = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.term_indices_ = np.array([i for t in term_topics for i in sorted(t)], dtype=np.int64)

    def infer(self, texts: Sequence[str | None]) -> list[list[TopicMatch]]:
        """Return, for each text in order, its topics sorted by weight (highest first).

        Each list holds at most ``top_k`` matches, all with ``weight >= min_weight``; a text
        with no keyword (or None, or empty) gets an empty list. To use posts, the name or the
        handle as well as the bio, pass them joined into one text per account.
        """
        return self.infer_with_languages(texts, languages=False)[0]

    def detect_languages(self, texts: Sequence[str | None]) -> list[str]:
        """A language guess per text (see perks.topics.language): ``en``, ``it`` ... or ``und``."""
        return self.infer_with_languages(texts, languages=True)[1]

    def infer_with_languages(self, texts: Sequence[str | None], *, languages: bool = True
                             ) -> tuple[list[list[TopicMatch]], list[str]]:
        """``infer`` and ``detect_languages`` in one pass (languages are [] when not asked)."""
        if isinstance(texts, str):
            raise TypeError("infer() takes a sequence of texts, not a single string")
        n_docs = len(texts)
        results: list[list[TopicMatch]] = [[] for _ in range(n_docs)]
        if not n_docs:
            return results, []
        buffer = prepare_buffer(texts)
        view = np.frombuffer(buffer, dtype=np.uint8)
        separators = np.flatnonzero(view == SEPARATOR)
        automaton = self.language_automaton_ if languages else self.automaton_
        hits = automaton.find_matches_as_indexes(buffer, overlapping=True)
        flat = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64,
                           count=3 * len(hits)).reshape(-1, 3)
        pattern, start, end = flat[:, 0], flat[:, 1], flat[:, 2]
        term = self.pattern_term_[pattern]
        is_word = term >= self.n_terms_
        keep = is_word.copy()
        keep[~is_word] = _whole_words(view, start[~is_word], end[~is_word])
        term, start, is_word = term[keep], start[keep], is_word[keep]
        doc = np.searchsorted(separators, start)
        cashtag_docs = self._cashtag_docs(view, separators)
        language_list: list[str] = []
        if languages:
            language_list = self._languages(n_docs, doc[is_word], term[is_word], view, separators)
        term, start, doc = term[~is_word], start[~is_word], doc[~is_word]
        if len(cashtag_docs):
            term = np.concatenate([term, np.full(len(cashtag_docs), self.cashtag_term_)])
            doc = np.concatenate([doc, cashtag_docs])
            start = np.concatenate([start, _doc_ends(separators, cashtag_docs, len(view))])
        self._collect(results, doc, term, start)
        return results, language_list

    def _cashtag_docs(self, view: np.ndarray, separators: np.ndarray) -> np.ndarray:
        """Documents holding a cashtag: ``$`` and 1-6 letters, not after a word or another ``$``
        (``$AAPL`` is one, ``$outhlake`` and ``US$5`` are not)."""
        if self.cashtag_term_ < 0:
            return np.empty(0, dtype=np.int64)
        dollars = np.flatnonzero(view == ord("$"))
        if not len(dollars):
            return np.empty(0, dtype=np.int64)
        padded = np.concatenate([view, np.full(8, 0x20, dtype=np.uint8)])
        run = np.zeros(len(dollars), dtype=np.int64)  # letters right after the $
        going = np.ones(len(dollars), dtype=bool)
        for offset in range(1, 8):
            after = padded[dollars + offset]
            going &= (after >= ord("a")) & (after <= ord("z"))
            run += going
        before = np.where(dollars > 0, view[np.maximum(dollars - 1, 0)], 0x20)
        free = ~_WORD_BYTE[before] & (before != ord("$"))
        return np.searchsorted(separators, dollars[(run >= 1) & (run <= 6) & free])

    def _languages(self, n_docs: int, docs: np.ndarray, words: np.ndarray, view: np.ndarray,
                   separators: np.ndarray) -> list[str]:
        langs = [self.word_langs_[w - self.n_terms_] for w in words.tolist()]
        counts = np.array([len(x) for x in langs], dtype=np.int64)
        word_docs = np.repeat(docs, counts)
        word_langs = np.concatenate(langs) if langs else np.empty(0, dtype=np.int64)
        lead_docs = {}
        for name, leads in SCRIPTS.items():
            positions = np.flatnonzero(np.isin(view, leads))
            if len(positions):
                lead_docs[name] = np.searchsorted(separators, positions)
        return guess_languages(n_docs, word_docs, word_langs, lead_docs)

    def _collect(self, results: list[list[TopicMatch]], doc: np.ndarray, term: np.ndarray,
                 start: np.ndarray) -> None:
        if not len(doc):
            return
        # One row per (document, term), at its first position: hits come in text order, so a
        # stable sort on one combined key keeps the earliest first (cheaper than a lexsort).
        n_terms, n_topics = self.n_terms_ + 1, len(self.taxonomy)
        order = np.argsort(doc * n_terms + term, kind="stable")
        doc, term, start = doc[order], term[order], start[order]
        first = np.ones(len(doc), dtype=bool)
        first[1:] = (doc[1:] != doc[:-1]) | (term[1:] != term[:-1])
        doc, term, start = doc[first], term[first], start[first]
        # Each (document, term) row once per topic the term belongs to.
        per_term = self.term_indptr_[term + 1] - self.term_indptr_[term]
        rows = np.repeat(np.arange(len(term)), per_term)
        offsets = np.arange(len(rows)) - np.repeat(np.cumsum(per_term) - per_term, per_term)
        topic = self.term_indices_[self.term_indptr_[term[rows]] + offsets]
        doc, term, start = doc[rows], term[rows], start[rows]
        # Group by (document, topic), terms in taxonomy order for the evidence.
        order = np.argsort((doc * n_topics + topic) * n_terms + term)
        doc, term, start, topic = doc[order], term[order], start[order], topic[order]
        boundary = np.ones(len(doc), dtype=bool)
        boundary[1:] = (doc[1:] != doc[:-1]) | (topic[1:] != topic[:-1])
        group_start = np.flatnonzero(boundary)
        group_end = np.append(group_start[1:], len(doc))
        k = group_end - group_start
        weight = 1.0 - np.exp(-k / self.saturation)
        leads = np.minimum.reduceat(start, group_start)
        g_doc, g_topic = doc[group_start], topic[group_start]
        g = np.flatnonzero(weight >= self.min_weight)
        # Highest weight (most keywords) first; ties: the topic named first in the text.
        g = g[np.argsort(leads[g], kind="stable")]
        most = int(k.max())
        g = g[np.argsort(g_doc[g] * (most + 1) + (most - k[g]), kind="stable")]
        rank_start = np.searchsorted(g_doc[g], g_doc[g], side="left")
        g = g[(np.arange(len(g)) - rank_start) < self.top_k]
        spelled = [self.spellings_[x] for x in term.tolist()]
        slugs = self.slugs_
        new = tuple.__new__  # TopicMatch(...) without the namedtuple's Python-level __new__
        for d, t, w, s, e in zip(g_doc[g].tolist(), g_topic[g].tolist(),
                                 np.round(weight[g], 4).tolist(), group_start[g].tolist(),
                                 group_end[g].tolist(), strict=True):
            results[d].append(new(TopicMatch, (slugs[t], w, tuple(spelled[s:e]))))


def prepare_buffer(texts: Sequence[str | None]) -> bytes:
    """The batch as one buffer, texts separated by SEPARATOR and normalised (module doc)."""
    joined = "\x1e".join(text or "" for text in texts)
    raw = joined.encode("utf-8", errors="replace")
    if raw.count(b"\x1e") != len(texts) - 1:
        raw = _strip_stray_separators(texts)
    for old, new in _QUOTES:
        if old in raw:
            raw = raw.replace(old, new)
    if b"#" in raw:
        raw = _CAMEL_HASHTAG.sub(lambda m: b" " + _CAMEL_BOUNDARY.sub(b" ", m[1]), raw)
    if b"\xc3" in raw:
        raw = _LATIN_1.sub(lambda m: _FOLD.get(m[0], m[0]), raw)
    # Spaces around each text, so function words can be matched padded (see _build).
    return b" " + raw.translate(_TABLE).replace(b"\x1e", b" \x1e ") + b" "


def _strip_stray_separators(texts: Sequence[str | None]) -> bytes:
    # A text that itself holds the separator character must not split into two documents.
    return "\x1e".join((t or "").replace("\x1e", " ") for t in texts).encode("utf-8", "replace")


def _whole_words(view: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """True for hits with no letter or digit right before or right after them."""
    size = len(view)
    after = np.where(end < size, view[np.minimum(end, size - 1)], 0x20)
    ok = ~_WORD_BYTE[after]
    before = np.where(start > 0, view[np.maximum(start - 1, 0)], 0x20)
    ok &= ~_WORD_BYTE[before] | _CONTINUATION[before]
    # A continuation byte before the hit ends a 2-byte letter (a word) or a symbol (no word).
    cont = ok & _CONTINUATION[before]
    lead = np.where(start > 1, view[np.maximum(start - 2, 0)], 0x20)
    ok[cont] = ~_LEAD_2[lead[cont]]
    return ok


def _doc_ends(separators: np.ndarray, docs: np.ndarray, size: int) -> np.ndarray:
    """A position inside each document near its end: cashtags rank after keywords in ties."""
    ends = np.append(separators, size)
    return ends[docs] - 1


def weight_for(distinct_keywords: int, saturation: float = 1.5) -> float:
    """The weight a topic gets from its number of distinct matched keywords (see module doc)."""
    return 1.0 - math.exp(-distinct_keywords / saturation)
