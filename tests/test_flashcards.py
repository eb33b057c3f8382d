"""Tests for companion.flashcards: parsing, collecting from notebooks, and the three exports."""
from __future__ import annotations

import csv
import re
import sqlite3
import zipfile
from pathlib import Path

import genanki
import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from companion import course
from companion.flashcards import (
    Card, collect_cards, export, parse_cards, to_anki, to_csv, to_markdown,
)

CELL = """## Flashcards

Some words before the first card are ignored.

# Front
**Softmax**

# Back
Turns scores into probabilities.

# Extra
- subtract the max first: $\\mathrm{softmax}(x) = \\mathrm{softmax}(x - c)$

---

# Front
**ReLU**

# Back
$\\max(0, x)$, applied elementwise.
"""

FENCED = """# Front
**YAML front matter**

# Back
A block between two dashed lines.

# Extra
```python
# comment: not a heading
text = '''
---
title: x
---
'''
```
After the fence.

---

# Front
Second

# Back
Answer two.
"""


def write_notebook(path: Path, cells) -> Path:
    nb = new_notebook(cells=cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def flashcards_cell(text: str):
    return new_markdown_cell(text, metadata={"tags": ["flashcards"]})


def anki_guids(apkg: Path, tmp_path: Path) -> list[str]:
    with zipfile.ZipFile(apkg) as z:
        z.extract("collection.anki2", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        return sorted(row[0] for row in db.execute("select guid from notes"))
    finally:
        db.close()


# ----------------------------------------------------------------------------- parsing

def test_parse_several_cards_with_optional_extra_and_leading_heading():
    cards = parse_cards(CELL, source="02_loss_functions")
    assert cards == [
        Card("Softmax", "Turns scores into probabilities.",
             "- subtract the max first: $\\mathrm{softmax}(x) = \\mathrm{softmax}(x - c)$",
             "02_loss_functions"),
        Card("ReLU", "$\\max(0, x)$, applied elementwise.", "", "02_loss_functions"),
    ]


def test_parse_code_fence_keeps_dashes_and_comment_lines():
    first, second = parse_cards(FENCED)
    assert first.front == "YAML front matter"
    assert "# comment: not a heading" in first.extra
    assert first.extra.count("\n---\n") == 2
    assert first.extra.endswith("After the fence.")
    assert second == Card("Second", "Answer two.", "", "")


def test_parse_tilde_fence_and_trailing_separator():
    text = "# Front\nA\n\n# Back\nB\n\n# Extra\n~~~\n# Back\n---\n~~~\n\n---\n"
    assert parse_cards(text) == [Card("A", "B", "~~~\n# Back\n---\n~~~")]


def test_parse_front_keeps_inner_bold():
    text = "# Front\n**a** versus **b**\n\n# Back\nx\n"
    assert parse_cards(text)[0].front == "**a** versus **b**"


def test_parse_text_without_cards_is_empty():
    assert parse_cards("## Flashcards\n\nnothing yet\n") == []


@pytest.mark.parametrize("text, message", [
    ("# Front\nA\n\n# Back\nB\n\n---\n\n# Front\nC\n", r"nb card 2 is missing its '# Back'"),
    ("# Front\nA\n\n# Back\nB\n\n---\n\n# Back\nD\n", r"nb card 2 has text before|missing"),
    ("# Front\nA\n\n# Back\n\n# Extra\nE\n", r"nb card 1 has an empty '# Back' section"),
    ("# Front\nA\n\n# Back\nB\n\n# Back\nC\n", r"nb card 1 has two '# Back' sections"),
    ("# Front\nA\n# Back\nB\n---\nstray\n# Front\nC\n# Back\nD\n",
     r"nb card 2 has text before its '# Front' heading: 'stray'"),
])
def test_parse_errors_name_source_card_and_problem(text, message):
    with pytest.raises(ValueError, match=message):
        parse_cards(text, source="nb")


def test_parse_card_without_front_is_reported():
    text = "# Front\nA\n# Back\nB\n---\n# Back\nonly a back\n"
    with pytest.raises(ValueError, match=r"nb card 2 is missing its '# Front'"):
        parse_cards(text, source="nb")


# ----------------------------------------------------------------------------- notebooks

def two_notebooks(tmp_path: Path) -> list[Path]:
    first = write_notebook(tmp_path / "00_welcome.ipynb", [
        new_markdown_cell("# Welcome"),
        new_markdown_cell("# Front\nUntagged\n\n# Back\nignored"),
        new_code_cell("x = 1"),
        flashcards_cell(CELL),
    ])
    second = write_notebook(tmp_path / "01_fundamentals" / "03_backprop.ipynb", [
        flashcards_cell(FENCED),
        new_markdown_cell("# Front\nOther tag\n\n# Back\nignored", metadata={"tags": ["x"]}),
    ])
    return [first, second]


def test_collect_over_two_notebooks_in_order_ignoring_untagged_cells(tmp_path):
    cards = collect_cards(two_notebooks(tmp_path))
    assert [c.front for c in cards] == ["Softmax", "ReLU", "YAML front matter", "Second"]
    assert [c.source for c in cards] == ["00_welcome"] * 2 + ["03_backprop"] * 2


def test_collect_unreadable_notebook_names_the_file(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cannot read notebook .*broken\.ipynb"):
        collect_cards([bad])
    with pytest.raises(ValueError, match=r"cannot read notebook .*missing\.ipynb"):
        collect_cards([tmp_path / "missing.ipynb"])


def test_collect_bad_card_names_file_and_cell(tmp_path):
    path = write_notebook(tmp_path / "05_optim.ipynb",
                          [new_markdown_cell("intro"), flashcards_cell("# Front\nA\n")])
    with pytest.raises(ValueError, match=r"05_optim\.ipynb \(cell 1\).*05_optim card 1 is missing"):
        collect_cards([path])


# ----------------------------------------------------------------------------- exports

def split_groups(markdown: str) -> dict[str, str]:
    """The text under each ``## <source>`` heading of ``to_markdown``'s output."""
    pieces = re.split(r"^## (\S+)\n", markdown, flags=re.MULTILINE)
    return dict(zip(pieces[1::2], pieces[2::2]))


def test_markdown_round_trips_per_source(tmp_path):
    cards = collect_cards(two_notebooks(tmp_path))
    groups = split_groups(to_markdown(cards))
    assert list(groups) == ["00_welcome", "03_backprop"]
    again = [card for source, text in groups.items() for card in parse_cards(text, source)]
    assert again == cards


line = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters=" .,()$+-="),
               min_size=1, max_size=30).map(str.strip).filter(lambda s: s not in ("", "---"))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(line, line, st.one_of(st.just(""), line)), min_size=1, max_size=4))
