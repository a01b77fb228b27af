"""Answers from the knowledge base: small talk, FAQ entries and exercise how-tos found by
retrieval, "did you mean" suggestions and the honest fallback. Pure: no store, no state."""

from __future__ import annotations

import dataclasses
import zlib

from bot.core import workouts
from bot.core.answers import Match, Result, Retrieval, Retriever, Tuning, kb_choices
from bot.core.hybrid import HybridRetriever, Similarity
from bot.core.messages import HOME_BUTTONS, NOT_ENGLISH, UNCLEAR
from bot.core.questions import extract
from bot.core.text import Normalizer, clean, tokens
from bot.core.types import Button, Kind, Reply
from bot.kb import KnowledgeBase, SmalltalkIntent, compile_once

MAX_QUERY_CHARS = 500  # retrieval reads the start of very long messages; triage reads it all
MAX_TITLE = 60
MAX_OTHER_QUESTIONS = 2  # a long message's further questions tried for an "also asked" button
UNKNOWN_WORDS = 2  # a long message's question with this many words we never use is not ours
UNCLEAR_TOPIC = "unclear"  # topic of the fallback to a message about the back that nothing answers


# Words that make a story's "back" the body: pain, tightness, training it.
_PAIN = "pain sore soreness ache aching achy stiff stiffness hurt hurts tight tightness"
_BACK_CONTEXT = (
    f"{_PAIN} cooked "
    "strength strengthen stronger exercise exercises workout train training gym lift lifting"
)
# A story of the back hurting (`_back_pain_story`): the pain words above and these.
_PAIN_STORY = (
    f"{_PAIN} painful aches hurting seize seizes seized spasm twinge tweak tweaked injured injury"
)
# Training talk beside `_BACK_CONTEXT` (`_training_talk`): everyday words a question about
# training uses ("how should I progress", "squeeze my shoulder blades", "mcgill big 3").
_TRAINING_TALK = (
    "sets set reps rep progress progression stretch stretches stretching squeeze squeezing blades "
    "posture form technique warm mobility core weights shoulder shoulders belt scapula curl curls "
    "brace bracing trunk belly abs glutes hamstrings muscle muscles mcgill"
)
# Training words everyday life uses as much ("rest breaks", "a beginner guitarist", "no"
# and "up" that synonyms leave behind: "bodyweight" -> "no equipment", "pullup" -> "pull up").
_EVERYDAY = "rest beginner warm pose sets reps no equipment lower upper up pain extension pull"
# Everyday words in multi-word FAQ tags that say nothing about training on their own.
_GENERIC = frozenset(
    [
        "stay",
        "through",
        "after",
        "before",
        "long",
        "people",
        "post",
        "without",
        "best",
        "year",
        "years",
        "week",
        "weeks",
        "work",
        "good",
        "new",
        "old",
        "young",
        "day",
        "days",
        "time",
        "get",
        "make",
        "keep",
        "way",
        "type",
        "types",
        "better",
        "bad",
        "right",
        "wrong",
        "normal",
        "ok",
        "safe",
        "help",
        "hard",
        "easy",
        "big",
        "small",
        "high",
        "low",
        "first",
        "next",
        "last",
        "much",
        "many",
        "more",
        "less",
        "all",
        "any",
        "some",
        "back",
        "to",
        "at",
        "in",
        "on",
        "of",
        "for",
        "with",
        "from",
        "up",
        "down",
        "out",
        "off",
    ]
)


