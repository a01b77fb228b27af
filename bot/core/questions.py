"""Question extraction: find the question in a long message.

People often tell a story first and ask last ("I work in a warehouse… lifting… should I go back
to work on Monday?"). Retrieval on the whole story matches incidental words ("lifting"), so
`extract` picks the sentence (or two) that asks something and keeps the rest as context.

Pure and linear in the input: one sentence split, then a few anchored or bounded regexes per
sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.safety import sentences
from bot.core.text import clean, tokens

SHORT_WORDS = 25  # a message with fewer words than this is passed through unchanged
MIN_SCORE = 2.0  # a sentence must score at least this to count as a question
FEW_WORDS = 8  # a question this short that points back ("Is that normal?") takes the one before
MIN_CONTENT = 2  # … and so does one with fewer content words than this ("What helps?")
LAST_BONUS = 0.5  # the question usually comes last: the last sentence gets this if it asks at all

# Fillers a question often starts with: "So, ", "Anyway my question is: ", "Basically".
_LEAD = re.compile(
    r"^(?:(?:so|and|but|also|anyway|basically|ok|okay|well|now|then|honestly|"
    r"my (?:main |real |actual )?question (?:is|was)|the question is|question)\b[\s,:;.-]*){1,3}",
    re.IGNORECASE,
)
_QWORD = re.compile(
    r"^(?:(?:what|whats|how|hows|should|shall|can|could|is|isnt|are|arent|why|when|which|where|"
    r"would|will|wont|does|any tips|any advice|any ideas|anything|am i|is there|are there|"
    r"best)\b|"
    # Statements start with these too ("Did a hike on Saturday"): a subject must follow.
    r"(?:do|did|dont|has|have|was|were)\s+(?:i|you|we|they|it|this|that|anyone|"
    r"people|most|my|your|these|those|someone|anybody)\b)",
    re.IGNORECASE,
)
# Asking in the middle of a sentence: "…, should I rest?", "…the best way to…".
_ASKS = re.compile(
    r"\b(?:would you|is it (?:ok|okay|safe|normal|bad|fine)|should i|can i|"
    r"how (?:to|do|can|should|long|often|much|many)|what (?:should|can|is|are|do)|"
    r"(?:the )?best (?:way|exercises?|stretch(?:es)?)|good for|bad for|safe)\b",
    re.IGNORECASE,
)
# Requests and indirect questions: "Looking for advice on…", "I was wondering whether…".
_REQUEST = re.compile(
    r"\b(?:wondering|wonder (?:if|whether)|not sure (?:if|whether|what|how)|do you think|"
    r"looking for (?:advice|tips|ideas|help|suggestions|recommendations)|"
    r"any (?:advice|tips|ideas|suggestions|recommendations|thoughts)|"
    r"(?:need|want|would like|appreciate) (?:some )?(?:advice|tips|help|suggestions)|"
    r"advice (?:on|about|for)|tips (?:on|about|for)|help me|please help|"
    r"recommend|suggest|can (?:someone|anyone|you)|tell me|pls|plz|please)\b",
    re.IGNORECASE,
)
# Words that point back at an earlier sentence ("Is *that* normal?").
_POINTS_BACK = re.compile(r"\b(?:it|that|this|these|those|they|them|so|there)\b", re.IGNORECASE)
_APOSTROPHES = re.compile(r"['’`´]")
# Sign-offs score nothing, even with "?" ("Thanks in advance!", "Cheers?").
_SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|thx|ty|cheers|ta|much appreciated|appreciate it|hi|hello|hey)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a message asks (`query`) and the rest (`context`). `questions` holds every sentence
    that reads as a question, best first (the query's own sentence first); `changed` is False
    when the message passed through unchanged (short, or no sentence reads as a question)."""

    query: str
    context: str
    questions: tuple[str, ...] = ()
    changed: bool = False


def score(sentence: str) -> float:
    """How much a sentence reads as a question or a request (0 for none)."""
    s = sentence.strip()
    if not s or _SIGN_OFF.match(s):
        return 0.0
    body = _APOSTROPHES.sub("", _LEAD.sub("", s, count=1))  # "can't" is not "can"
    points = 0.0
    if "?" in s:
        points += 3.0
    if _QWORD.match(body):
        points += 2.0
    elif _ASKS.search(s):
        points += 1.5
    if _REQUEST.search(s):
        points += 2.0
    return points


def extract(text: str) -> Extracted:
    """The best one or two sentences of a long message as the query, the rest as context.
    Short messages, and messages where nothing reads as a question, come back unchanged."""
    if len(text.split(None, SHORT_WORDS)) < SHORT_WORDS:
        return Extracted(text, "")
    parts = sentences(text)
    scored = [(score(s), i) for i, s in enumerate(parts)]
    if scored and scored[-1][0] > 0:
        scored[-1] = (scored[-1][0] + LAST_BONUS, scored[-1][1])
    asking = [(p, i) for p, i in scored if p >= MIN_SCORE]
    if not asking or len(parts) < 2:
        return Extracted(text, "")
    # The best question; among equals the later one (the question usually comes last).
    _, best = max(asking)
    picked = [best]
    short = len(parts[best].split()) < FEW_WORDS
    vague = _POINTS_BACK.search(parts[best]) or len(tokens(clean(parts[best]))) < MIN_CONTENT
    if best > 0 and short and vague:
        picked.insert(0, best - 1)  # "Is that normal?", "What helps?" need what they are about
    query = " ".join(parts[i] for i in picked)
    context = " ".join(s for i, s in enumerate(parts) if i not in picked)
    others = sorted((x for x in asking if x[1] != best), reverse=True)
    questions = (query, *(parts[i] for _, i in others))
    return Extracted(query, context, questions, changed=True)
