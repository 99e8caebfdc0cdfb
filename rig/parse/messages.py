"""A parser's table of messages, and the one way a line is read by it.

Each message names the text every line of it holds (its hint, a regex fragment the file scan
also looks for), its whole form, and its reader; the first message, in the table's order,
whose ``when`` allows and whose regex matches reads the line. A line is first searched for
all hints at once; when it holds only one, only that hint's messages are tried (a table of
twenty messages used to try each of them on every Xen line that held any hint); a line with
two hints is walked through the whole table, in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P")
#: a hint holding none of these is plain text: it matches only itself
_META = frozenset(".^$*+?{}[]\\|()")


@dataclass(frozen=True)
class Message(Generic[P]):
    hint: str
    regex: re.Pattern[str]
    read: Callable[[P, re.Match[str]], None]
    when: Callable[[P], bool] | None = None


class Table(Generic[P]):
    def __init__(self, messages: tuple[Message[P], ...]) -> None:
        self.messages = messages
        #: the distinct hints, in the table's order
        self.hints: tuple[str, ...] = tuple(dict.fromkeys(m.hint for m in messages))
        # one plain alternation: named groups, one per hint, made the search 15 times slower
        # (they defeat the regex engine's scan for a first character); the hint is told by
        # the text it matched instead
        self.keys = re.compile("|".join(self.hints))
        self._by_hint = {h: tuple(m for m in messages if m.hint == h) for h in self.hints}
        self._literal = frozenset(h for h in self.hints if not any(c in h for c in _META))
        self._patterns = tuple((re.compile(h), h) for h in self.hints if h not in self._literal)
        # where one plain hint starts another, the alternation finds the first at the other's
        # place and the other's messages would never be tried
        assert not [(a, b) for a in self._literal for b in self._literal
                    if a != b and b.startswith(a)], "a plain hint is another's start"

    def find(self, text: str) -> re.Match[str] | None:
        """The first hint ``text`` holds: None, and no message can read it."""
        return self.keys.search(text)

    def read(self, parser: P, text: str, found: re.Match[str]) -> bool:
        """Read ``text`` (which holds the hint ``found``) with the first message that takes it;
        whether one did."""
        if self.keys.search(text, found.start() + 1) is not None:
            # more than one hint: more than one message may take the line, and the table's
            # order decides (a message's line holds its hint, so one hint means its messages)
            return self._try(self.messages, parser, text)
        text_found = found.group()
        hint = text_found if text_found in self._literal else next(
            (h for rx, h in self._patterns if rx.fullmatch(text_found)), None)
        return hint is not None and self._try(self._by_hint[hint], parser, text)

    @staticmethod
    def _try(messages: tuple[Message[P], ...], parser: P, text: str) -> bool:
        for message in messages:
            if (message.when is None or message.when(parser)) and \
                    (m := message.regex.match(text)) is not None:
                message.read(parser, m)
                return True
        return False
