"""Topic taxonomy and inference: synthetic bios, taxonomy validation, the operator's taxonomy,
and the hand-labelled check (tests/topic_quality.py)."""

import json

import pytest

from perks.paths import SHARED_BOTS_DIR, TAXONOMY_PATH
from perks.topics import (
    TopicDef,
    TopicInferrer,
    TopicMatch,
    fingerprint,
    load_taxonomy,
    missing_slugs,
    suggest_slugs,
    unknown_slugs_message,
    weight_for,
)
from perks.topics.language import LANGUAGES


@pytest.fixture(scope="module")
def inferrer():
    return TopicInferrer()


def topics_of(inferrer, text):
    return [match.slug for match in inferrer.infer([text])[0]]


def write_taxonomy(tmp_path, topics):
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(topics), encoding="utf-8")
    return path


def test_bundled_taxonomy_is_valid():
    topics = load_taxonomy()
    assert len(topics) >= 45
    assert all(len(topic.keywords) >= 25 for topic in topics)
    assert load_taxonomy(TAXONOMY_PATH) == topics
    assert sum(n for t in topics for _l, n in t.languages) == sum(len(t.keywords) for t in topics)
    # Words in each of the pool's main languages for nearly every topic.
    for language in ("es", "pt", "it", "fr", "de"):
        having = [t.slug for t in topics if dict(t.languages).get(language)]
        assert len(having) >= len(topics) - 2, language


@pytest.mark.parametrize(
    ("bio", "expected"),
    [
        ("#vegan and proud", "vegan-food"),
        ("#GoVegan every day", "vegan-food"),
        ("#plantbased kitchen", "vegan-food"),
        ("Plant-based athlete", "vegan-food"),
        ("plant based athlete", "vegan-food"),
        ("Amo il caffè", "coffee"),
        ("CAFFE addicted", "coffee"),
        ("Tifoso della Juve, appassionato di calcio", "football"),
        ("Giornalista e scrittrice", "news"),
        ("#FinoAllaFineForzaJuventus", "football"),
        ("Trading $AAPL and $TSLA", "investing"),
        ("half marathon finisher", "running"),
        ("@nikerunning fan, runner", "running"),
        ("love #vegan_food", "vegan-food"),
        ("Periodista y bluesman", "news"),
        ("Jornalista e apresentadora", "news"),
        ("Réalisatrice et scénariste", "film"),
        ("Fußball und Bier", "football"),
        ("Staff writer at @nytimes", "news"),
        ("Cubs fan", "baseball"),
        ("🎵music lover🎶", "music"),
        ("Torcedor do #GALO", "football"),
    ],
)
def test_keyword_forms_match(inferrer, bio, expected):
    assert expected in topics_of(inferrer, bio)


@pytest.mark.parametrize(
    "bio",
    ["", "   ", "Smartypants at heart", "I like turtles", "starting over", "😀🎉", None,
     "US$5 a day", "$outhlake forever"],
)
def test_no_topic_words_give_no_topics(inferrer, bio):
    assert inferrer.infer([bio]) == [[]]


def test_whole_words_only(inferrer):
    # "art" must not fire inside "smart", nor "cat" inside "catalogue".
    assert topics_of(inferrer, "smart catalogue") == []


def test_evidence_lists_matched_keywords_as_spelled_in_taxonomy(inferrer):
    [matches] = inferrer.infer(["Vegan runner, half marathon finisher and plant-based chef"])
    by_slug = {match.slug: match for match in matches}
    assert set(by_slug["running"].evidence) == {"runner", "marathon", "half marathon"}
    assert "plant-based" in by_slug["vegan-food"].evidence
    assert "vegan" in by_slug["vegan-food"].evidence


def test_weight_saturates_with_distinct_keywords(inferrer):
    one, two, three, repeated = inferrer.infer(
        ["I love yoga", "yoga and meditation", "yoga, meditation, mindfulness", "yoga yoga yoga"]
    )
    assert one[0].weight == pytest.approx(weight_for(1), abs=1e-3) == pytest.approx(0.487, abs=1e-3)
    assert two[0].weight == pytest.approx(0.736, abs=1e-3)
    assert three[0].weight == pytest.approx(0.865, abs=1e-3)
    assert repeated[0].weight == one[0].weight
    assert all(0 <= m.weight <= 1 for m in one + two + three)