class Library:
    def __init__(
        self,
        kb: KnowledgeBase,
        tuning: Tuning | None = None,
        retriever: Retrieval | None = None,
        similarity: Similarity | None = None,
    ) -> None:
        self.kb = kb
        self.normalize = Normalizer(kb.synonyms)
        self.retriever: Retrieval = retriever or Retriever(
            kb_choices(
                [(e.id, e.question, e.alternates) for e in kb.faq],
                [(x.id, x.name, x.aliases) for x in kb.exercises.values()],
            ),
            self.normalize,
            # Exercise names and FAQ tags are in the domain too ("bird dog", "pilates"), but not
            # a tag's everyday words ("stay active" must not make "stay" a training word).
            [
                *kb.smalltalk.domain_words,
                *(x.name for x in kb.exercises.values()),
                *(w for e in kb.faq for t in e.tags for w in t.split() if w not in _GENERIC),
            ],
            off_topic=kb.smalltalk.off_topic,
            not_back=kb.smalltalk.not_back,
            back_words=kb.smalltalk.back_words or kb.smalltalk.domain_words,
            exercise_names={x.id: (x.name, *x.aliases) for x in kb.exercises.values()},
            tuning=tuning,
        )
        if similarity is not None and isinstance(self.retriever, Retriever):
            # RETRIEVAL=hybrid: sentence-embedding similarity alongside (bot/core/hybrid.py).
            self.retriever = HybridRetriever(self.retriever, similarity)
        # Words that only make part of an exercise's name ("bird" of bird dog, "cat" of
        # cat-cow) or that everyday life uses as much as training ("rest", "beginner") say
        # nothing alone; back and pain words are judged apart (`_names_training`).
        own = tokens(self.normalize(" ".join(kb.smalltalk.domain_words)))
        particles = {w for x in kb.exercises.values() for w in tokens(self.normalize(x.name))}
        self._back_context = frozenset(tokens(self.normalize(_BACK_CONTEXT)))
        self._pain_story = frozenset(tokens(self.normalize(_PAIN_STORY)))
        self._training_talk_words = self._back_context | frozenset(
            tokens(self.normalize(_TRAINING_TALK))
        )
        strong = set(tokens(self.normalize(" ".join(kb.smalltalk.back_words)))) - {"back"}
        self._training_words = frozenset(
            w for w in own if w in strong or w not in particles | self._back_context | {"back"}
        ) - frozenset(tokens(self.normalize(_EVERYDAY)))
        self.smalltalk = [
            (it, tuple(compile_once(p) for p in it.patterns)) for it in kb.smalltalk.intents
        ]
        self.openers = [
            (it, tuple(compile_once(p) for p in it.openers))
            for it in kb.smalltalk.intents
            if it.openers
        ]
        self.faq = {e.id: e for e in kb.faq}

    def answer(self, text: str) -> list[Reply]:
        """Small talk, then retrieval; [] when nothing fits. Callers have run triage."""
        t = clean(text)
        for intent, patterns in self.smalltalk:
            if any(p.search(t) for p in patterns):
                return [self._smalltalk(intent, t)]
        result, others = self._retrieve(text)
        if result.answer is None and not self.retriever.mentions_back(text):
            for intent, patterns in self.openers:
                if any(p.search(t) for p in patterns):
                    return [self._smalltalk(intent, t)]
        if result.answer is not None:
            reply = self.topic_reply(result.answer.topic, result.answer.score)
            return [self._also_asked(reply, others)]
        if result.suggestions:
            buttons = tuple(self.topic_button(m.topic) for m in result.suggestions)
            return [
                Reply(
                    "I'm not sure I understood. Did you mean one of these?",
                    buttons,
                    kind=Kind.SUGGEST,
                    topic=result.suggestions[0].topic,
                    score=result.suggestions[0].score,
                )
            ]
        return []

    def _retrieve(self, text: str) -> tuple[Result, tuple[str, ...]]:
        """Retrieval on what a long message asks (see bot/core/questions.py), falling back to
        the start of the whole message when the question alone finds no answer and the whole
        does. Also returns the message's other questions, for `_also_asked`."""
        ex = extract(text)
        if not ex.changed:
            result = self.retriever.decide(text[:MAX_QUERY_CHARS])
            if (result.answer or result.suggestions) and self._unrelated(text[:MAX_QUERY_CHARS]):
                # "is bitcoin gonna go up this month": "go up" and "month" are ours, the
                # question is not
                return Result(None, (), False), ()
            return result, ()
        result = self.retriever.decide(ex.query[:MAX_QUERY_CHARS])
        if result.answer is None and self.retriever.about_something_else(ex.query):
            # The question itself is about something we don't cover ("how do I explain a career
            # gap?"): the story's incidental words ("back", "weeks") must not answer it.
            return Result(None, (), False), ()
        if (
            result.answer is None
            and not self._names_training(ex.query)
            and not self._names_training(text, story=True)
        ):
            # Neither the question nor the story is about the back or training it, by a narrow
            # list (smalltalk's domain words and the exercises' names, not the FAQ tags'
            # everyday words; a story's "back" only with pain or training): its incidental
            # words ("back handspring", "the back seat") must not answer "how do I stop a puppy
            # nipping?" or "which backpack should I get?".
            return Result(None, (), False), ()
        if (
            result.answer is None
            and not self._names_training(ex.query)
            and self.retriever.unknown_words(ex.query) >= UNKNOWN_WORDS
            and not self._back_pain_story(text)
            and not self._training_talk(ex.query)
        ):
            # The question is about things our phrasings never name ("an itinerary for Tokyo
            # and Osaka", "a puppy chewing the furniture"): the story's "gym" must not answer it.
            return Result(None, result.suggestions, False), ()
        if result.answer is None:
            whole = self.retriever.decide(text[:MAX_QUERY_CHARS])
            if whole.answer is not None or not result.suggestions:
                result = whole
        return result, ex.questions[1 : 1 + MAX_OTHER_QUESTIONS]

    def _unrelated(self, text: str) -> bool:
        """Names something our phrasings never do, and nothing of the back or of training."""
        return (
            self.retriever.unknown_words(text) >= 1
            and not self._training_talk(text)
            and not self._names_training(text)
        )

    def _training_talk(self, text: str) -> bool:
        """Uses a word of training talk, narrow or everyday ("exercises", "sets", "progress")."""
        return any(w in self._training_talk_words for w in self._words(text))

    def _back_pain_story(self, text: str) -> bool:
        """The message tells of the user's back hurting ("my back seizes up on flights"): its
        question is ours even in words our phrasings never use ("multifidus", "the airport")."""
        if not self.retriever.mentions_back(text):
            return False
        return any(w in self._pain_story for w in self._words(text))

    def _words(self, text: str) -> list[str]:
        """The message's words as the word sets above are kept: cleaned, synonyms applied."""
        return tokens(self.normalize(clean(text)))

    def _names_training(self, text: str, story: bool = False) -> bool:
        """A word about the back or training it, from the narrow list (see `_retrieve`). In a
        story (`story`), "back" counts only with a word about pain or training ("my back
        aches", "back strength"), and those only with "back": "the back seat" and "my ankle
        is sore" are not ours. An exercise's name counts ("pull ups", "good mornings")."""
        words = self._words(text)
        if any(w in self._training_words for w in words):
            return True
        if isinstance(self.retriever, Retriever) and self.retriever.names_exercise(text):
            return True
        back = self.retriever.mentions_back(text)
        if not story:
            return back
        return back and any(w in self._back_context for w in words)

    def _also_asked(self, reply: Reply, questions: tuple[str, ...]) -> Reply:
        """A button for a second question of the message that another entry answers."""
        for q in questions:
            other = self.retriever.decide(q[:MAX_QUERY_CHARS]).answer
            if other is None or other.topic == reply.topic:
                continue
            button = self.topic_button(other.topic)
            if button in reply.buttons:
                return reply
            return dataclasses.replace(reply, buttons=(button, *reply.buttons))
        return reply

    def fallback(self, text: str) -> Reply:
        letters = [c for c in text[:MAX_QUERY_CHARS] if c.isalpha()]
        if letters and sum(not c.isascii() for c in letters) > len(letters) / 2:
            return Reply(NOT_ENGLISH, HOME_BUTTONS, kind=Kind.OUT_OF_SCOPE)
        if self.retriever.mentions_back(text[:MAX_QUERY_CHARS]):
            # About the back, but no answer fits well enough: say so, rather than "I only
            # cover back training" to someone who just asked about their back.
            return Reply(UNCLEAR, HOME_BUTTONS, kind=Kind.OUT_OF_SCOPE, topic=UNCLEAR_TOPIC)
        return Reply(
            self.kb.smalltalk.scope + '\nTry /today, or ask "what should I avoid with back pain?"',
            HOME_BUTTONS,
            kind=Kind.OUT_OF_SCOPE,
        )

    def question(self, text: str) -> str:
        """What a message asks: its question sentence(s) when it tells a story first."""
        ex = extract(text)
        return (ex.query if ex.changed else text)[:MAX_QUERY_CHARS]

    def candidates(self, text: str, limit: int = 3) -> tuple[Match, ...]:
        """The topics retrieval ranks best for a message, scores below the thresholds too (for
        the operator's inbox). A plugged-in retriever that only decides gives what it decided."""
        query = self.question(text)
        if isinstance(self.retriever, Retriever):
            return tuple(self.retriever.search(query, limit))
        result = self.retriever.decide(query)
        found = (result.answer,) if result.answer else ()
        return (*found, *result.suggestions)[:limit]

    def has_topic(self, topic: str) -> bool:
        return topic in self.faq or topic in self.kb.exercises

    def topic_reply(self, topic: str, score: float | None = None) -> Reply:
        return self._faq_reply(topic, score) if topic in self.faq else self._exercise(topic, score)

    def topic_button(self, topic: str) -> Button:
        """A button that opens an FAQ entry or an exercise how-to."""
        title = (
            self.faq[topic].question
            if topic in self.faq
            else f"How to do: {self.kb.exercises[topic].name}"
        )
        if len(title) > MAX_TITLE:
            title = title[: MAX_TITLE - 3].rstrip() + "…"
        return Button(title, f"{'faq' if topic in self.faq else 'ex'}:{topic}")

    def doctor_button(self) -> tuple[Button, ...]:
        """The when-to-see-a-doctor entry safety.yaml names (button), if any."""
        b = self.kb.safety.button
        return (self.topic_button(b),) if b else ()

    def _smalltalk(self, intent: SmalltalkIntent, t: str) -> Reply:
        reply = intent.replies[zlib.crc32(t.encode()) % len(intent.replies)]
        buttons = tuple(self.topic_button(b) for b in intent.buttons)
        return Reply(reply, buttons, kind=Kind.SMALLTALK, topic=intent.id)

    def _faq_reply(self, topic: str, score: float | None) -> Reply:
        e = self.faq[topic]
        buttons = tuple(self.topic_button(f) for f in e.follow_up[:2])
        return Reply(
            f"{e.answer.strip()}\n\n{self.kb.cite(e.sources)}",
            buttons,
            kind=Kind.FAQ,
            topic=topic,
            score=score,
        )

    def _exercise(self, topic: str, score: float | None) -> Reply:
        x = self.kb.exercises[topic]
        buttons = tuple(
            Button(f"{label}: {self.kb.exercises[v].name}", f"ex:{v}")
            for label, v in (("Easier", x.easier), ("Harder", x.harder))
            if v
        )
        text = workouts.render_exercise(x, self.kb.cite(x.sources))
        return Reply(text, buttons, kind=Kind.FAQ, topic=topic, score=score)
