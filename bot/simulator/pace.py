"""How long a person would have taken over what a simulated user did: reading every message
the bot showed them, tapping and typing at a human pace, not a machine's.

The simulated respondents answer as fast as the bot replies; this turns their conversation
into the time it would take a person, so that a survey's promised duration can be measured
rather than guessed (`hiwar demo` prints it; tests/test_demo.py checks the promise). The
rates are averages from published studies, on the slow side for reading on a phone:

- reading: every line and button label once (one read before, such as a hint or the scale's
  buttons, is recognised, not read again), at 228 words a minute in English and 138 in Arabic, the means of the International
  Reading Speed Texts (Trauzettel-Klosinski et al., 2012), which count words as written;
- a tap: 2.5 seconds to weigh the options once read and press one;
- typing: 10 seconds to think of the answer, then 3 characters a second (36 words a minute,
  the mean on phones in Palin et al., 2019).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bot.simulator.users import keyboard_rows

if TYPE_CHECKING:
    from bot.simulator.users import SimulatedUser

WORDS_PER_MINUTE: Final = {"en": 228, "ar": 138}
TAP_SECONDS: Final = 2.5
THINK_BEFORE_TYPING_SECONDS: Final = 10.0
TYPED_CHARACTERS_PER_SECOND: Final = 3.0
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Pace:
    reading: float
    tapping: float
    typing: float

    @property
    def seconds(self) -> float:
        return self.reading + self.tapping + self.typing


def human_pace(user: SimulatedUser, language: str) -> Pace:
    """The time a person would have spent on this user's conversation so far."""
    words, seen = 0, set()
    for action in user.messages:
        if action.method in ("sendMessage", "editMessageText") and action.rendered_text:
            labels = [label for row in keyboard_rows(action.reply_markup) for label, _ in row]
            for line in [*action.rendered_text.splitlines(), *labels]:
                if line not in seen:  # a hint or a button read before is recognised
                    seen.add(line)
                    words += len(_WORD.findall(line))
    taps = sum(action.method == "answerCallbackQuery" for action in user.messages)
    typed = [
        message["text"]
        for message in user.chat.messages.values()
        if message.get("from", {}).get("id") == user.id
        and "text" in message
        and not message["text"].startswith("/")
    ]
    return Pace(
        reading=60 * words / WORDS_PER_MINUTE[language],
        tapping=TAP_SECONDS * taps,
        typing=sum(THINK_BEFORE_TYPING_SECONDS + len(t) / TYPED_CHARACTERS_PER_SECOND for t in typed),
    )
