"""Flashcards: read them from the course notebooks, write them as Markdown, CSV and an Anki deck.

A notebook's markdown cell tagged ``flashcards`` holds cards separated by ``---`` lines, each with a
``# Front``, a ``# Back`` and an optional ``# Extra`` section (the format of seed 000). Text before
the first ``# Front`` (a ``## Flashcards`` heading, say) is ignored. Inside a fenced code block a
``---`` line does not end a card and a ``# comment`` line is not a heading.
"""
from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import genanki
import mistune
import nbformat

__all__ = ["Card", "parse_cards", "collect_cards", "to_markdown", "to_csv", "to_anki", "export"]

FLASHCARDS_TAG = "flashcards"
CSV_COLUMNS = ("front", "back", "extra", "source")

# Fixed ids: re-importing the deck into Anki updates the same note type and deck.
ANKI_MODEL_ID = 1_586_203_917
ANKI_DECK_ID = 1_739_548_261

_SECTION = re.compile(r"^#\s+(front|back|extra)\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_BOLD_FRONT = re.compile(r"\*\*((?:(?!\*\*).)+)\*\*", re.DOTALL)  # one bold span, nothing else


@dataclass(frozen=True)
class Card:
    """One flashcard: stripped texts, ``front`` without surrounding ``**``, notebook stem."""

    front: str
    back: str
    extra: str = ""
    source: str = ""


def _update_fence(line: str, fence: str | None) -> str | None:
    """The fence that is open after ``line`` (``None`` outside a fenced code block)."""
    match = _FENCE.match(line)
    if match is None:
        return fence
    mark = match.group(1)
    if fence is None:
        return mark
    # a closing fence: the same character, at least as long, and nothing else on the line
    if mark[0] == fence[0] and len(mark) >= len(fence) and line.strip() == mark:
        return None
    return fence


def _tokens(text: str):
    """Yield ``("sep", line)``, ``("section", name)`` or ``("text", line)`` for each line."""
    fence = None
    for line in text.splitlines():
        if fence is None:
            if line.strip() == "---":
                yield "sep", line
                continue
            section = _SECTION.match(line)
            if section:
                yield "section", section.group(1).lower()
                continue
        fence = _update_fence(line, fence)
        yield "text", line


def _chunks(text: str) -> list[list[tuple[str, str]]]:
    """The token lists of the cards: everything after the first ``# Front``, split at ``---``."""
    chunks: list[list[tuple[str, str]]] = [[]]
    started = False
    for kind, value in _tokens(text):
        started = started or (kind, value) == ("section", "front")
        if not started:
            continue
        if kind == "sep":
            chunks.append([])
        else:
            chunks[-1].append((kind, value))
    # a trailing or doubled "---" leaves an empty chunk: it is not a card
    return [c for c in chunks if any(kind == "section" or v.strip() for kind, v in c)]


def _build_card(chunk: list[tuple[str, str]], number: int, source: str) -> Card:
    """One card from its tokens; ``ValueError`` naming the source and card if it is malformed."""
    where = f"{source} card {number}" if source else f"card {number}"
    sections: dict[str, list[str]] = {}
    name = None
    for kind, value in chunk:
        if kind == "section":
            if value in sections:
                raise ValueError(f"parse_cards: {where} has two '# {value.title()}' sections")
            name = value
            sections[name] = []
        elif name is not None:
            sections[name].append(value)
        elif value.strip():
            raise ValueError(f"parse_cards: {where} has text before its '# Front' heading: "
                             f"{value.strip()!r}")
    texts = {key: "\n".join(lines).strip() for key, lines in sections.items()}
    for required in ("Front", "Back"):
        problem = ("is missing its" if required.lower() not in texts
                   else "has an empty" if not texts[required.lower()] else "")
        if problem:
            raise ValueError(f"parse_cards: {where} {problem} '# {required}' section; expected "
                             "'# Front' and '# Back' with text (and optionally '# Extra')")
    bold = _BOLD_FRONT.fullmatch(texts["front"])
    front = bold.group(1).strip() if bold else texts["front"]
    return Card(front, texts["back"], texts.get("extra", ""), source)


def parse_cards(text: str, source: str = "") -> list[Card]:
    """Parse the cards of one flashcards cell, in order.

    Args:
        text: the markdown text, cards separated by ``---`` lines.
        source: the notebook stem, stored on each card and named in error messages.
    Raises:
        ValueError: a card has no ``# Front`` or ``# Back`` (or an empty one), a section twice,
            or text before its ``# Front``; the message names the source and the card number.
    """
    return [_build_card(chunk, i, source) for i, chunk in enumerate(_chunks(text), start=1)]


def _read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as exc:  # NotJSONError is a ValueError
        raise ValueError(f"collect_cards: cannot read notebook {path}: {exc}") from exc


def collect_cards(paths) -> list[Card]:
    """Every card of every ``flashcards``-tagged markdown cell of the notebooks, in order.

    Each card's ``source`` is its notebook's stem. ``ValueError`` (naming the file, and the cell)
    when a notebook cannot be read or a card is malformed.
    """
    cards: list[Card] = []
    for path in map(Path, paths):
        nb = _read_notebook(path)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "markdown" or FLASHCARDS_TAG not in cell.metadata.get("tags", []):
                continue
            try:
                cards.extend(parse_cards(cell.source, source=path.stem))
            except ValueError as exc:
                raise ValueError(f"collect_cards: {path} (cell {index}): {exc}") from exc
    return cards


def _card_markdown(card: Card) -> str:
    parts = [f"# Front\n**{card.front}**", f"# Back\n{card.back}"]
    if card.extra:
        parts.append(f"# Extra\n{card.extra}")
    return "\n\n".join(parts)


def to_markdown(cards) -> str:
    """All cards as one Markdown document, a ``## <source>`` section per notebook, in the cell
    format: ``parse_cards`` of one section's text (with its source) gives back the same cards."""
    groups: dict[str, list[Card]] = {}
    for card in cards:
        groups.setdefault(card.source, []).append(card)
    sections = ["# Flashcards"]
    for source, group in groups.items():
        body = "\n\n---\n\n".join(_card_markdown(card) for card in group)
        sections.append(f"## {source or 'unsorted'}\n\n{body}")
    return "\n\n".join(sections) + "\n"


def to_csv(cards, path) -> Path:
    """Write the cards to a UTF-8 CSV file with the columns front, back, extra, source."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(asdict(card) for card in cards)
    return path


_MARKDOWN = mistune.create_markdown(plugins=["math"])  # inline $x$ becomes \(x\)
_DISPLAY_MATH = re.compile(r"\$\$\s*(.*?)\s*\$\$", re.DOTALL)


def _to_html(text: str) -> str:
    """Markdown as HTML for an Anki field (mistune), with display math in Anki's ``\\[..\\]``."""
    # Anki's MathJax reads \(..\) and \[..\] but not $$..$$
    return _DISPLAY_MATH.sub(lambda m: r"\[" + m.group(1) + r"\]", _MARKDOWN(text)).strip()


_ANKI_MODEL = genanki.Model(
    ANKI_MODEL_ID, "Deep Learning Course card",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Extra"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}",
                "afmt": "{{FrontSide}}<hr id=answer>{{Back}}{{#Extra}}<br><br>{{Extra}}{{/Extra}}"}],
    css=".card { font-family: sans-serif; font-size: 20px; text-align: left; }",
)