def test_matches_sorted_by_weight_and_limited_to_top_k():
    bio = "vegan runner and marathoner, coffee lover, photographer, gamer, chef, yogi"
    [matches] = TopicInferrer(top_k=2).infer([bio])
    assert len(matches) == 2
    assert [m.slug for m in matches] == ["running", "coffee"]
    assert matches[0].weight >= matches[1].weight
    [all_matches] = TopicInferrer(top_k=10).infer([bio])
    assert len(all_matches) == 7


def test_min_weight_drops_single_keyword_topics():
    bio = "runner and marathoner who likes coffee"
    [matches] = TopicInferrer(min_weight=0.6).infer([bio])
    assert [m.slug for m in matches] == ["running"]


def test_batch_keeps_order_and_length(inferrer):
    texts = ["wine lover", "", "cat lady", None, "basketball"]
    results = inferrer.infer(texts)
    assert [[m.slug for m in r][:1] for r in results] == [
        ["wine"],
        [],
        ["cats"],
        [],
        ["basketball"],
    ]
    assert inferrer.infer([]) == []
    assert all(isinstance(m, TopicMatch) for r in results for m in r)


def test_single_string_is_rejected(inferrer):
    with pytest.raises(TypeError):
        inferrer.infer("vegan")


def test_custom_taxonomy_objects():
    taxonomy = [TopicDef("tea", "Tea", ("tea", "matcha", "green tea"))]
    [matches] = TopicInferrer(taxonomy).infer(["Green tea and matcha"])
    assert matches == [
        TopicMatch("tea", pytest.approx(weight_for(3), abs=1e-3), matches[0].evidence)
    ]
    assert matches[0].evidence == ("tea", "matcha", "green tea")


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        (
            [
                {"slug": "tea", "label": "Tea", "keywords": ["tea"]},
                {"slug": "tea", "label": "Tea again", "keywords": ["chai"]},
            ],
            "duplicate topic slug 'tea'",
        ),
        ([{"slug": "tea", "label": "Tea", "keywords": []}], "no keywords"),
        ([{"slug": "tea", "label": "Tea", "keywords": ["tea", "  "]}], "empty keyword"),
        ([{"slug": "Green Tea", "label": "Tea", "keywords": ["tea"]}], "bad slug"),
        ([{"slug": "tea", "keywords": ["tea"]}], "needs slug, label and keywords"),
        ({"slug": "tea"}, "must be a JSON list"),
    ],
)
def test_load_taxonomy_rejects_bad_files(tmp_path, topics, message):
    with pytest.raises(ValueError, match=message):
        load_taxonomy(write_taxonomy(tmp_path, topics))


def test_keywords_longer_than_five_words_are_rejected():
    taxonomy = [TopicDef("dogs", "Dogs", ("adopt a dog and don't shop",))]
    with pytest.raises(ValueError, match="1 to 5 words"):
        TopicInferrer(taxonomy)


def test_ties_go_to_the_topic_the_text_names_first(inferrer):
    [matches] = inferrer.infer(["Photographer and cyclist"])
    [reverse] = inferrer.infer(["cyclist and photographer"])
    assert matches[0].weight == reverse[0].weight
    assert matches[0].slug == "photography" and reverse[0].slug == "cycling"


def test_a_text_holding_the_separator_stays_one_text(inferrer):
    results = inferrer.infer(["coffee\x1ewine", "yoga"])
    assert [[m.slug for m in r] for r in results] == [["coffee", "wine"], ["yoga"]]


@pytest.mark.parametrize(("text", "language"), [
    ("the best coffee in the world and my dog", "en"),
    ("amo il calcio e la musica di chi non si arrende", "it"),
    ("soy de la ciudad y me gusta el fútbol", "es"),
    ("sou mãe e não sei cozinhar muito bem", "pt"),
    ("ich bin der Meinung und das ist gut", "de"),
    ("je suis le roi et la reine des chats", "fr"),
    ("привет всем друзьям", "ru"),
    ("hello", "und"),
    ("", "und"),
])
def test_language_guess(inferrer, text, language):
    assert inferrer.detect_languages([text]) == [language]
    assert language in (*LANGUAGES, "ru", "und")


def test_languages_and_topics_in_one_pass_agree_with_infer(inferrer):
    texts = ["Periodista y bluesman", "amo il caffè", None]
    topics, languages = inferrer.infer_with_languages(texts)
    assert topics == inferrer.infer(texts)
    assert len(languages) == 3


