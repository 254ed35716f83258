"""Probable minors: does a bio read like a child describing themselves?

`birth_year` and `is_minor` are used when an import gives them (perks.campaigns.matching); this
heuristic covers the far more common case where only the bio hints at an age. It runs once per
row at import (perks.importing.store) and the result is stored as ``Account.probable_minor``.

Rules (case-insensitive; an "age" is a whole number from 10 to 17):

1. age with a unit: "14 y/o", "14yo", "14 y.o.", "14 yrs", "14 years old", "age 14", "aged 14"
2. self statement: "im 14", "i'm 14", "i am 14", "im a teen(ager)"
3. other languages: Italian "ho 14 anni" / "14 anni", Spanish "tengo 14 años" / "14 años",
   French "j'ai 14 ans" / "14 ans", German "bin 14 jahre" / "14 jahre alt", Portuguese
   "tenho 14 anos"
4. school: "6th grade" … "12th grade", "8th grader", "grade 8", "middle school",
   "junior high", "high school freshman/sophomore/junior/senior", "freshman in high school",
   "hs freshman", Italian "terza media" / "prima liceo"
5. graduating class: "class of 2027", "c/o 2027", "class of '27" when the year is between the
   end of the school year the profile was observed in and four years after it

A match does not count when it describes someone else or another time (the near misses, which
must stay eligible): the 30 characters before it name a relation or role ("mom of", "my son",
"teacher of", "coach", "raising"), the word or two before it are "my", "since", "when … was",
"da", "desde", "depuis" ("my 14yo", "coding since age 14", "da 14 anni"), or the 25 characters
after it name a role or experience ("8th grade teacher", "class of 2027 parent") or a unit
("14 yrs of", "im 15 minutes from"). So "mom of a 14 y/o",
"teacher of 8th grade", "dad of two teens" and "class of 1998" do not match. The rules
lean towards excluding: a false positive costs one candidate, a false negative targets a child.
"""

import re
from datetime import datetime

AGE = r"(?:1[0-7])"
_PATTERNS = [
    # 1. age with a unit
    rf"\b{AGE}\s*(?:y/?o|y\.o\.?|yrs?\b(?:\s*old)?|years?\s*old|year-old)",
    rf"\bage[d]?\s*:?\s*{AGE}\b",
    # 2. self statement
    rf"\b(?:i'?m|i’m|i\s+am)\s+{AGE}\b(?!\s*(?:k|%|/|\.\d|,\d))",
    r"\b(?:i'?m|i’m|i\s+am)\s+(?:a\s+|just\s+a\s+)?(?:teen|teenager)\b",
    # 3. other languages
    rf"\b(?:ho|tengo|tenho|j'ai|j’ai|bin)\s+{AGE}\b",
    rf"\b{AGE}\s*(?:anni|años|anos|ans|jahre(?:\s+alt)?)\b",
    # 4. school
    r"\b(?:6|7|8|9|10|11|12)(?:st|nd|rd|th)\s*grade(?:r)?\b",
    r"\bgrade\s*(?:6|7|8|9|10|11|12)\b",
    r"\b(?:middle\s+schooler|(?:in|at)\s+(?:middle\s+school|junior\s+high))\b",
    r"\b(?:high\s*school|hs)\s+(?:freshman|sophomore|junior|senior)\b",
    r"\b(?:freshman|sophomore|junior|senior)\s+(?:in|at)\s+(?:high\s*school|hs)\b",
    r"\b(?:prima|seconda|terza)\s+(?:media|liceo)\b",
    # 5. graduating class (the year is checked in code)
    r"\b(?:class\s+of|c/o)\s*(?P<year>'\d{2}|\d{4})\b",
]
_MATCH = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
# Cheap gate: most bios have none of these, so the full pattern never runs on them.
_GATE = re.compile(r"1[0-7]|grade|school|junior|teen|class|c/o|media|liceo", re.IGNORECASE)
# Someone else's age or grade: a relation or role word up to 30 characters before the match.
_OTHER_BEFORE = re.compile(
    r"\b(?:mom|mum|mama|mommy|mother|dad|daddy|papa|father|parent|parents|grandma|grandpa|"
    r"granny|aunt|auntie|uncle|stepmom|stepdad|nanny|tutor|teacher|teach|teaches|teaching|"
    r"taught|coach|coaching|principal|counselor|counsellor|raising|son|sons|daughter|"
    r"daughters|kid|kids|child|children|twins|madre|padre|mamma|papà|insegnante|prof)\b"
    r"[^.!?|\n]{0,30}$", re.IGNORECASE)
# A duration or a past age, right before: "since age 14", "da 14 anni", "when i was 14", "my 14yo".
_TIME_BEFORE = re.compile(
    r"\b(?:my|our|da|per|hace|desde|durante|depuis|pendant|seit|since|for|over|after|when|"
    r"was|from|started|began|at)\s+(?:\w+\s+)?$", re.IGNORECASE)
# A role, an experience or a unit after: "8th grade teacher", "14 years of experience".
_OTHER_AFTER = re.compile(
    r"^[^.!?|\n]{0,25}?\b(?:teacher|teachers|coach|tutor|parent|parents|mom|mum|dad|"
    r"advisor|adviser|counselor|principal|staff|students|experience|esperienza|experiencia|"
    r"expérience|erfahrung|son|daughter|kid|kids|reunion)\b", re.IGNORECASE)
_UNIT_AFTER = re.compile(
    r"^\s*(?:of|in|di|de|d['’]|ago|fa|min|mins|minutes|hours|hrs|days|weeks|months|miles|km|"
    r"k\b|%)", re.IGNORECASE)


def minor_evidence(bio: str | None, *, observed_at: datetime | None = None) -> str | None:
    """The phrase that makes the bio read like a minor's, or None.

    `observed_at` dates a "class of" year; without it "class of" phrases are not used.
    """
    if not bio or not _GATE.search(bio):
        return None
    for match in _MATCH.finditer(bio):
        if _about_someone_else(bio, match.start(), match.end()):
            continue
        year = match.group("year")
        if year is not None and not _class_year_is_school_age(year, observed_at):
            continue
        return match.group(0).strip()
    return None


def probable_minor(bio: str | None, *, observed_at: datetime | None = None) -> bool:
    """True when the bio reads like a minor describing themselves (see the module's rules)."""
    return minor_evidence(bio, observed_at=observed_at) is not None


def _about_someone_else(bio: str, start: int, end: int) -> bool:
    before, after = bio[max(0, start - 40):start], bio[end:end + 40]
    return bool(_OTHER_BEFORE.search(before) or _TIME_BEFORE.search(before)
                or _OTHER_AFTER.search(after) or _UNIT_AFTER.search(after))


def _class_year_is_school_age(year_text: str, observed_at: datetime | None) -> bool:
    if observed_at is None:
        return False
    # A school year ends in June: from July on, the next class is the one graduating.
    graduating = observed_at.year + (1 if observed_at.month >= 7 else 0)
    year = int(year_text.lstrip("'"))
    if len(year_text) == 3:  # "'27": the century of the observation
        year += observed_at.year - observed_at.year % 100
    return graduating <= year <= graduating + 4
