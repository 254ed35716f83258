"""A cheap language guess for short bios: common function words and the script of the letters.

lingua-language-detector is more accurate but reads a few thousand bios per second on this
machine, far below what topic inference needs; function words found in the same Aho–Corasick
pass as the topic keywords cost nearly nothing. The guess is one of ``LANGUAGES`` or ``und``.
"""

from __future__ import annotations

import numpy as np

UNDETERMINED = "und"
# Words that are frequent in bios and rare as content words; a word shared by two languages
# counts for both, so the distinctive ones decide.
FUNCTION_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("the", "and", "of", "to", "my", "is", "in", "i", "you", "for", "with", "on", "at",
           "are", "am", "your", "me", "it", "just", "love", "not", "be", "all", "who", "what",
           "i'm", "im", "from", "about", "this", "that", "have"),
    "es": ("el", "la", "los", "las", "y", "de", "que", "en", "por", "con", "mi", "soy", "del",
           "una", "es", "para", "amo", "lo", "yo", "pero", "mas", "más", "vida", "todo", "muy",
           "sin", "como", "tu", "al", "ser", "mis", "nada"),
    "pt": ("o", "os", "as", "e", "de", "que", "em", "do", "da", "dos", "das", "não", "nao",
           "com", "uma", "sou", "meu", "minha", "pra", "você", "voce", "é", "mais", "vida",
           "tudo", "eu", "por", "ser", "um", "se", "muito", "na", "no"),
    "it": ("il", "lo", "gli", "la", "le", "e", "di", "che", "in", "per", "con", "sono", "non",
           "del", "della", "mi", "un", "una", "è", "ma", "ho", "nel", "nella", "al", "alla",
           "dei", "delle", "chi", "vita", "tutto", "io", "se", "amo", "mio", "mia"),
    "de": ("der", "die", "das", "und", "ich", "ist", "nicht", "mit", "von", "zu", "auf", "für",
           "ein", "eine", "bin", "im", "auch", "es", "sich", "den", "dem", "des", "aus", "bei",
           "oder", "wie", "mein", "meine", "nur", "über"),
    "fr": ("le", "la", "les", "et", "de", "des", "du", "je", "est", "un", "une", "pour",
           "dans", "pas", "sur", "mon", "ma", "qui", "que", "en", "au", "aux", "avec", "suis",
           "mes", "tout", "vie", "ne", "ce", "c'est", "j'aime", "et"),
}
LANGUAGES = tuple(FUNCTION_WORDS)
# Letters of other scripts, by the first byte of their UTF-8 form.
SCRIPTS = {"ru": (0xD0, 0xD1), "ar": (0xD8, 0xD9, 0xDA, 0xDB), "ko": (0xEA, 0xEB, 0xEC, 0xED),
           "ja": (0xE3,), "zh": (0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9)}
MIN_WORDS = 1  # fewer function words than this (and no script) is "und"


def guess_languages(n_docs: int, word_docs: np.ndarray, word_langs: np.ndarray,
                    lead_docs: dict[str, np.ndarray]) -> list[str]:
    """One language per document from the function-word hits (document, language index) and,
    per script, the documents of each non-Latin letter found (with repeats)."""
    scores = np.zeros((n_docs, len(LANGUAGES)), dtype=np.float64)
    if len(word_docs):
        np.add.at(scores, (word_docs, word_langs), 1.0)
    best = scores.argmax(axis=1)
    top = scores.max(axis=1)
    # Ties (an "e" alone) tell nothing.
    tied = (scores == top[:, None]).sum(axis=1) > 1
    names = np.array(LANGUAGES + (UNDETERMINED,), dtype=object)
    choice = np.where((top >= MIN_WORDS) & ~tied, best, len(LANGUAGES))
    guessed = names[choice]
    letters = np.zeros(n_docs, dtype=np.int64)
    script = np.full(n_docs, None, dtype=object)
    for name, docs in lead_docs.items():
        count = np.bincount(docs, minlength=n_docs)
        better = count > np.maximum(letters, 2)
        script[better] = name
        letters = np.maximum(letters, count)
    # A bio mostly in another script is in that script's language whatever its Latin words say.
    use_script = script != None  # noqa: E711 - elementwise comparison on an object array
    guessed[use_script] = script[use_script]
    return guessed.tolist()
