"""natural_qa: the five gzipped dev files (full format) read from the cache, the three modes, the simplified
format, the parsed copy kept beside each file, and the offline message."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench import ScenarioDataError
from bench.scenarios import _natural_qa
from bench.scenarios._natural_qa import FILES, NaturalQAScenario, raw_example

FIXTURE = Path(__file__).parents[2] / "fixtures" / "natural_qa"

RHINE_P1 = "The Rhine is a river that flows from the Swiss Alps to the North Sea ."
RHINE_P2 = "It is about 1,230 km long and passes through Basel , Cologne and Rotterdam ."
EIFFEL = "The Eiffel Tower was built by Gustave Eiffel & partners and opened in 1889 ."


def _cache(tmp_path: Path) -> Path:
    """<cache>/data/nq-dev-0k.jsonl.gz: the fixture's JSON lines gzipped, as the files are published."""
    (tmp_path / "data").mkdir()
    for name in FILES:
        source = FIXTURE / name.removesuffix(".gz")
        (tmp_path / "data" / name).write_bytes(gzip.compress(source.read_bytes()))
    return tmp_path


def _references(instance: object) -> list[str]:
    return [r.output for r in instance.references if r.is_correct]  # type: ignore[attr-defined]


def test_closedbook_keeps_examples_with_short_answers_alternating_splits(tmp_path: Path) -> None:
    instances = NaturalQAScenario("closedbook").get_instances(str(_cache(tmp_path)))
    # File 00: the Rhine (train), tea has no short answer (left out), the Eiffel Tower (valid); file 01: Everest.
    assert [(i.split, i.input) for i in instances] == [
        ("train", "Where does the rhine river end?"),
        ("valid", "Who built the eiffel tower?"),
        ("train", "How tall is mount everest?"),
    ]
    rhine, eiffel, everest = instances
    # Train: one short answer drawn from the annotations; valid: every distinct one (entities unescaped).
    assert len(_references(rhine)) == 1 and _references(rhine)[0] in ("the North Sea", "North Sea", "Basel")
    assert _references(eiffel) == ["Gustave Eiffel & partners", "Gustave Eiffel"]
    assert _references(everest) == ["8,849 m"]


def test_openbook_longans_gives_the_paragraph_of_the_drawn_answer(tmp_path: Path) -> None:
    instances = NaturalQAScenario("openbook_longans").get_instances(str(_cache(tmp_path)))
    rhine, eiffel, _ = instances
    paragraph = RHINE_P2 if _references(rhine) == ["Basel"] else RHINE_P1
    assert rhine.input == f"Passage: {paragraph}\n\nQuestion: Where does the rhine river end?"
    assert eiffel.input == f"Passage: {EIFFEL}\n\nQuestion: Who built the eiffel tower?"
    # The draw is the same in every mode, so the modes differ only in their context.
    closed = NaturalQAScenario("closedbook").get_instances(str(tmp_path))
    assert [i.references for i in closed] == [i.references for i in instances]


def test_openbook_wiki_gives_title_and_page_text_without_html(tmp_path: Path) -> None:
    rhine = NaturalQAScenario("openbook_wiki").get_instances(str(_cache(tmp_path)))[0]
    assert rhine.input == (
        f"Title: Rhine\n\nPassage: Rhine {RHINE_P1} {RHINE_P2}\n\nQuestion: Where does the rhine river end?"
    )


def test_parsed_examples_are_kept_beside_the_file_and_reused(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    first = NaturalQAScenario().get_instances(str(cache))
    parsed = cache / "data" / "nq-dev-00.jsonl.gz.instances.jsonl"
    lines = [json.loads(line) for line in parsed.read_text().splitlines()]
    assert [line["question"] for line in lines] == ["where does the rhine river end", "who built the eiffel tower"]
    # A second run reads the parsed copy, not the (here emptied) gzip file.
    (cache / "data" / "nq-dev-00.jsonl.gz").write_bytes(gzip.compress(b""))
    assert NaturalQAScenario().get_instances(str(cache)) == first
    parsed.write_text('{"title": "x"}\n')
    with pytest.raises(ScenarioDataError, match=r"nq-dev-00\.jsonl\.gz\.instances\.jsonl: unreadable .*delete it"):
        NaturalQAScenario().get_instances(str(cache))


def test_simplified_format_gives_the_same_example() -> None:
    simplified = json.loads((FIXTURE / "simplified-nq-train.jsonl").read_text())
    full = json.loads((FIXTURE / "nq-dev-01.jsonl").read_text())
    assert "document_html" not in simplified and "document_text" in simplified
    example = raw_example(simplified)
    assert example == raw_example(full)
    assert example is not None and example.title == "Mount Everest"  # from the URL's title parameter
    assert example.long_answers == ["Mount Everest is Earth 's highest mountain above sea level , at 8,849 m ."]


def test_a_corrupt_file_is_named(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    (cache / "data" / "nq-dev-02.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(ScenarioDataError, match=r"nq-dev-02\.jsonl\.gz: not a readable gzip file"):
        NaturalQAScenario().get_instances(str(cache))
    (cache / "data" / "nq-dev-02.jsonl.gz").write_bytes(gzip.compress(b'{"annotations": 3}\n'))
    with pytest.raises(ScenarioDataError, match=r"nq-dev-02\.jsonl\.gz:1: not a Natural Questions example"):
        NaturalQAScenario().get_instances(str(cache))


def test_bad_mode_and_default() -> None:
    with pytest.raises(ValueError, match="mode 'openbook' is not valid; choose one of: closedbook, openbook_longans"):
        NaturalQAScenario("openbook")  # type: ignore[arg-type]
    assert NaturalQAScenario().mode == "closedbook"


def test_offline_without_cache_names_url_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_natural_qa, "BASE_URL", "http://127.0.0.1:9/natural_questions/v1.0/dev")
    with pytest.raises(ScenarioDataError) as error:
        NaturalQAScenario().get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/natural_questions/v1.0/dev/nq-dev-00.jsonl.gz" in str(error.value)
    assert str(tmp_path / "data" / "nq-dev-00.jsonl.gz") in str(error.value)
