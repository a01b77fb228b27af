"""Load and validate the knowledge base (knowledge/*.yaml) into typed, immutable models.

Every problem is reported with its file and entry id, so `backbot kb check` and start-up can say
exactly what to fix. Validation is strict: unknown keys, duplicate or dangling ids and health
content without sources are errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import KnowledgeError

# A phone screen shows about 12 short lines; longer answers are split or rewritten.
MAX_ANSWER_CHARS = 700
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
# libyaml's loader is ~10x faster than the pure-Python one; start-up time is mostly YAML.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Level = Literal["beginner", "intermediate", "advanced"]
Equipment = Literal["none", "dumbbells", "pullup_bar", "gym"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    id: str
    title: str
    publisher: str
    url: str

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v.startswith("https://"):
            raise ValueError("url must start with https://")
        return v


class FaqEntry(_Model):
    id: str
    question: str
    alternates: list[str] = Field(min_length=3)
    answer: str = Field(max_length=MAX_ANSWER_CHARS)
    tags: list[str] = []
    sources: list[str] = Field(min_length=1)
    follow_up: list[str] = []


class Exercise(_Model):
    id: str
    name: str
    aliases: list[str] = []
    muscles: list[str] = Field(min_length=1)
    equipment: list[Equipment] = Field(min_length=1)
    level: Level
    pain_safe: bool
    steps: list[str] = Field(min_length=2)
    cues: list[str] = Field(min_length=1)
    mistakes: list[str] = Field(min_length=1)
    easier: str | None = None
    harder: str | None = None
    dose: str
    sources: list[str] = Field(min_length=1)


class PlanItem(_Model):
    exercise: str
    dose: str | None = None


class Session(_Model):
    id: str
    title: str
    items: list[PlanItem] = Field(min_length=2)


class Plan(_Model):
    id: str
    level: Level | Literal["any"]
    equipment: Equipment
    gentle: bool = False
    sessions: list[Session] = Field(min_length=1)


# Every pattern compiled through `compile_once`, once per process: loading the knowledge base
# compiles its regexes to check them, and triage and small talk compile the same texts again;
# Python's own cache (512 patterns) is smaller than the rules, so it did not spare that.
_COMPILED: dict[str, re.Pattern[str]] = {}
_MAX_COMPILED = 20_000  # cleared past this (many knowledge bases loaded in one process)


def compile_once(pattern: str) -> re.Pattern[str]:
    """`re.compile(pattern)`, compiled once per process."""
    got = _COMPILED.get(pattern)
    if got is None:
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.clear()
        got = _COMPILED[pattern] = re.compile(pattern)
    return got


def _check_regexes(patterns: list[str]) -> list[str]:
    for p in patterns:
        try:
            compile_once(p)
        except re.error as e:
            raise ValueError(f"pattern {p!r} is not a valid regex: {e}") from e
    return patterns


# A list of regexes, each checked to compile when the knowledge base is loaded.
Regexes = Annotated[list[str], AfterValidator(_check_regexes)]


Urgency = Literal["emergency", "urgent", "soon"]
# Most urgent first: a reply takes the highest level any rule or the model found.
URGENCIES: tuple[Urgency, ...] = ("emergency", "urgent", "soon")


class Escalation(_Model):
    """Patterns that raise a flag to a more urgent level when they occur in the same window
    (leg weakness in *both* legs; a fall from a ladder rather than a stumble)."""

    level: Urgency
    patterns: Regexes = Field(min_length=1)


def _combinations_of_two(v: list[list[str]]) -> list[list[str]]:
    """`all_of` (a red flag's, or one language's rules for it): every combination has two or
    more patterns."""
    if any(len(group) < 2 for group in v):
        raise ValueError("each all_of combination needs at least two patterns")
    return v


class RedFlag(_Model):
    """A symptom that needs a doctor, at one urgency `level`. It is raised when any of `patterns`
    matches, or when every group of one `all_of` combination matches, inside one window of at
    most two sentences (concepts that co-occur, e.g. a bladder word and a loss-of-control word);
    `%name%` in a pattern stands for the concept of that name. `ignore` spans (idioms such as
    "hit legs tomorrow") are blanked out before matching; an `unless` exception silences the flag
    only in the window it matches in, never in the rest of the message."""

    id: str
    name: str
    level: Urgency
    escalate: list[Escalation] = []
    patterns: Regexes = Field(min_length=1)
    all_of: list[Regexes] = []
    # Where a combination's first two groups (body site x symptom) must meet: anywhere in the
    # window of two sentences (the default), or in one sentence, for common words that meet by
    # chance in a story ("my legs turned to jelly" ... "my core is weak"). Later groups (the
    # qualifier) may be anywhere in the window.
    all_of_within: Literal["sentence", "window"] = "window"
    # What the message must mention for the learned model alone to answer with this flag (a leg
    # word for leg weakness). Without one the model's "sure" becomes the screening question, which
    # still reaches this flag's reply on "Yes". Empty: no such condition.
    model_needs: Regexes = []
    # Idioms blanked out of the window before this flag's patterns run ("hit legs tomorrow");
    # unlike `unless`, the rest of the window is still checked.
    ignore: Regexes = []
    unless: Regexes = []
    # Exceptions about the whole episode, read over the window and the sentence either side:
    # "Six months ago I fell off a ladder. It's healed and I've been cleared." A past, recovered
    # event is told across sentences, so one window alone rarely holds both halves.
    unless_nearby: Regexes = []
    # A flag that is a history itself: safety.yaml `recovered` ("all fine now", "fully
    # recovered") does not make it the screening question, since "treated for cancer, fully
    # recovered" is still a history of cancer.
    history: bool = False
    message: str = Field(max_length=MAX_ANSWER_CHARS)
    sources: list[str] = Field(min_length=1)

    _groups_of_two = field_validator("all_of")(_combinations_of_two)


class LanguageRules(_Model):
    """One red flag's rules in one other language (safety.yaml `languages`): the same kinds of
    pattern as the flag's own, merged into it when the triage is built. Written without accents:
    the triage also reads every text with its accents folded ("fièvre" -> "fievre")."""

    patterns: Regexes = []
    all_of: list[Regexes] = []
    escalate: list[Escalation] = []
    ignore: Regexes = []
    unless: Regexes = []

    _groups_of_two = field_validator("all_of")(_combinations_of_two)


class Language(_Model):
    """A language users write whole messages in: its negation words (added to the triage's) and,
    per red flag id, that flag's rules in it. Every red flag must have rules in every language."""

    name: str
    negations: list[str] = []
    red_flags: dict[str, LanguageRules] = {}


class LevelText(_Model):
    """How one urgency level is said: `header` is the single line that leads the reply (what to
    do and how soon); `sources` are cited under every reply of the level."""

    header: str = Field(max_length=200)
    # The same instruction for a message about someone else ("my dad can't control his
    # bladder"): who should call, or take them, and how soon.
    header_other: str | None = Field(default=None, max_length=200)
    sources: list[str] = Field(min_length=1)


class ScreenItem(_Model):
    label: str = Field(max_length=40)
    flag: str  # the red flag whose reply a "yes" to this item gives


class SomeoneElse(_Model):
    """How a red-flag message about another person is recognised: one of `mentions` (a
    relative, a friend, "he"/"she" as the subject) and none of `own` (the user's own
    symptoms, "my back", "i can t"). Regexes over the lowercased, punctuation-free text."""

    mentions: list[str] = Field(min_length=1)
    own: list[str] = []

    @field_validator("mentions", "own")
    @classmethod
    def _compile(cls, v: list[str]) -> list[str]:
        _check_regexes(v)
        return v


class Screening(_Model):
    """The question asked when the model is unsure: "do you have any of these?"."""

    question: str = Field(max_length=400)
    items: list[ScreenItem] = Field(min_length=2)


class Model(_Model):
    """The learned red-flag model (bot/triage_model.py): `artefact` is built from `examples` by
    `backbot triage build`. Per sentence, a probability of at least `sure` gives the red-flag
    reply, at least `screen` the screening question."""

    artefact: str
    examples: str
    sure: float = Field(gt=0.0, lt=1.0)
    screen: float = Field(gt=0.0, lt=1.0)
    min_words: int = Field(default=3, ge=1)
    # A rule hit on which the model scores below `veto` is not certain: it gets the screening
    # question (which still leads to the level's reply) instead of the red-flag reply.
    veto: float = Field(default=0.0, ge=0.0, lt=1.0)
    ignore: Regexes = []
    needs: Regexes = []


class Safety(_Model):
    levels: dict[Urgency, LevelText]
    concepts: dict[str, str] = {}
    red_flags: list[RedFlag] = Field(min_length=1)
    screening: Screening | None = None
    someone_else: SomeoneElse | None = None
    model: Model | None = None
    negations: list[str] = []
    # Other languages, by code ("es", "de"): per red flag, its rules in that language.
    languages: dict[str, Language] = {}
    # The message says the back is fine or the symptom has passed ("back's fine", "it went away
    # after ten minutes"): a rule's hit becomes the screening question instead of an urgent
    # reply. Still counted as caught: "Yes" leads to the flag's reply.
    reassured: Regexes = []
    # The episode is over ("all fine now", "been fine since", "completely resolved"): the same,
    # for every flag but a history (`history: true`).
    recovered: Regexes = []
    # Read right after a rule's match: the symptom denied after it is named ("coughing and
    # sneezing are fine", "bladder control perfect"), as a negation before it would.
    denied_after: Regexes = []
    disclaimer: str
    button: str | None = None  # an FAQ id offered under every red-flag reply
    sources: list[str] = Field(min_length=1)

    @field_validator("concepts")
    @classmethod
    def _concepts_compile(cls, v: dict[str, str]) -> dict[str, str]:
        for name, pattern in v.items():
            if not ID_RE.match(name):
                raise ValueError(f"concept name {name!r} must be lowercase letters, digits, _")
            _check_regexes([pattern])
        return v


class SmalltalkIntent(_Model):
    id: str
    patterns: Regexes = Field(min_length=1)
    replies: list[str] = Field(min_length=1)
    # FAQ or exercise ids offered as buttons under the reply
    buttons: list[str] = []
    # Looser regexes for longer chat ("good morning coach, hope you're well"): they count only
    # when retrieval finds no answer and the message names nothing about the back.
    openers: Regexes = []


class Smalltalk(_Model):
    intents: list[SmalltalkIntent] = Field(min_length=1)
    scope: str
    domain_words: list[str] = Field(min_length=10)
    # The narrower list that overrides an off-topic match ("neck AND back pain" is ours, "knee
    # pain" is not): words about the back itself, not pain words. Empty: domain_words.
    back_words: list[str] = []
    # Regexes (on cleaned text) for topics we do not cover; a message matching one and using
    # no domain word is out of scope ("best biceps workout", "leg day routine").
    off_topic: Regexes = []
    # Regexes for phrases where "back" is not the body part ("back up my phone"); they are
    # removed before retrieval.
    not_back: Regexes = []


@dataclass(frozen=True, slots=True)
class RedFlagExample:
    """One labelled message the red-flag model learns from, and the set it came from."""

    text: str
    red_flag: bool
    topic: str | None
    set: str


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """The whole validated knowledge base."""

    sources: dict[str, Source]
    faq: tuple[FaqEntry, ...]
    exercises: dict[str, Exercise]
    plans: tuple[Plan, ...]
    warmup: tuple[PlanItem, ...]
    safety: Safety
    smalltalk: Smalltalk
    synonyms: dict[str, tuple[str, ...]]
    # (text, is a red flag) pairs the red-flag model is built from; empty when not configured
    red_flag_examples: tuple[RedFlagExample, ...] = ()
    # the red-flag model's file (safety.yaml model.artefact), when one is configured
    model_path: Path | None = None

    def cite_links(self, source_ids: Iterable[str], limit: int = 3) -> str:
        """Sources one a line, each named and linked as `link` does (red-flag replies, where
        a list reads better on a phone than a run of links)."""
        ids = [s for s in dict.fromkeys(source_ids) if s in self.sources][:limit]
        return "Sources:\n" + "\n".join(f"• {self.link(s)}" for s in ids) if ids else ""

    def link(self, source_id: str) -> str:
        """A source as a link the adapters render: "[NHS: Sciatica](https://...)"."""
        s = self.sources[source_id]
        name = s.title if s.publisher.lower() in s.title.lower() else f"{s.publisher}: {s.title}"
        return f"[{name}]({s.url})"

    def source_list(self) -> str:
        """Every source, linked, one line per publisher (for /sources)."""
        by_publisher: dict[str, list[str]] = {}
        for src in self.sources.values():
            by_publisher.setdefault(src.publisher, []).append(f"[{src.title}]({src.url})")
        lines = [f"• **{pub}**: " + " · ".join(links) for pub, links in by_publisher.items()]
        return "\n".join(lines)

    def cite(self, source_ids: Iterable[str]) -> str:
        """A source credit for a reply: each source's name, linked."""
        links = [self.link(s) for s in dict.fromkeys(source_ids) if s in self.sources]
        return ("Source: " if len(links) == 1 else "Sources: ") + " · ".join(links) if links else ""


FILES = (
    "sources.yaml",
    "faq.yaml",
    "exercises.yaml",
    "plans.yaml",
    "safety.yaml",
    "smalltalk.yaml",
    "synonyms.yaml",
)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: str, entry: str | None, msg: str) -> None:
        where = f"{file}: {entry}" if entry else file
        self.items.append(f"{where}: {msg}")


