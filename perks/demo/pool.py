"""Synthetic account pool for `perks demo` and `perks bench`.

Records look like Twitter v1.1 user objects plus perks extras. `demo_kind` (and `demo_topics`)
are the hidden ground truth: which behaviour an account was generated with, so the detector and
topic inference can be checked. Numbers are drawn per kind from overlapping distributions, so
the kinds are learnable but no single feature gives them away.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from itertools import repeat
from typing import NamedTuple

import numpy as np

from perks.demo.tables import (
    ADJ,
    AGE_YEARS_BETA,
    AUTO_BIOS,
    AUTO_SUFFIX,
    EXTRA_SOURCES,
    FAVES_PER_STATUS,
    FILLERS,
    FIRST,
    FLAG_P,
    FOLLOWERS,
    FRIENDS,
    LAST,
    LISTED_RATE,
    MINOR_BIOS,
    NOUN,
    PLACES,
    POSTS_PER_DAY,
    RING_TAGS,
    SEPARATORS,
    SHARE_BETAS,
    SPAM_BIOS,
    TOPIC_COUNT_P,
    TOPIC_STYLES,
)

KINDS = ("genuine", "automated", "gamed", "bought_followers", "follow_back_ring", "spam_bot")
KIND_SHARES = (0.82, 0.04, 0.04, 0.035, 0.03, 0.035)
GENUINE, AUTOMATED, GAMED, BOUGHT, RING, SPAM = range(len(KINDS))

# Every chunk is drawn at full size and trimmed, so a small pool is a prefix of a large one.
CHUNK = 8192
ID_BASE, ID_STRIDE = 1_000_000_000, 100_000_000
LANGS, LANG_SHARES = ("en", "es", "fr", "de", "it"), (0.78, 0.07, 0.05, 0.05, 0.05)
CONSENTS, CONSENT_SHARES = ("opted_in", "unknown", "opted_out"), (0.15, 0.84, 0.01)




def generate_accounts(
    n: int, *, seed: int = 7, topics: Sequence[tuple[str, Sequence[str]]], observed_at: datetime
) -> Iterator[dict]:
    """Yield n account records shaped like Twitter v1.1 user objects plus perks extras.

    Same (seed, n) gives identical records, and a smaller n is a prefix of a larger one. Topic
    popularity follows the order of `topics` (Zipf-like): the first is the most popular, the
    last the rarest. `demo_kind` and `demo_topics` are ground truth, not profile data.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    if not topics:
        raise ValueError("topics must not be empty")
    topic_words = _topic_words(topics)
    seen_handles: set[str] = set()
    for chunk in range((n + CHUNK - 1) // CHUNK):
        rng = np.random.default_rng([seed, chunk])
        size = min(CHUNK, n - chunk * CHUNK)
        first_id = ID_BASE + seed * ID_STRIDE + chunk * CHUNK
        yield from _chunk(rng, size, first_id, topic_words, observed_at, seen_handles)


def _lognormal(rng, kinds, table):
    median, sigma = (np.array(col, dtype=float)[kinds] for col in zip(*table, strict=True))
    return median * np.exp(sigma * rng.standard_normal(len(kinds)))


def _by_kind_bernoulli(rng, kinds, probs):
    return rng.random(len(kinds)) < np.array(probs)[kinds]


def _account_age_days(rng, kinds):
    a, b, span = (np.array(col, dtype=float) for col in zip(*AGE_YEARS_BETA, strict=True))
    k = np.minimum(kinds, SPAM - 1)
    days = rng.beta(a[k], b[k]) * span[k] * 365 + 3
    # Spam bots are mostly weeks old; a minority are aged accounts bought or hijacked.
    spam_days = np.where(rng.random(len(kinds)) < 0.8, rng.exponential(75, len(kinds)) + 1,
                         rng.uniform(30, 5 * 365, len(kinds)))
    return np.where(kinds == SPAM, spam_days, days)


def _audience(rng, kinds, age_days, posts_per_day):
    """Counts: heavy-tailed followers, listed/favourites tied to them the way each kind is."""
    size = len(kinds)
    followers = _lognormal(rng, kinds, FOLLOWERS)
    celebrity = (kinds == GENUINE) & (rng.random(size) < 0.0015)
    followers = np.where(celebrity, 10 ** rng.uniform(5, 7.3, size), followers)
    friends = _lognormal(rng, kinds, FRIENDS)
    # A follow-back ring follows about as many accounts as follow it.
    friends = np.where(kinds == RING, followers * friends, np.minimum(friends, 4_900 + followers))
    statuses = posts_per_day * age_days * np.exp(0.5 * rng.standard_normal(size))
    favourites = statuses * _lognormal(rng, kinds, FAVES_PER_STATUS)
    listed = rng.poisson(np.minimum(followers * _lognormal(rng, kinds, LISTED_RATE), 1e6))
    verified = np.where(followers > 50_000, rng.random(size) < 0.35, rng.random(size) < 0.002)
    verified &= kinds != SPAM
    counts = (followers, friends, statuses, favourites)
    names = ("followers_count", "friends_count", "statuses_count", "favourites_count")
    return {**dict(zip(names, (c.astype(np.int64) for c in counts), strict=True)),
            "listed_count": listed, "verified": verified}


def _activity(rng, kinds, posts_per_day):
    """Timeline aggregates; some genuine people use schedulers, some bots jitter their timing."""
    size = len(kinds)
    cols = {}
    for name, table in SHARE_BETAS.items():
        a, b = (np.array(col, dtype=float)[kinds] for col in zip(*table, strict=True))
        cols[name] = rng.beta(a, b)
    scheduler_user = (kinds == GENUINE) & (rng.random(size) < 0.05)
    cols["automation_share"] = np.where(scheduler_user, rng.beta(3, 4, size),
                                        cols["automation_share"])
    cols["reply_share"] *= 1 - cols["retweet_share"]
    cols = {name: np.round(v, 3) for name, v in cols.items()}
    cols["posts_per_day"] = np.round(posts_per_day * np.exp(0.3 * rng.standard_normal(size)), 2)
    cols["distinct_sources"] = 1 + rng.poisson(np.array(EXTRA_SOURCES)[kinds])
    return cols


def _people(rng, kinds, observed_year):
    """Birth years (minors among genuine people), consent, protection and person links."""
    size = len(kinds)
    minor = (kinds == GENUINE) & (rng.random(size) < 0.012)
    birth_year = np.where(minor, observed_year - rng.integers(13, 18, size),
                          observed_year - rng.integers(18, 71, size))
    birth_year = np.where(minor | (rng.random(size) < 0.35), birth_year, -1)
    consent = rng.choice(len(CONSENTS), size, p=CONSENT_SHARES)
    consent = np.where(minor & (consent == 0), 1, consent)  # minors cannot opt in themselves
    protected = (kinds == GENUINE) & (rng.random(size) < 0.024)
    # About 2% of accounts belong to someone with 2-3 accounts (adjacent rows, so a trimmed
    # chunk splits at most one group); head = the row of that person's first account.
    head = np.full(size, -1)
    blocks = rng.choice(size // 3, int(0.02 * size / 2.5), replace=False) * 3
    group_sizes = rng.integers(2, 4, len(blocks))
    members = (blocks[:, None] + np.arange(3))[np.arange(3) < group_sizes[:, None]]
    head[members] = np.repeat(blocks, group_sizes)
    return minor, birth_year, consent, protected, head


# Strings are built by indexing precomputed tables (numpy object arrays), not per row in Python:
# that is what keeps `perks bench` generation fast.
def _obj(words):
    return np.asarray(list(words), dtype=object)


def _split_template(templates):
    """("I write about {}", ...) -> object arrays of prefixes and suffixes, for elementwise +."""
    pre, post = zip(*(t.split("{}") for t in templates), strict=True)
    return _obj(pre), _obj(post)


def _flat_groups(groups):
    """Per-group word lists (per language, per topic) flattened: (words, offsets, lengths)."""
    lengths = np.array([len(g) for g in groups])
    return _obj(w for g in groups for w in g), np.cumsum(lengths) - lengths, lengths


def _index_within(rng, flat, group):
    """Flat index of one random word per row, from the row's own group."""
    _, offsets, lengths = flat
    return offsets[group] + rng.integers(0, 1 << 30, len(group)) % lengths[group]


def _capitalised(words):
    return _obj(w[:1].upper() + w[1:] for w in words)


FIRST_FLAT, LAST_FLAT = (_flat_groups([table[lang] for lang in LANGS]) for table in (FIRST, LAST))
PLACES_FLAT = _flat_groups([PLACES[lang] for lang in LANGS])
FIRSTS, LASTS = FIRST_FLAT[0][:, None], LAST_FLAT[0][None, :]
FIRST_CAP, LAST_CAP = _capitalised(FIRST_FLAT[0]), _capitalised(LAST_FLAT[0])
FULL_NAME = FIRST_CAP[:, None] + " " + LAST_CAP[None, :]
# [style, first, last]: emmasmith, emma_smith, esmith, EmmaSmith.
NAME_HANDLES = np.stack([FIRSTS + LASTS, FIRSTS + "_" + LASTS,
                         _obj(w[0] for w in FIRST_FLAT[0])[:, None] + LASTS,
                         FIRST_CAP[:, None] + LAST_CAP[None, :]])
ADJ_NOUN = _obj(ADJ)[:, None] + _obj(NOUN)[None, :]
DIGITS = _obj(str(i) for i in range(1000))
STYLE_PRE, STYLE_POST = _split_template(TOPIC_STYLES)
AUTO_PRE, AUTO_POST = _split_template(AUTO_BIOS)
# Automated accounts link their site (.com), spam bots a shortener.
URL_PRE, URL_POST = _split_template(("https://{}.com", "https://linktr.ee/{}",
                                     "https://{}.substack.com", "https://bit.ly/{}"))


class _TopicWords(NamedTuple):
    """Per-keyword string tables for one taxonomy: [variant, keyword index] -> text."""
    slugs: list
    flat: tuple  # keywords grouped by topic, see _flat_groups
    compact: np.ndarray  # keyword squeezed to handle/hashtag characters
    styled: np.ndarray  # "coffee nerd", "#latteart", ...
    auto_bio: np.ndarray
    auto_name: np.ndarray  # "Latte art News", same variant index as auto_handle
    auto_handle: np.ndarray  # "lattearthnews"
    keyword_noun: np.ndarray  # "coffeeowl"


def _topic_words(topics):
    flat = _flat_groups([[k for k in kws if k] or [slug] for slug, kws in topics])
    words = flat[0]
    compact = _obj("".join(c for c in k.lower() if c.isascii() and c.isalnum()) for k in words)
    hashtag = (STYLE_PRE == "#")[:, None]
    styled = STYLE_PRE[:, None] + np.where(hashtag, compact, words) + STYLE_POST[:, None]
    return _TopicWords(
        [slug for slug, _ in topics], flat, compact, styled,
        AUTO_PRE[:, None] + words + AUTO_POST[:, None],
        _capitalised(words) + " " + _capitalised(AUTO_SUFFIX)[:, None],
        compact + _obj(AUTO_SUFFIX)[:, None], compact + _obj(NOUN)[:, None])


def _topic_slots(rng, kinds, n_topics):
    """Up to 3 topic indices per row, Zipf-popular by list position, and which slots count."""
    size = len(kinds)
    weights = 1 / np.arange(1, n_topics + 1) ** 1.1
    drawn = rng.choice(n_topics, (size, 3), p=weights / weights.sum())
    counts = (rng.random(size)[:, None] > np.cumsum(TOPIC_COUNT_P, axis=1)[kinds]).sum(axis=1)
    valid = np.arange(3) < counts[:, None]
    valid[:, 1] &= drawn[:, 1] != drawn[:, 0]
    valid[:, 2] &= (drawn[:, 2] != drawn[:, 0]) & (drawn[:, 2] != drawn[:, 1])
    return drawn, valid


def _topic_tuples(slugs, drawn, valid):
    """demo_topics per row; each distinct combination is built once and shared."""
    base = len(slugs) + 1
    codes = np.where(valid, drawn + 1, 0) @ base ** np.arange(3)
    combos, inverse = np.unique(codes, return_inverse=True)
    built = np.empty(len(combos), dtype=object)
    for i, code in enumerate(combos.tolist()):
        slots = (code // base**j % base for j in range(3))
        built[i] = tuple(slugs[slot - 1] for slot in slots if slot)
    return built[inverse.ravel()]


def _handle_bases(rng, kinds, first, last, words, keyword, has_keyword):
    """Handles from names, words and topic keywords; bots carry more digits."""
    size = len(kinds)
    # Styles: 0-3 from the name (CamelCase rarer), 4 adjective+noun, 5 keyword+noun, 6 first+digits.
    style = rng.choice(7, size, p=(0.22, 0.17, 0.13, 0.05, 0.17, 0.16, 0.1))
    handle = NAME_HANDLES[np.minimum(style, 3), first, last]
    handle = np.where(style == 6, FIRST_FLAT[0][first], handle)
    handle = np.where(style == 4, ADJ_NOUN[rng.integers(0, len(ADJ), size),
                                           rng.integers(0, len(NOUN), size)], handle)
    with_keyword = (style == 5) & has_keyword
    noun = rng.integers(0, len(NOUN), size)
    handle[with_keyword] = words.keyword_noun[noun[with_keyword], keyword[with_keyword]]
    # Decorations (itsemmasmith, emmasmith_x) widen the name space before digits are needed.
    decorated = rng.random(size) < 0.3
    handle[decorated] = (_obj(("its", "the", "real", "hey", "iam", "", "", ""))[
        rng.integers(0, 8, size)] + handle + _obj(("", "", "_", "x", "_writes", "hq", "tweets",
                                                  "_"))[rng.integers(0, 8, size)])[decorated]
    digits = DIGITS[rng.integers(0, 1000, size) % np.where(kinds == RING, 1000, 100)]
    with_digits = (style == 6) | (rng.random(size) < np.array((.12, .3, .12, .12, .5, 0))[kinds])
    handle[with_digits] += digits[with_digits]
    spam = np.flatnonzero(kinds == SPAM)
    handle[spam] = np.where(rng.random(len(spam)) < 0.8, FIRST_FLAT[0][first[spam]],
                            _obj(ADJ)[rng.integers(0, len(ADJ), len(spam))])
    handle[spam] += rng.integers(10**5, 10**8, len(spam)).astype(str).astype(object)
    return handle


def _bios(rng, kinds, words, keyword_idx, valid):
    """Topic keywords in varied phrasings mixed with filler; bots get their own kind of bio."""
    size = len(kinds)
    fillers = _obj(FILLERS)
    parts = [np.where(rng.random(size) < 0.3, fillers[rng.integers(0, len(FILLERS), size)], "")]
    for j in range(3):
        styled = words.styled[rng.integers(0, len(STYLE_PRE), size), keyword_idx[j]]
        parts.append(np.where(valid[:, j], styled, ""))
    for p in (0.5, 0.25):
        parts.append(np.where(rng.random(size) < p, fillers[rng.integers(0, len(FILLERS), size)],
                              ""))
    parts.append(np.where((kinds == RING) & (rng.random(size) < 0.5),
                          _obj(RING_TAGS)[rng.integers(0, len(RING_TAGS), size)], ""))
    separators = _obj(SEPARATORS)[rng.integers(0, len(SEPARATORS), size)].tolist()
    rows = zip(separators, *(p.tolist() for p in parts), strict=True)
    bio = _obj(sep.join(dict.fromkeys(filter(None, ps))) for sep, *ps in rows)
    auto = words.auto_bio[rng.integers(0, len(AUTO_PRE), size), keyword_idx[0]]
    spam = np.where(rng.random(size) < 0.75, _obj(SPAM_BIOS)[rng.integers(0, len(SPAM_BIOS), size)],
                    "#" + words.compact[keyword_idx[0]])
    bio = np.where(kinds == AUTOMATED, auto, np.where(kinds == SPAM, spam, bio))
    empty_p = np.array((0.12, 0.1, 0.2, 0.2, 0.2, 0.6))[kinds]
    return np.where(rng.random(size) < empty_p, "", bio)


def _minor_bio(rng, bio, age, observed_year):
    """Some minors say so: "14 y/o", "9th grade", "class of 2027"."""
    phrase = MINOR_BIOS[rng.integers(0, len(MINOR_BIOS))]
    phrase = phrase.format(age if "y/o" in phrase or "hs" in phrase else observed_year + 18 - age)
    return f"{phrase} | {bio}" if bio else phrase


def _unique_handles(bases, seen, salts):
    """Twitter handles: at most 15 chars, unique ignoring case; collisions get digits."""
    handles = []
    for base, salt in zip(bases, salts, strict=True):
        handle = base[:15]
        key = handle.lower()
        tries = 0
        while key in seen:  # as on Twitter: emmasmith taken, try emmasmith7, emmasmith42, ...
            digits = str(salt % 10 ** (1 + tries // 4))
            handle = base[: 15 - len(digits)] + digits
            key, salt, tries = handle.lower(), salt * 31 + 7, tries + 1
        seen.add(key)
        handles.append(handle)
    return handles


KEYS = ("id", "screen_name", "name", "description", "location", "lang", "url", "created_at",
        "followers_count", "friends_count", "statuses_count", "favourites_count", "listed_count",
        "verified", "protected", "default_profile", "default_profile_image", "geo_enabled",
        "platform", "observed_at", "person_id", "birth_year", "consent", *SHARE_BETAS,
        "posts_per_day", "distinct_sources", "demo_kind", "demo_topics")


def _chunk(rng, size, first_id, words, observed_at, seen):
    """Draw one full chunk of columns with numpy, then yield its first `size` rows as dicts."""
    kinds = rng.choice(len(KINDS), CHUNK, p=KIND_SHARES)
    minor, birth_year, consent, protected, head = _people(rng, kinds, observed_at.year)
    # Nobody opened their account before the age of 12.
    age_days = np.minimum(_account_age_days(rng, kinds),
                          np.where(minor, (observed_at.year - birth_year - 12) * 365 + 30, 1e9))
    posts_per_day = _lognormal(rng, kinds, POSTS_PER_DAY)
    cols = _audience(rng, kinds, age_days, posts_per_day)
    activity = _activity(rng, kinds, posts_per_day)
    flag_names = ("default_profile", "default_profile_image", "geo_enabled", "has_url")
    for name, probs in zip(flag_names, FLAG_P, strict=True):
        cols[name] = _by_kind_bernoulli(rng, kinds, probs)
    has_timeline = ~protected & (rng.random(CHUNK) < 0.7)
    langs = rng.choice(len(LANGS), CHUNK, p=LANG_SHARES)

    drawn, valid = _topic_slots(rng, kinds, len(words.slugs))
    keyword_idx = [_index_within(rng, words.flat, drawn[:, j]) for j in range(3)]
    first, last = _index_within(rng, FIRST_FLAT, langs), _index_within(rng, LAST_FLAT, langs)
    bases = _handle_bases(rng, kinds, first, last, words, keyword_idx[0], valid[:, 0])
    names = np.where(rng.random(CHUNK) < 0.9, FULL_NAME[first, last], FIRST_CAP[first])
    bot_style = rng.integers(0, len(AUTO_SUFFIX), CHUNK)  # "Coffee News" is @coffeenews
    automated = kinds == AUTOMATED
    names[automated] = words.auto_name[bot_style, keyword_idx[0]][automated]
    bases[automated] = words.auto_handle[bot_style, keyword_idx[0]][automated]
    names = np.where(kinds == SPAM, FIRST_CAP[first], names)
    names = np.where(head >= 0, names[np.maximum(head, 0)], names)  # one person, one name
    bios = _bios(rng, kinds, words, keyword_idx, valid)
    for i in np.flatnonzero(minor & (rng.random(CHUNK) < 0.5)).tolist():
        bios[i] = _minor_bio(rng, bios[i], observed_at.year - birth_year[i], observed_at.year)
    places = PLACES_FLAT[0][_index_within(rng, PLACES_FLAT, langs)]
    places = np.where(rng.random(CHUNK) < np.where(kinds == SPAM, 0.3, 0.75), places, "")
    url_style = np.select([automated, kinds == SPAM], [0, 3], rng.integers(0, 3, CHUNK))
    salts = rng.integers(0, 1 << 30, CHUNK)
    created_secs = (age_days * 86_400).astype(np.int64)

    cut = slice(0, size)
    head = np.where(np.arange(CHUNK) < size, head, -1)
    head[np.bincount(head[head >= 0], minlength=CHUNK)[head] < 2] = -1  # group split by the cut
    handles = _obj(_unique_handles(bases[cut].tolist(), seen, salts[cut].tolist()))
    urls = np.full(size, None, dtype=object)
    has_url, url_style = cols["has_url"][cut], url_style[cut]
    urls[has_url] = URL_PRE[url_style[has_url]] + handles[has_url] + URL_POST[url_style[has_url]]
    timeline = has_timeline[cut]
    activity_cols = [np.where(timeline, activity[k][cut].astype(object), None).tolist()
                     for k in (*SHARE_BETAS, "posts_per_day", "distinct_sources")]
    columns = [
        range(first_id, first_id + size), handles.tolist(),
        *(a[cut].tolist() for a in (names, bios, places)),
        [LANGS[x] for x in langs[cut].tolist()], urls.tolist(),
        [observed_at - timedelta(seconds=s) for s in created_secs[cut].tolist()],
        *(cols[k][cut].tolist() for k in KEYS[8:14]), protected[cut].tolist(),
        *(cols[k][cut].tolist() for k in KEYS[15:18]),
        repeat("twitter"), repeat(observed_at),
        [f"person-{first_id + h}" if h >= 0 else None for h in head[cut].tolist()],
        [y if y >= 0 else None for y in birth_year[cut].tolist()],
        [CONSENTS[c] for c in consent[cut].tolist()], *activity_cols,
        [KINDS[k] for k in kinds[cut].tolist()],
        _topic_tuples(words.slugs, drawn, valid)[cut].tolist(),
    ]
    # `repeat` columns are endless, so the zip must stop at the shortest.
    return map(dict, map(zip, repeat(KEYS), zip(*columns, strict=False)))
