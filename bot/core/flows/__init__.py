"""The bot's flows, one module each; `build` makes the table the engine runs.

Adding a flow (a weekly check-in, say) is one new module with a `FLOW` and one line here.
"""

from __future__ import annotations

from bot.core.flow import Flow
from bot.core.flows import checkin, forget, onboarding, pain, screening, settings
from bot.kb import Screening


def build(screen: Screening | None) -> dict[str, Flow]:
    """Every flow; the screening flow takes its question and items from the knowledge base."""
    fixed = (onboarding.FLOW, settings.FLOW, pain.FLOW, forget.FLOW, checkin.FLOW)
    table = {f.name: f for f in fixed}
    if screen is not None:
        table[screening.NAME] = screening.build(
            screen.question, tuple(item.label for item in screen.items)
        )
    return table
