"""Synthetic libraries for benchmarks: realistic sizes and word frequencies, invented content.

Words follow a Zipf distribution over a 30,000-word vocabulary (a few real
medical words at the top ranks, then made-up ones), as words in real titles
and abstracts do; a library where every record holds the same hundred words
would make every search look slow and every index look useless. DOIs use the
`10.5555/` test prefix.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

from tui.library import RecordStore
from tui.models import Author, Record, Source

_COMMON = [
    "the", "of", "and", "in", "with", "a", "to", "for", "patients", "study", "analysis",
    "cell", "cancer", "treatment", "risk", "clinical", "disease", "expression", "model",
    "acute", "leukemia", "relapse", "cohort", "trial", "sepsis", "microbiota", "immune",
    "genome", "protein", "kinase", "cardiac", "diabetes", "cortex", "imaging", "survival",
    "malaria", "tuberculosis", "influenza", "vaccine", "children", "mortality", "biomarkers",
]  # fmt: skip
_SYLLABLES = [a + b for a in "bcdfghklmnprstvz" for b in ("a", "e", "i", "o", "u", "ae", "io")]


def _vocabulary(size: int, rng: random.Random) -> list[str]:
    made_up = {"".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))) for _ in range(size * 2)}
    # Sorted first for a deterministic set, then shuffled so frequent words are not all "ba...".
    return _COMMON + rng.sample(sorted(made_up), size - len(_COMMON))


def make_records(count: int, seed: int = 1) -> list[Record]:
    """`count` invented records with titles, 1-8 authors, journals, abstracts and metrics."""
    rng = random.Random(seed)
    words = _vocabulary(30_000, rng)
    weights = list(itertools.accumulate(1 / (rank + 1) ** 1.07 for rank in range(len(words))))
    families = [w.capitalize() for w in rng.sample(words[200:], 5000)] + [
        "Smith",
        "Núñez",
        "Hämäläinen",
    ]
    given = ["Ann", "John", "Mei", "Hiroshi", "Lena", "Jonas", "Priya", "Kwame", "Amina", "Sofia"]
    journals = [f"Journal of {w.capitalize()} Research" for w in rng.sample(words[100:], 2000)]

    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(low, high)))

    records = []
    for n in range(count):
        records.append(
            Record(
                title=f"{text(6, 16).capitalize()} {n}",
                authors=tuple(
                    Author(family=rng.choice(families), given=rng.choice(given))
                    for _ in range(rng.randint(1, 8))
                ),
                year=rng.randint(1980, 2025),
                journal=rng.choice(journals),
                doi=f"10.5555/bench.{n}",
                abstract=text(150, 250),
                citation_count=int(rng.paretovariate(1.2)) - 1,
                impact_factor=round(rng.uniform(0.5, 40), 1) if rng.random() < 0.7 else None,
                jcr_quartile=rng.choice(("Q1", "Q2", "Q3", "Q4")) if rng.random() < 0.7 else None,
                open_access=rng.random() < 0.4,
                keywords=tuple(rng.choices(words[:3000], k=4)),
                source=(Source("bibtex", "bench.bib"),),
            )
        )
    return records


def build_library(path: Path, count: int) -> Path:
    """Write a library of `count` synthetic records at `path` (reused if it exists)."""
    if not path.exists():
        RecordStore.open(path).upsert(make_records(count))
    return path
