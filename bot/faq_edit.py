"""Add an alternate phrasing to an FAQ entry in `faq.yaml`, keeping the file as people wrote it.

A text-level insertion, not a YAML round trip: one line goes in after the entry's last
alternate and every other byte of the file stays (comments, order, block scalars, quoting).
The edit is made on a copy of the knowledge directory first and `kb check` runs on that copy;
only a copy that passes replaces the real file (atomically), so a failed check leaves the
knowledge base untouched.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import kb as kb_module
from bot.errors import KnowledgeError

logger = logging.getLogger(__name__)

FAQ_FILE = "faq.yaml"
MAX_PHRASING = 200  # an alternate is a question, not a story

_ENTRY = re.compile(r"^(?P<indent>\s*)- id:\s*(?P<id>[A-Za-z0-9_]+)\s*(?:#.*)?$")
_ALTERNATES = re.compile(r"^(?P<indent>\s+)alternates:\s*(?:#.*)?$")
_ITEM = re.compile(r"^(?P<indent>\s+)- ")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Added:
    """What was added where, and the `kb check` summary of the result."""

    path: Path
    faq_id: str
    phrasing: str
    line: int  # 1-based line number of the new alternate


def phrasing_of(text: str) -> str:
    """The phrasing as it goes into the file: one line, single spaces."""
    return " ".join(text.split())


def _scalar(text: str) -> str:
    """`text` as a YAML scalar: plain when it reads back as itself, double-quoted otherwise."""
    try:
        if yaml.safe_load(f"- {text}") == [text]:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _same(a: str, b: str) -> bool:
    return phrasing_of(a).casefold().rstrip("?!. ") == phrasing_of(b).casefold().rstrip("?!. ")


def insert_alternate(source: str, faq_id: str, phrasing: str) -> tuple[str, int]:
    """The file's text with `phrasing` added as the last alternate of entry `faq_id`, and the
    new line's number. Raises KnowledgeError naming what is wrong."""
    lines = source.splitlines(keepends=True)
    start = next(
        (i for i, ln in enumerate(lines) if (m := _ENTRY.match(ln)) and m["id"] == faq_id), None
    )
    if start is None:
        raise KnowledgeError(f"{FAQ_FILE}: no entry with id {faq_id!r}")
    entry_indent = len(_ENTRY.match(lines[start])["indent"])  # type: ignore[index]
    end = len(lines)
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            indent = len(lines[i]) - len(lines[i].lstrip())
            if indent <= entry_indent:
                end = i
                break
    alt = next((i for i in range(start + 1, end) if _ALTERNATES.match(lines[i])), None)
    if alt is None:
        raise KnowledgeError(
            f"{FAQ_FILE}: {faq_id}: no block list of alternates to add to "
            "(expected 'alternates:' followed by '- ...' lines)"
        )
    key_indent = len(_ALTERNATES.match(lines[alt])["indent"])  # type: ignore[index]
    item_indent: int | None = None
    last = None
    for i in range(alt + 1, end):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())
        m = _ITEM.match(lines[i])
        if item_indent is None and m and indent >= key_indent:
            item_indent = indent
        if item_indent is not None and m and indent == item_indent:
            last = i
        elif item_indent is not None and indent > item_indent:
            last = i  # a continuation of the last item
        else:
            break
    if last is None or item_indent is None:
        raise KnowledgeError(f"{FAQ_FILE}: {faq_id}: its alternates list is empty or not a list")
    newline = "\r\n" if lines[last].endswith("\r\n") else "\n"
    if not lines[last].endswith(("\n", "\r")):
        lines[last] += newline
    lines.insert(last + 1, " " * item_indent + "- " + _scalar(phrasing) + newline)
    return "".join(lines), last + 2


def add_alternate(directory: Path, faq_id: str, text: str) -> Added:
    """Add `text` as an alternate of FAQ entry `faq_id` in `directory`/faq.yaml, if the
    knowledge base still passes `kb check` with it; otherwise raise KnowledgeError and leave
    the file as it was."""
    phrasing = phrasing_of(text)
    if not phrasing:
        raise KnowledgeError("the phrasing is empty")
    if len(phrasing) > MAX_PHRASING:
        raise KnowledgeError(
            f"the phrasing is {len(phrasing)} characters; an alternate question is at most "
            f"{MAX_PHRASING}"
        )
    path = directory / FAQ_FILE
    try:
        source = path.read_bytes().decode("utf-8")  # bytes: line endings stay as they are
    except (OSError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or err
        raise KnowledgeError(f"cannot read {path}: {why}") from None
    kb = kb_module.load(directory)  # a knowledge base that fails its check gets no edits
    if faq_id not in {entry.id for entry in kb.faq}:
        hint = (
            " (that is an exercise; alternates go to FAQ entries)" if faq_id in kb.exercises else ""
        )
        raise KnowledgeError(f"{path}: no FAQ entry with id {faq_id!r}{hint}")
    for entry in kb.faq:
        if any(_same(phrasing, q) for q in (entry.question, *entry.alternates)):
            raise KnowledgeError(f"{path}: {phrasing!r} is already a phrasing of {entry.id}")
    new, line = insert_alternate(source, faq_id, phrasing)
    # The edit must read back as exactly one more alternate of that entry and nothing else.
    before = yaml.load(source, Loader=_LOADER)
    after = yaml.load(new, Loader=_LOADER)
    expected = before
    for raw in expected.get("entries", []):
        if isinstance(raw, dict) and raw.get("id") == faq_id:
            raw["alternates"] = [*raw.get("alternates", []), phrasing]
    if after != expected:
        raise KnowledgeError(f"{path}: {faq_id}: the file's layout defeated a clean insertion")
    _check_then_replace(directory, path, new)
    logger.info("added an alternate to %s (line %d of %s)", faq_id, line, path)
    return Added(path, faq_id, phrasing, line)


def _check_then_replace(directory: Path, path: Path, new: str) -> None:
    """Run `kb check` on a copy of the directory with the new faq.yaml; replace the real file
    only when it passes."""
    with tempfile.TemporaryDirectory(prefix="backbot-kb-") as tmp:
        copy = Path(tmp) / "knowledge"
        shutil.copytree(directory, copy)
        (copy / FAQ_FILE).write_bytes(new.encode("utf-8"))
        problems = kb_module.check(copy)
    if problems:
        raise KnowledgeError(
            f"kb check failed with the new alternate, {path} left unchanged:\n  "
            + "\n  ".join(problems)
        )
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        staged.write_bytes(new.encode("utf-8"))
        shutil.copymode(path, staged)
        os.replace(staged, path)
    except OSError as e:
        staged.unlink(missing_ok=True)
        raise KnowledgeError(f"cannot write {path}: {e.strerror or e}") from None
