"""Fixed texts and buttons the bot uses in several places."""

from __future__ import annotations

from bot.core.features import HELP
from bot.core.types import Button

__all__ = ["HELP"]  # re-exported: generated from the feature table

ABOUT = (
    "**backbot** — a back-training coach.\n"
    "Answers come from a knowledge base written from public health sources "
    "(NHS, NICE, NINDS, ACE, Harvard Health, Mayo Clinic); each answer links its sources (/sources lists them all). "
    "General information, not medical advice."
)
SORRY_STORAGE = (
    "I couldn't save that just now (my database is unavailable). Please try again in a minute."
)
NON_TEXT = "I can only read text. Ask me about back training, or try /today for a workout."
NOT_ENGLISH = "Sorry, I only understand English for now. Try /help to see what I can do."
SLOW_DOWN = "You're sending messages faster than I can coach 🙂 Give me a few seconds."
HOME_BUTTONS = (Button("Today's workout", "today"), Button("Help", "help"))

UNCLEAR = (
    "I'm not sure which answer fits that one. Could you ask it another way, with the exercise "
    'or the situation in a few words? For example: "what should I avoid with back pain?", '
    '"is it normal to be sore after deadlifts?" or "how do I do a bird dog?"'
)

PRIVACY = (
    "**Your data**\n"
    "What I store: your settings (level, equipment, time zone), the sessions you log, the pain "
    "scores you send (only after you agree), weekly check-in answers (if you opt in), your step "
    "per exercise, your reminder schedule, and where a conversation is up to. Why: to fit today's plan to you, show your progress and remind you.\n"
    "Who sees it: only you. In a group, personal replies come to your private chat.\n"
    "How long: until you delete it. Questions you ask are not stored.\n"
    "/export sends you all of it as a file · /forget deletes all of it."
)
PRIVACY_SHORT = "Your answers are stored privately to fit the plan to you: /privacy says more."
