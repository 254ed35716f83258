"""The taxonomy: which topics exist, their labels and keywords, and the operator's own file.

A taxonomy file is a JSON list of topics::

    {"slug": "coffee", "label": "Coffee",
     "keywords": {"en": ["coffee", "barista"], "it": ["caffè"], "any": ["#latteart"]}}

``keywords`` is either a list, or an object from a language code (or ``any``) to a list; the
languages only group the words for whoever edits the file, every keyword counts in every text.

The bundled file is ``data/taxonomy.json``. An operator sets ``PERKS_TAXONOMY_PATH`` to a file of
the same shape and ``PERKS_TAXONOMY_MODE`` to ``extend`` (the default: new slugs are added, a
bundled slug given again gets the file's label and keywords added to its own) or ``replace``
(the file is the whole taxonomy).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perks.paths import TAXONOMY_PATH

TAXONOMY_PATH_VARIABLE = "PERKS_TAXONOMY_PATH"
TAXONOMY_MODE_VARIABLE = "PERKS_TAXONOMY_MODE"
TAXONOMY_MODES = ("extend", "replace")
ANY_LANGUAGE = "any"


@dataclass(frozen=True)
class TopicDef:
    """One topic of the taxonomy: its keywords in file order, and how many each language has."""

    slug: str
    label: str
    keywords: tuple[str, ...]
    languages: tuple[tuple[str, int], ...] = ()  # (language, keyword count), file order


def load_taxonomy(path: str | Path | None = None) -> list[TopicDef]:
    """The taxonomy in force, or the one file at ``path``.

    Without ``path``: the bundled file, extended or replaced by ``PERKS_TAXONOMY_PATH``
    (see the module doc). Raises ValueError naming the file and the offending topic when a file
    is not a list of ``{"slug", "label", "keywords"}`` objects, a slug is repeated or is not
    lowercase ascii-with-hyphens, or a topic has no keywords or a blank one.
    """
    if path is not None:
        return read_taxonomy_file(Path(path))
    custom, mode = taxonomy_settings()
    bundled = read_taxonomy_file(TAXONOMY_PATH)
    if custom is None:
        return bundled
    own = read_taxonomy_file(custom)
    return own if mode == "replace" else extend_taxonomy(bundled, own)


def current_taxonomy() -> list[TopicDef]:
    """``load_taxonomy()``, read again only when a file or the settings change (forms and
    validation ask for it on every request)."""
    custom, mode = taxonomy_settings()
    files = [TAXONOMY_PATH] + ([custom] if custom else [])
    key = (mode, *((str(f), f.stat().st_mtime_ns) for f in files))
    if _CACHE.get("key") != key:
        _CACHE["key"], _CACHE["taxonomy"] = key, load_taxonomy()
    return list(_CACHE["taxonomy"])


_CACHE: dict[str, Any] = {}


def taxonomy_settings() -> tuple[Path | None, str]:
    """The operator's taxonomy file (None: only the bundled one) and mode, from the environment."""
    raw = os.environ.get(TAXONOMY_PATH_VARIABLE, "").strip()
    mode = os.environ.get(TAXONOMY_MODE_VARIABLE, "").strip().lower() or "extend"
    if mode not in TAXONOMY_MODES:
        raise ValueError(f"{TAXONOMY_MODE_VARIABLE} must be one of {', '.join(TAXONOMY_MODES)}, "
                         f"not {mode!r}")
    if not raw:
        return None, mode
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ValueError(f"{TAXONOMY_PATH_VARIABLE}: no taxonomy file at {path}")
    return path, mode


def extend_taxonomy(base: Sequence[TopicDef], extra: Sequence[TopicDef]) -> list[TopicDef]:
    """``base`` with ``extra``'s topics added; a slug in both keeps its place, takes ``extra``'s
    label, and gets ``extra``'s keywords after its own (repeats dropped)."""
    merged = {topic.slug: topic for topic in base}
    for topic in extra:
        old = merged.get(topic.slug)
        if old is None:
            merged[topic.slug] = topic
            continue
        counts = dict(old.languages)
        for language, count in topic.languages:
            counts[language] = counts.get(language, 0) + count
        keywords = tuple(dict.fromkeys(old.keywords + topic.keywords))
        merged[topic.slug] = TopicDef(topic.slug, topic.label, keywords, tuple(counts.items()))
    return list(merged.values())