def _read(directory: Path, name: str, problems: _Problems) -> dict[str, Any]:
    path = directory / name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError:
        problems.add(name, None, "file is missing")
        return {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problems.add(name, None, f"not valid YAML{line}: {getattr(e, 'problem', e)}")
        return {}
    if not isinstance(data, dict):
        problems.add(name, None, "top level must be a mapping")
        return {}
    return data


def _fmt(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _models(file: str, raw: Any, key: str, model: type[_Model], problems: _Problems) -> list[Any]:
    items = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(items, list):
        problems.add(file, None, f"'{key}' must be a list")
        return []
    out = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        entry_id = item.get("id") if isinstance(item, dict) else None
        label = str(entry_id) if entry_id else f"entry #{i + 1}"
        try:
            m = model.model_validate(item)
        except ValidationError as e:
            problems.add(file, label, _fmt(e))
            continue
        mid = getattr(m, "id", None)
        if mid is not None:
            if not ID_RE.match(mid):
                problems.add(file, label, "id must be lowercase letters, digits and _")
            if mid in seen:
                problems.add(file, label, "duplicate id")
            seen.add(mid)
        out.append(m)
    return out


def _unknown_top(file: str, raw: dict[str, Any], allowed: set[str], problems: _Problems) -> None:
    for k in raw:
        if k not in allowed:
            problems.add(file, None, f"unknown top-level key '{k}'")


def load(directory: Path | str, *, need_artefact: bool = True) -> KnowledgeBase:
    """Load and validate the knowledge base; raise KnowledgeError listing every problem.
    `need_artefact=False` is for building the red-flag model, which makes the artefact."""
    kb, problems = _load(Path(directory), need_artefact)
    if problems:
        raise KnowledgeError(
            f"knowledge base in {directory} has {len(problems)} problem(s):\n  "
            + "\n  ".join(problems)
        )
    assert kb is not None
    return kb


def check(directory: Path | str) -> list[str]:
    """Return every problem in the knowledge base (empty when valid)."""
    return _load(Path(directory))[1]


def _load(d: Path, need_artefact: bool = True) -> tuple[KnowledgeBase | None, list[str]]:
    p = _Problems()
    raw = {name: _read(d, name, p) for name in FILES}

    _unknown_top("sources.yaml", raw["sources.yaml"], {"sources"}, p)
    sources = {s.id: s for s in _models("sources.yaml", raw["sources.yaml"], "sources", Source, p)}
    _unknown_top("faq.yaml", raw["faq.yaml"], {"entries"}, p)
    faq = _models("faq.yaml", raw["faq.yaml"], "entries", FaqEntry, p)
    _unknown_top("exercises.yaml", raw["exercises.yaml"], {"exercises"}, p)
    exercises = {
        e.id: e for e in _models("exercises.yaml", raw["exercises.yaml"], "exercises", Exercise, p)
    }
    _unknown_top("plans.yaml", raw["plans.yaml"], {"plans", "warmup"}, p)
    plans = _models("plans.yaml", raw["plans.yaml"], "plans", Plan, p)
    warmup = _models("plans.yaml", raw["plans.yaml"], "warmup", PlanItem, p)

    safety: Safety | None = None
    try:
        safety = Safety.model_validate(raw["safety.yaml"])
    except ValidationError as e:
        if raw["safety.yaml"]:
            p.add("safety.yaml", None, _fmt(e))
    smalltalk: Smalltalk | None = None
    try:
        smalltalk = Smalltalk.model_validate(raw["smalltalk.yaml"])
    except ValidationError as e:
        if raw["smalltalk.yaml"]:
            p.add("smalltalk.yaml", None, _fmt(e))

    synonyms: dict[str, tuple[str, ...]] = {}
    _unknown_top("synonyms.yaml", raw["synonyms.yaml"], {"synonyms"}, p)
    syn_raw = raw["synonyms.yaml"].get("synonyms", {})
    if not isinstance(syn_raw, dict):
        p.add("synonyms.yaml", None, "'synonyms' must map a canonical term to a list of variants")
    else:
        for canon, variants in syn_raw.items():
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                p.add("synonyms.yaml", str(canon), "variants must be a list of strings")
                continue
            synonyms[str(canon)] = tuple(variants)

    # Cross-file checks: ids unique across answerable topics, no dangling references.
    topic_ids: dict[str, str] = {}
    for file, ids in (("faq.yaml", [e.id for e in faq]), ("exercises.yaml", list(exercises))):
        for i in ids:
            if i in topic_ids and topic_ids[i] != file:
                p.add(file, i, f"id also used in {topic_ids[i]}")
            topic_ids.setdefault(i, file)

    def need_sources(file: str, entry: str, ids: list[str]) -> None:
        for s in ids:
            if s not in sources:
                p.add(file, entry, f"unknown source '{s}'")

    for entry in faq:
        need_sources("faq.yaml", entry.id, entry.sources)
        for f in entry.follow_up:
            if f not in topic_ids:
                p.add("faq.yaml", entry.id, f"follow_up '{f}' is not a known entry")
    for x in exercises.values():
        need_sources("exercises.yaml", x.id, x.sources)
        for rel in (x.easier, x.harder):
            if rel is not None and rel not in exercises:
                p.add("exercises.yaml", x.id, f"variant '{rel}' is not a known exercise")
    for plan in plans:
        for s in plan.sessions:
            for item in s.items:
                if item.exercise not in exercises:
                    p.add(
                        "plans.yaml", plan.id, f"session {s.id}: unknown exercise '{item.exercise}'"
                    )
                elif plan.gentle and not exercises[item.exercise].pain_safe:
                    p.add(
                        "plans.yaml", plan.id, f"gentle plan uses '{item.exercise}', not pain_safe"
                    )
    for item in warmup:
        if item.exercise not in exercises:
            p.add("plans.yaml", "warmup", f"unknown exercise '{item.exercise}'")
    if plans and not any(pl.gentle for pl in plans):
        p.add("plans.yaml", None, "needs a gentle plan (gentle: true) for pain days")
    if safety is not None:
        _check_safety(safety, topic_ids, need_sources, p)
    if smalltalk is not None:
        seen: set[str] = set()
        for it in smalltalk.intents:
            if it.id in seen:
                p.add("smalltalk.yaml", it.id, "duplicate id")
            seen.add(it.id)
            for b in it.buttons:
                if b not in topic_ids:
                    p.add("smalltalk.yaml", it.id, f"button '{b}' is not a known entry")

    examples: tuple[RedFlagExample, ...] = ()
    if safety is not None and safety.model is not None:
        examples = _examples(d, safety.model.examples, p)
        if need_artefact and not (d / safety.model.artefact).is_file():
            p.add(
                "safety.yaml",
                "model",
                f"artefact {safety.model.artefact} not found (build it: backbot triage build)",
            )

    if p.items or safety is None or smalltalk is None:
        return None, p.items or ["safety.yaml or smalltalk.yaml is empty"]
    return (
        KnowledgeBase(
            sources=sources,
            faq=tuple(faq),
            exercises=exercises,
            plans=tuple(plans),
            warmup=tuple(warmup),
            safety=safety,
            smalltalk=smalltalk,
            synonyms=synonyms,
            red_flag_examples=examples,
            model_path=d / safety.model.artefact if safety.model else None,
        ),
        [],
    )


# What each level's own words may say, and what only another level may say: an emergency reply
# that says "book a GP appointment", or a same-day one that says "call 999", contradicts itself.
_LEVEL_WORDS = {
    "emergency": re.compile(r"\b(999|A&E|emergency)\b", re.IGNORECASE),
    "urgent": re.compile(r"\b(111|today|same.day)\b", re.IGNORECASE),
    "soon": re.compile(r"\b(within (the next )?(a few|few) days|next few days)\b", re.IGNORECASE),
}
_CONCEPT_REF = re.compile(r"%([a-z0-9_]+)%")


def _check_safety(
    safety: Safety, topic_ids: dict[str, str], need_sources: Any, p: _Problems
) -> None:
    need_sources("safety.yaml", "sources", safety.sources)
    for level in URGENCIES:
        if level not in safety.levels:
            p.add("safety.yaml", "levels", f"level '{level}' has no header")
    for level, lt in safety.levels.items():
        need_sources("safety.yaml", f"levels.{level}", lt.sources)
        if safety.someone_else is not None and lt.header_other is None:
            p.add("safety.yaml", f"levels.{level}", "no header_other for someone else")
    if safety.button and safety.button not in topic_ids:
        p.add("safety.yaml", "button", f"'{safety.button}' is not a known entry")
    ids = [rf.id for rf in safety.red_flags]
    for i in {i for i in ids if ids.count(i) > 1}:
        p.add("safety.yaml", i, "duplicate id")
    for rf in safety.red_flags:
        need_sources("safety.yaml", rf.id, rf.sources)
        for text in (
            *rf.patterns,
            *(g for c in rf.all_of for g in c),
            *rf.ignore,
            *rf.unless,
            *rf.unless_nearby,
        ):
            for name in _CONCEPT_REF.findall(text):
                if name not in safety.concepts:
                    p.add("safety.yaml", rf.id, f"unknown concept %{name}%")
        # A flag's message explains why; its instruction is the level's. It must not carry
        # another level's instruction (an escalated flag is told by its header line).
        others = [
            lv for lv in URGENCIES if lv != rf.level and not any(e.level == lv for e in rf.escalate)
        ]
        for lv in others:
            if _LEVEL_WORDS[lv].search(rf.message):
                p.add("safety.yaml", rf.id, f"{rf.level} message uses {lv} wording")
    for code, lang in safety.languages.items():
        where = f"languages.{code}"
        for fid in sorted(set(ids) - set(lang.red_flags)):
            p.add("safety.yaml", where, f"no {lang.name} rules for red flag {fid}")
        for fid, rules in lang.red_flags.items():
            if fid not in ids:
                p.add("safety.yaml", where, f"unknown red flag {fid}")
            if not rules.patterns and not rules.all_of:
                p.add("safety.yaml", f"{where}.{fid}", "no patterns and no all_of")
            for text in (
                *rules.patterns,
                *(g for c in rules.all_of for g in c),
                *(q for e in rules.escalate for q in e.patterns),
                *rules.unless,
            ):
                # Texts are also read accent-folded, so an accented pattern only half works.
                if not text.isascii():
                    p.add("safety.yaml", f"{where}.{fid}", f"accented pattern {text[:40]!r}")
                for name in _CONCEPT_REF.findall(text):
                    if name not in safety.concepts:
                        p.add("safety.yaml", f"{where}.{fid}", f"unknown concept %{name}%")
    if safety.screening is not None:
        for item in safety.screening.items:
            if item.flag not in ids:
                p.add("safety.yaml", "screening", f"item '{item.label}': unknown flag {item.flag}")
    if safety.model is not None and not safety.model.screen < safety.model.sure:
        p.add("safety.yaml", "model", "screen must be lower than sure")


def _examples(d: Path, name: str, p: _Problems) -> tuple[RedFlagExample, ...]:
    """Labelled messages for the red-flag model: both classes present, every line valid."""
    path = d / name
    if not path.is_file():
        p.add("safety.yaml", "model", f"examples file {name} not found")
        return ()
    out: list[RedFlagExample] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, flag = row["text"], row["red_flag"]
            topic, origin = row.get("topic"), row.get("set", "")
        except (ValueError, KeyError, TypeError, AttributeError):
            p.add(name, None, f"line {n}: needs a JSON object with text and red_flag")
            continue
        if not isinstance(text, str) or not isinstance(flag, bool) or not text.strip():
            p.add(name, None, f"line {n}: text must be a non-empty string, red_flag true/false")
            continue
        if flag and not isinstance(topic, str):
            p.add(name, None, f"line {n}: a red flag needs its flag id as topic")
            continue
        out.append(RedFlagExample(text, flag, topic if flag else None, str(origin)))
    if len({e.red_flag for e in out}) < 2:
        p.add(name, None, "needs examples of both red flags and ordinary messages")
    return tuple(out)


# ---------------------------------------------------------------------------------------- lints
# Warnings, not problems: `kb check` prints them and still passes.

_FIRST_SENTENCE = re.compile(r"[^\n]*?(?:[.!?](?=\s|$)|\n|$)")
_BARE_YES_NO = re.compile(r"\s*(?:(usually|generally|mostly)\s+)?(yes|no)\s*[.!]?\s*", re.I)
# Words that take back a bare "Yes."/"No." later in the answer ("No. … occasional crunches
# are OK"). "usually" is not one after an opener that already says "Usually".
_TAKES_BACK = re.compile(r"\b(but|however|occasional(?:ly)?|can be fine|usually)\b", re.I)


def bare_opener_contradictions(faq: Iterable[FaqEntry]) -> list[tuple[str, str, str]]:
    """(entry id, the bare first sentence, the words that contradict it) for every answer that
    opens with a bare "Yes."/"No."/"Usually yes"/"Usually no" and later hedges or reverses it."""
    out = []
    for e in faq:
        answer = e.answer.strip()
        first = _FIRST_SENTENCE.match(answer)
        head = first.group(0) if first else ""
        bare = _BARE_YES_NO.fullmatch(head)
        if not bare:
            continue
        rest = answer[len(head) :]
        hits = [
            m for m in _TAKES_BACK.finditer(rest) if not (bare[1] and m[1].lower() == "usually")
        ]
        if hits:
            words = ", ".join(dict.fromkeys(f'"{m[0]}"' for m in hits))
            out.append((e.id, head.strip(), words))
    return out


def warnings(kb: KnowledgeBase) -> list[str]:
    """Lint warnings for content writers (the knowledge base is still valid)."""
    return [
        f'faq.yaml: {entry}: answer opens with a bare "{head}" but later says {word}; '
        "say the condition in the first sentence"
        for entry, head, word in bare_opener_contradictions(kb.faq)
    ]
