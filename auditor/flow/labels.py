"""What a register, field or store can carry: taint labels and the values that travel with them.

Labels are small tuples so that sets of them are cheap to hash and merge:
- ("d", channel, source_id): rows of a channel (contacts...), read at source `source_id`;
- ("u", channel, source_id): a channel's content URI, not yet queried;
- ("p", position): whatever the analysed method's parameter at `position` carries (0 = receiver),
  the symbolic part of a method summary;
- ("m", kind): the object is a way off the phone (a network stream, a file on shared storage);
- ("s", text): a URL, host or IP constant, kept to name where a sink sends.
"""

from __future__ import annotations

import re

Label = tuple[str, ...] | tuple[str, str, int] | tuple[str, int]
LabelSet = frozenset[Label]
EMPTY: LabelSet = frozenset()

ENDPOINT = re.compile(
    r"^(?:(?:https?|wss?|ftp|mqtt|tcp|ssl)://[^\s\"'<>]+"
    r"|(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?:/\S*)?"
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)+:\d{2,5}(?:/\S*)?"
    r"|\+\d{6,15})$",
    re.IGNORECASE,
)
"""A string constant that names a destination: a URL with a scheme, an IPv4 address, host:port, or
an international phone number (+...: where an SMS goes)."""


def endpoint_label(text: str) -> Label | None:
    """The label of a constant string when it names a destination, else None."""
    if len(text) <= 2048 and ENDPOINT.match(text):
        return ("s", text)
    return None


# Every helper below returns its labels sorted: a set's order depends on string hashing, which
# changes between processes, and the first flow found decides the trace a report shows.

def data_labels(labels: LabelSet) -> list[tuple[str, str, int]]:
    return sorted(label for label in labels if label[0] == "d")  # type: ignore[misc]


def params_in(labels: LabelSet) -> list[int]:
    return sorted(label[1] for label in labels if label[0] == "p")  # type: ignore[misc]


def endpoints_in(labels: LabelSet) -> list[str]:
    return sorted(label[1] for label in labels if label[0] == "s")  # type: ignore[misc]


def marks_in(labels: LabelSet) -> list[str]:
    return sorted(label[1] for label in labels if label[0] == "m")  # type: ignore[misc]


def concrete(labels: LabelSet) -> LabelSet:
    """The labels that do not depend on the analysed method's parameters."""
    return frozenset(label for label in labels if label[0] != "p")
