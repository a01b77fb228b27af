"""Multi-step conversations as an explicit state table: step -> question, choices, next step.

Onboarding walks level -> equipment -> pain -> reminders (-> timezone). The settings flow asks
one of the same steps and ends. Button payloads are "set:<step>:<value>"; typed answers are
matched against each step's choices (label words or the value) or parsed (pain, time zone).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.types import Button

ONBOARDING = "onboarding"
SETTINGS = "settings"
PAIN = "pain"
REMINDER_WHEN = "remind_when"
FORGET = "forget"


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    value: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    question: str
    choices: tuple[Choice, ...]
    next_step: str | None  # within onboarding; the settings flow always ends after one step

    def buttons(self) -> tuple[Button, ...]:
        return tuple(Button(c.label, f"set:{self.name}:{c.value}") for c in self.choices)

    def match(self, text: str) -> str | None:
        """The value a typed answer picks, if it clearly picks one."""
        words = set(text.split())
        for c in self.choices:
            if text in (c.value, c.label.lower()) or words & set(c.words):
                return c.value
        return None


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step(
            "level",
            "How would you describe your training level?",
            (
                Choice("Beginner", "beginner", ("beginner", "new", "novice", "never", "1")),
                Choice("Intermediate", "intermediate", ("intermediate", "some", "medium", "2")),
                Choice("Advanced", "advanced", ("advanced", "experienced", "expert", "3")),
            ),
            "equipment",
        ),
        Step(
            "equipment",
            "What equipment do you have for training?",
            (
                Choice("Nothing", "none", ("none", "nothing", "bodyweight", "no")),
                Choice("Dumbbells", "dumbbells", ("dumbbells", "dumbbell", "weights")),
                Choice("Pull-up bar", "pullup_bar", ("bar", "pullup", "chinup")),
                Choice("Gym", "gym", ("gym", "machines", "barbell", "cables")),
            ),
            "pain",
        ),
        Step(
            "pain",
            "Any back pain right now? (0 = none, 10 = worst)",
            (
                Choice("None (0)", "0", ("none", "no", "nope")),
                Choice("Mild (1-3)", "2", ("mild", "little", "bit")),
                Choice("Moderate (4-6)", "5", ("moderate", "some")),
                Choice("Strong (7-10)", "8", ("strong", "severe", "bad", "lot")),
            ),
            "reminders",
        ),
        Step(
            "reminders",
            "Want a reminder to train three times a week?",
            (
                Choice("Yes, remind me", "yes", ("yes", "yeah", "sure", "ok", "yep")),
                Choice("Other days or time", "custom", ("other", "custom", "different")),
                Choice("No reminders", "no", ("no", "nope", "none")),
            ),
            "timezone",
        ),
        Step(
            "timezone",
            "Which time zone are you in? Type a city or a UTC offset (e.g. Berlin, New York, +2).",
            (Choice("UTC", "UTC", ("utc", "gmt")),),
            None,
        ),
    )
}

SKIP = Button("Skip setup", "ob:skip")