def to_anki(cards, path, deck_name: str = "Deep Learning Course") -> Path:
    """Write the cards to an Anki package (``.apkg``) with the fields Front, Back and Extra.

    Each note's GUID is ``genanki.guid_for(source, front)``, so importing a newer export updates
    the notes instead of adding duplicates. Each note is tagged with its notebook's stem.
    """
    path = Path(path)
    deck = genanki.Deck(ANKI_DECK_ID, deck_name)
    for card in cards:
        deck.add_note(genanki.Note(
            model=_ANKI_MODEL,
            fields=[_to_html(card.front), _to_html(card.back), _to_html(card.extra)],
            guid=genanki.guid_for(card.source, card.front),
            tags=[re.sub(r"\s+", "_", card.source)] if card.source else [],
        ))
    genanki.Package(deck).write_to_file(str(path))
    return path


def export(notebook_paths, out_dir) -> dict[str, Path]:
    """Collect the cards of the notebooks and write ``flashcards.md``, ``.csv`` and ``.apkg``.

    Returns:
        ``{"markdown": path, "csv": path, "anki": path}``; ``out_dir`` is created if needed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cards = collect_cards(notebook_paths)
    markdown = out / "flashcards.md"
    markdown.write_text(to_markdown(cards), encoding="utf-8")
    return {"markdown": markdown, "csv": to_csv(cards, out / "flashcards.csv"),
            "anki": to_anki(cards, out / "flashcards.apkg")}