def test_markdown_round_trip_property(triples):
    cards = [Card(front, back, extra, "nb") for front, back, extra in triples]
    (text,) = split_groups(to_markdown(cards)).values()
    assert parse_cards(text, "nb") == cards


def test_csv_reads_back_with_dictreader(tmp_path):
    cards = collect_cards(two_notebooks(tmp_path)) + [Card("Größe, \"quoted\"", "b\nc", "", "x")]
    path = to_csv(cards, tmp_path / "cards.csv")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [Card(**row) for row in rows] == cards
    assert list(rows[0]) == ["front", "back", "extra", "source"]


def test_anki_package_is_a_zip_with_a_collection(tmp_path):
    path = to_anki(collect_cards(two_notebooks(tmp_path)), tmp_path / "deck.apkg")
    assert path.is_file()
    assert zipfile.is_zipfile(path)
    with zipfile.ZipFile(path) as z:
        assert "collection.anki2" in z.namelist()


def test_anki_guids_are_deterministic(tmp_path):
    cards = collect_cards(two_notebooks(tmp_path))
    first = anki_guids(to_anki(cards, tmp_path / "a.apkg"), tmp_path / "a")
    second = anki_guids(to_anki(list(reversed(cards)), tmp_path / "b.apkg"), tmp_path / "b")
    assert first == second == sorted(genanki.guid_for(c.source, c.front) for c in cards)


def test_anki_fields_are_html(tmp_path):
    card = Card("Softmax", "**shift** invariant: $x - c$", "```\na < b\n```\n\n- one\n- two\n\n$$\\sum_i p_i = 1$$", "nb")
    to_anki([card], tmp_path / "deck.apkg")
    with zipfile.ZipFile(tmp_path / "deck.apkg") as z:
        z.extract("collection.anki2", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki2")
    (flds,) = db.execute("select flds from notes").fetchone()
    db.close()
    front, back, extra = flds.split("\x1f")
    assert front == "<p>Softmax</p>"
    assert back == r'<p><strong>shift</strong> invariant: <span class="math">\(x - c\)</span></p>'
    assert "<pre><code>a &lt; b\n</code></pre>" in extra and "<li>one</li>" in extra
    assert r"\[\sum_i p_i = 1\]" in extra and "$$" not in extra


def test_export_writes_three_files(tmp_path):
    paths = export(two_notebooks(tmp_path), tmp_path / "out" / "cards")
    assert set(paths) == {"markdown", "csv", "anki"}
    assert [p.name for p in paths.values()] == ["flashcards.md", "flashcards.csv", "flashcards.apkg"]
    assert all(p.is_file() and p.parent == tmp_path / "out" / "cards" for p in paths.values())
    assert "## 00_welcome" in paths["markdown"].read_text(encoding="utf-8")


def test_course_flashcards_parse():
    """The real course notebooks' flashcards cells parse (there may be none yet)."""
    try:
        root = course.notebooks_dir(Path(__file__).parent)
    except FileNotFoundError:
        pytest.skip("no course notebooks/ folder yet")
    cards = collect_cards(course.find_notebooks(root))
    assert all(card.front and card.back for card in cards)