def test_keyword_groups_by_language_and_extend_mode(tmp_path, monkeypatch):
    custom = write_taxonomy(tmp_path, [
        {"slug": "tea", "label": "Tea", "keywords": {"en": ["tea", "matcha"], "it": ["tè"]}},
        {"slug": "coffee", "label": "Coffee & espresso", "keywords": ["cortado"]},
    ])
    monkeypatch.setenv("PERKS_TAXONOMY_PATH", str(custom))
    topics = {t.slug: t for t in load_taxonomy()}
    bundled = {t.slug: t for t in load_taxonomy(TAXONOMY_PATH)}
    assert set(topics) == set(bundled) | {"tea"}
    assert topics["tea"].keywords == ("tea", "matcha", "tè")
    assert topics["tea"].languages == (("en", 2), ("it", 1))
    assert topics["coffee"].label == "Coffee & espresso"
    assert topics["coffee"].keywords[-1] == "cortado"
    assert set(bundled["coffee"].keywords) < set(topics["coffee"].keywords)
    assert fingerprint(topics.values()) != fingerprint(bundled.values())
    [matches] = TopicInferrer().infer(["un tè e un cortado"])
    assert {m.slug for m in matches} == {"tea", "coffee"}


def test_replace_mode_is_the_whole_taxonomy(tmp_path, monkeypatch):
    custom = write_taxonomy(tmp_path, [{"slug": "tea", "label": "Tea", "keywords": ["tea"]}])
    monkeypatch.setenv("PERKS_TAXONOMY_PATH", str(custom))
    monkeypatch.setenv("PERKS_TAXONOMY_MODE", "replace")
    assert [t.slug for t in load_taxonomy()] == ["tea"]


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("PERKS_TAXONOMY_MODE", "merge", "PERKS_TAXONOMY_MODE must be one of extend, replace"),
    ("PERKS_TAXONOMY_PATH", "/nonexistent/taxonomy.json", "no taxonomy file at"),
])
def test_bad_taxonomy_settings_say_what_is_wrong(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message):
        load_taxonomy()


def test_fingerprint_follows_content_not_identity():
    one = load_taxonomy(TAXONOMY_PATH)
    assert fingerprint(one) == fingerprint(load_taxonomy(TAXONOMY_PATH))
    changed = [*one[:-1], TopicDef(one[-1].slug, one[-1].label, one[-1].keywords[:-1])]
    assert fingerprint(changed) != fingerprint(one)


@pytest.mark.parametrize(("typed", "expected"), [
    ("coffe", "coffee"), ("basket", "basketball"), ("vegan", "vegan-food"),
    ("Crypto-currency", "crypto"), ("sofware-development", "software-development"),
])
def test_suggestions_for_unknown_slugs(typed, expected):
    slugs = [t.slug for t in load_taxonomy()]
    assert expected in suggest_slugs(typed, slugs)


def test_unknown_slugs_message_names_each_with_its_suggestion():
    message = unknown_slugs_message(["coffe", "zzzz"], ["coffee", "wine"])
    assert message == "not in the taxonomy: coffe (did you mean coffee?), zzzz"


def test_missing_slugs_per_key():
    taxonomy = [TopicDef("coffee", "Coffee", ("coffee",)), TopicDef("wine", "Wine", ("wine",))]
    assert missing_slugs({1: ["coffee"], 2: ["tea", "wine", "knitting"]}, taxonomy) == {
        2: ["tea", "knitting"]}


@pytest.mark.shared_data
@pytest.mark.parametrize("split", ["holdout", "tune"])
def test_precision_and_recall_on_hand_labelled_genuine_bios(inferrer, split):
    """Per split and language; the figures are what `python tests/topic_quality.py` prints."""
    if not SHARED_BOTS_DIR.is_dir():
        pytest.skip(f"research datasets not found at {SHARED_BOTS_DIR}")
    from tests.topic_quality import evaluate, read_labels, table

    rows = read_labels(split)
    overall, by_language, _details = evaluate(rows, inferrer)
    print(f"\n{split}\n" + table(overall, by_language))
    assert len(read_labels("all")) >= 600 and len(rows) >= 200
    assert overall.precision >= FLOORS[split][0] and overall.recall >= FLOORS[split][1]
    for language, figures in by_language.items():
        if figures.accounts >= 20 and language != "und":
            assert figures.precision >= 0.70 and figures.recall >= 0.60, language


# Measured 0.85 / 0.78 held out and 0.85 / 0.81 on the tuning part (docs/topics.md), less a
# margin, so a keyword edit that costs quality fails here.
FLOORS = {"holdout": (0.82, 0.74), "tune": (0.82, 0.77)}