def read_taxonomy_file(path: Path) -> list[TopicDef]:
    """One taxonomy file, validated (see ``load_taxonomy``)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(raw, list):
        raise ValueError(f"{path}: a taxonomy must be a JSON list of topics")
    topics: list[TopicDef] = []
    seen: set[str] = set()
    for position, item in enumerate(raw):
        if not isinstance(item, dict) or not {"slug", "label", "keywords"} <= item.keys():
            raise ValueError(f"{path}: topic #{position} needs slug, label and keywords")
        slug = item["slug"]
        if not isinstance(slug, str) or not is_slug(slug):
            raise ValueError(f"{path}: bad slug {slug!r} (lowercase ascii words and hyphens)")
        if slug in seen:
            raise ValueError(f"{path}: duplicate topic slug {slug!r}")
        seen.add(slug)
        groups = _keyword_groups(path, slug, item["keywords"])
        keywords = tuple(dict.fromkeys(k.strip() for _lang, words in groups for k in words))
        if not keywords:
            raise ValueError(f"{path}: topic {slug!r} has no keywords")
        languages = tuple((lang, len(words)) for lang, words in groups if words)
        topics.append(TopicDef(slug, str(item["label"]), keywords, languages))
    return topics


def _keyword_groups(path: Path, slug: str, keywords: Any) -> list[tuple[str, list[str]]]:
    if isinstance(keywords, list):
        groups = [(ANY_LANGUAGE, keywords)]
    elif isinstance(keywords, dict):
        groups = list(keywords.items())
        if any(not isinstance(words, list) for _lang, words in groups):
            raise ValueError(f"{path}: topic {slug!r}: each language needs a list of keywords")
    else:
        raise ValueError(f"{path}: topic {slug!r} has no keywords")
    for _lang, words in groups:
        if any(not isinstance(k, str) or not k.strip() for k in words):
            raise ValueError(f"{path}: topic {slug!r} has an empty keyword")
    return groups


def is_slug(text: str) -> bool:
    """Lowercase ascii letters and digits, in words joined by single hyphens."""
    parts = text.split("-")
    return all(part and part.isascii() and part.isalnum() and part.islower() for part in parts)


def fingerprint(taxonomy: Iterable[TopicDef]) -> str:
    """A short hash of slugs, labels and keywords: equal exactly when inference would be."""
    canonical = json.dumps([[t.slug, t.label, list(t.keywords)] for t in taxonomy],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def suggest_slugs(unknown: str, known: Iterable[str | TopicDef], *, limit: int = 3) -> list[str]:
    """Known slugs close to an unknown one, best first, for a "did you mean" hint. Given
    TopicDefs, a slug whose topic lists the word as a keyword counts too (knitting -> diy)."""
    word = "-".join(unknown.strip().lower().replace("_", " ").split())
    topics = [item for item in known if isinstance(item, TopicDef)]
    known = [item.slug if isinstance(item, TopicDef) else item for item in known]
    phrase = word.replace("-", " ")
    by_keyword = [t.slug for t in topics if phrase in {k.lower() for k in t.keywords}]
    close = difflib.get_close_matches(word, known, n=limit, cutoff=0.6)
    # "basket" should find "basketball", "crypto-currency" find "crypto": difflib's ratio alone
    # finds them too far apart.
    parts = set(word.split("-"))
    related = [s for s in known if len(word) >= 3
               and (s.startswith(word) or word in s.split("-") or s in parts)]
    return list(dict.fromkeys(close + by_keyword + related))[:limit]


def unknown_slugs_message(unknown: Iterable[str], known: Iterable[str | TopicDef]) -> str:
    """``not in the taxonomy: knitting (did you mean diy?), nope`` for a list of unknown slugs."""
    known = list(known)
    parts = []
    for slug in unknown:
        close = suggest_slugs(slug, known)
        parts.append(f"{slug} (did you mean {' or '.join(close)}?)" if close else slug)
    return "not in the taxonomy: " + ", ".join(parts)


def missing_slugs(slug_lists: Mapping[Any, Sequence[str]],
                  taxonomy: Iterable[TopicDef]) -> dict[Any, list[str]]:
    """For each key (a campaign id, say) the slugs of its list the taxonomy no longer has;
    keys whose slugs all exist are left out."""
    known = {topic.slug for topic in taxonomy}
    out = {}
    for key, slugs in slug_lists.items():
        gone = [slug for slug in slugs if slug not in known]
        if gone:
            out[key] = gone
    return out
