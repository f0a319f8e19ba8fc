"""Decoding per-character probabilities into plate text, with region patterns."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anpr import decode as D
from anpr.normalize import CLASSES


def probs_for(text: str, p: float = 0.9, confusions: dict[int, tuple[str, float]] | None = None) -> np.ndarray:
    """Rows peaked on ``text``; ``confusions`` {i: (char, prob)} adds a rival at position i."""
    m = np.full((len(text), len(CLASSES)), (1 - p) / (len(CLASSES) - 1))
    for i, c in enumerate(text):
        m[i, CLASSES.index(c)] = p
    for i, (c, q) in (confusions or {}).items():
        m[i] = 0.001
        m[i, CLASSES.index(text[i])] = 0.04  # the truth, now a distant second
        m[i, CLASSES.index(c)] = q
        m[i] /= m[i].sum()
    return m


def test_argmax_without_region():
    d = D.decode(probs_for("ABC1234", confusions={1: ("8", 0.95)}))
    assert d.text == "A8C1234"
    assert d.pattern is None and d.keep == tuple(range(7))
    assert d.probs.shape == (7,) and np.all((d.probs > 0) & (d.probs <= 1))


@pytest.mark.parametrize(
    "truth, pos, rival",
    [("ABC1234", 1, "8"), ("OQS5067", 0, "0"), ("BIS1Z34", 3, "I"), ("GGG0000", 3, "O"), ("ABC1D23", 6, "Z"),
     ("SZB6565", 0, "5"), ("JIT7463", 1, "1"), ("AAA6612", 3, "G")],
)
def test_brazil_patterns_settle_lookalikes(truth, pos, rival):
    m = probs_for(truth, confusions={pos: (rival, 0.95)})
    assert D.decode(m).text != truth  # the argmax is wrong...
    d = D.decode(m, "br")  # ...the Brazilian formats fix it
    assert d.text == truth
    assert d.pattern in ("LLLNNNN", "LLLNLNN")
    assert d.probs[pos] < 0.1  # the probability of the character actually chosen


def test_strict_region_drops_a_spurious_character():
    # a bolt read as "I" with low confidence between two real characters
    m = probs_for("ABCI1234")
    m[3] = 1.0 / len(CLASSES)
    m[3, CLASSES.index("I")] = 0.3
    m[3] /= m[3].sum()
    d = D.decode(m, "br")
    assert d.text == "ABC1234"
    assert d.keep == (0, 1, 2, 4, 5, 6, 7)


def test_strict_region_keeps_argmax_when_nothing_fits():
    d = D.decode(probs_for("AB12"), "br")  # too short for any Brazilian format
    assert d.text == "AB12" and d.pattern is None


def test_loose_region_only_nudges_close_calls():
    # a clear "8" in a US plate stays an "8" even where a letter fits a format better...
    clear = probs_for("ABC8234", confusions={3: ("8", 0.97)})
    assert D.decode(clear, "us").text == "ABC8234"
    # ...but a near tie is settled by the formats (LLLNNNN)
    tie = probs_for("ABC1234", confusions={3: ("I", 0.5)})
    tie[3, CLASSES.index("1")] = 0.45
    tie[3] /= tie[3].sum()
    assert D.decode(tie).text == "ABCI234"
    assert D.decode(tie, "us").text == "ABC1234"


def test_regions_are_data_files():
    assert {"br", "eu", "us"} <= set(D.available_regions())
    for key in D.available_regions():
        r = D.load_region(key)
        assert r.patterns and all(m.shape == (len(p), 36) for p, m in zip(r.patterns, r.masks))
        data = json.loads((D.REGIONS_DIR / f"{key}.json").read_text())
        assert isinstance(data["strict"], bool)


def test_bad_region_and_bad_probs():
    with pytest.raises(ValueError, match="unknown region"):
        D.decode(probs_for("ABC1234"), "xx")
    with pytest.raises(ValueError, match="region"):
        D.load_region("../br")
    with pytest.raises(ValueError, match="shape"):
        D.decode(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="NaN"):
        D.decode(np.full((3, 36), np.nan))


def test_region_file_validation(tmp_path, monkeypatch):
    (tmp_path / "zz.json").write_text(json.dumps({"patterns": ["LLx"], "classes": {"L": "AB"}}))
    (tmp_path / "yy.json").write_text(json.dumps({"patterns": []}))
    monkeypatch.setattr(D, "REGIONS_DIR", tmp_path)
    D.load_region.cache_clear()
    try:
        with pytest.raises(ValueError, match="unknown characters"):
            D.load_region("zz")
        with pytest.raises(ValueError, match="non-empty"):
            D.load_region("yy")
    finally:
        D.load_region.cache_clear()


def bar(text: str, pos: int, p_one: float = 0.72, p_i: float = 0.22) -> np.ndarray:
    """``text`` with a bar at ``pos`` that the classifier reads as 1, I a close second."""
    m = probs_for(text)
    m[pos] = 0.06 / 34
    m[pos, CLASSES.index("1")], m[pos, CLASSES.index("I")] = p_one, p_i
    return m


@pytest.mark.parametrize("truth, pos", [("RK776AI", 6), ("SI819AK", 1), ("JIT7463", 1), ("AIB1234", 1)])
def test_formats_settle_a_bar_without_region(truth, pos):
    m = bar(truth, pos)
    assert D.decode(m).text == truth.replace("I", "1")  # the argmax misses the letter
    d = D.decode_formats(m)
    assert d.text == truth and d.pattern is not None
    assert d.keep == tuple(range(len(truth)))


def test_formats_need_a_close_letter():
    # a 1 with a flag (I far behind) stays a digit, whatever the formats say
    assert D.decode_formats(bar("RK776AI", 6, 0.95, 0.03)).text == "RK776A1"
    # B/8 is looser than I/1: a letter B a tenth as likely as 8 still counts
    m = probs_for("RK605AB", confusions={6: ("8", 0.9)})
    m[6, CLASSES.index("B")] = 0.09
    assert D.decode(m).text == "RK605A8"
    assert D.decode_formats(m).text == "RK605AB"


def test_formats_leave_fitting_and_unknown_readings_alone():
    # fits a format (NLLLNNN) as read: the leading 1 stays, close as I is
    assert D.decode_formats(bar("1ADL132", 0, 0.6, 0.35)).text == "1ADL132"
    # no format fits even with the letter: read as is
    assert D.decode_formats(bar("UH1F0F", 2, 0.6, 0.35)).text == "UH1F0F"
    # letters are never turned into digits: QUILLS stays
    m = probs_for("QUILLS", confusions={2: ("I", 0.7)})
    m[2, CLASSES.index("1")] = 0.25
    assert D.decode_formats(m).text == "QUILLS"
    # O and 0 count as one: a reading with O in a digit position fits as read
    assert D.decode_formats(probs_for("RK0O9AN")).text == "RK0O9AN"
    assert D.decode_formats(np.zeros((0, 36))).text == ""


def test_spacing_groups_settle_a_bar_that_fits_either_way():
    # NY1-3834 fits LLNNNNN as read; the dash puts the bar among letters: LLL-NNNN
    m = bar("NYI3834", 2)
    assert D.decode_formats(m).text == "NY13834"
    assert D.decode_formats(m, [0, 0, 0, 1, 1, 1, 1]).text == "NYI3834"
    # ...but not when the bar's group holds a digit too
    assert D.decode_formats(m, [0, 0, 1, 1, 1, 1, 1]).text == "NY13834"
    # an end glyph is left alone (bolts and frame edges read as 1 there)
    assert D.decode_formats(bar("1FNY881", 0), [0, 0, 0, 0, 1, 1, 1]).text == "1FNY881"
    with pytest.raises(ValueError, match="one id per character"):
        D.decode_formats(m, [0, 1])


def test_formats_of_one_region():
    m = bar("RK776AI", 6)  # LLNNNLL: a European format, no Brazilian one
    assert D.decode_formats(m, region="eu").text == "RK776AI"
    assert D.decode_formats(m, region="br").text == "RK776A1"
    assert D.decode_formats(m).text == "RK776AI"


def peaked(text, **alts):
    """Probabilities that read ``text`` (0.9 each), with ``alts`` as {class: (position, p)}."""
    p = np.full((len(text), 36), 0.001)
    for i, c in enumerate(text):
        p[i, CLASSES.index(c)] = 0.9
    for c, (i, v) in alts.items():
        p[i, CLASSES.index(c)] = v
    return p


def test_settle_layout_writes_o0_as_real_plates_have_them():
    from anpr.decode import layout_frequency, settle_layout

    for read, want in [("0KM0944", "OKM0944"),      # LLLNNNN, not NLLNNNN
                       ("OKM0944", "OKM0944"),
                       ("ABCO123", "ABC0123"),      # a digit among the digits
                       ("ABC1234", "ABC1234")]:     # nothing to settle
        assert settle_layout(read, peaked(read)) == want
    # a layout seen once is no reason to rewrite a plate (vanity plates are free text)
    assert settle_layout("JX1000", peaked("JX1000"), "us") == "JX1000"
    assert layout_frequency("LLLNNNN", "br") > layout_frequency("LLLNNNN", "eu")


def test_settle_layout_weighs_the_classifier_against_the_layout():
    from anpr.decode import settle_layout

    # D read where the classifier also sees a 0: NNNLLL is a common US layout, NNLLLL is not
    assert settle_layout("65DVYM", peaked("65DVYM", **{"0": (2, 0.4)}), "us") == "650VYM"
    # ... but not when the classifier is sure of the D
    assert settle_layout("65DVYM", peaked("65DVYM", **{"0": (2, 0.01)}), "us") == "65DVYM"
    # a rare layout the classifier is sure of stays
    assert settle_layout("65DVYM", peaked("65DVYM"), "us") == "65DVYM"
    with pytest.raises(ValueError, match="7 characters"):
        settle_layout("ABC123", peaked("ABC1234"))
    with pytest.raises(ValueError, match="characters of 0-9A-Z"):
        settle_layout("AB-1234", peaked("ABC1234"))


def test_count_formats_counts_only_the_fit_part(tmp_path):
    import json

    from click.testing import CliRunner

    from anpr.cli import main
    from anpr.split import part_of

    plates = [f"ABC{k:04d}" for k in range(60)] + [f"{k:03d}XYZ" for k in range(20)]
    folder = tmp_path / "us"
    folder.mkdir()
    (folder / "labels.csv").write_text(
        "image,plate,region\n" + "".join(f"{p}.png,{p},us\n{p}b.png,{p},us\n" for p in plates))
    out = tmp_path / "layouts.json"
    r = CliRunner().invoke(main, ["count-formats", str(folder), "--out", str(out)])
    assert r.exit_code == 0, r.output
    counts = json.loads(out.read_text())["counts"]["us"]
    assert counts == {
        "LLLNNNN": sum(part_of(p) == "fit" for p in plates[:60]),
        "NNNLLL": sum(part_of(p) == "fit" for p in plates[60:]),
    }


def test_format_of_names_the_region_whose_format_fits():
    assert D.format_of("PJU2853") == ("br", "LLLNNNN")        # nearly every Brazilian plate
    assert D.format_of("PJU2853", "us") == ("us", "LLLNNNN")  # the given region's
    assert D.format_of("RK855AP") == ("eu", "LLNNNLL")
    assert D.format_of("AB12CD3", "br") is None                # fits none of br's
    assert D.format_of("Q") is None
    assert D.format_of("") is None
    # every region named is one whose file has that pattern
    for text in ("5VDA555", "AB123CD", "ABC1D23", "520MRK", "ABC123"):
        key, pattern = D.format_of(text)
        assert pattern in D.load_region(key).patterns and D.layout_of(text) == pattern


def _probs_for(text: str, doubts: dict[int, tuple[str, float, str, float]]) -> np.ndarray:
    p = np.full((len(text), 36), 0.001)
    for i, c in enumerate(text):
        p[i, CLASSES.index(c)] = 0.9
    for i, (a, pa, b, pb) in doubts.items():
        p[i] = 0.001
        p[i, CLASSES.index(a)], p[i, CLASSES.index(b)] = pa, pb
    return p / p.sum(axis=1, keepdims=True)


def test_settle_layout_keeps_words_letters():
    from anpr.decode import settle_layout

    # O and 0 read alike: inside a word the letter wins (it lost to the digit before
    # the layout prior knew runs of letters).
    assert settle_layout("KMB0RAK", _probs_for("KMBORAK", {3: ("0", 0.5, "O", 0.45)})) == "KMBORAK"
    assert settle_layout("W0BVWMK4", _probs_for("WOBVWMK4", {1: ("0", 0.5, "O", 0.45)})) == "WOBVWMK4"
    # A serial keeps its digits.
    assert settle_layout("ABC1234", _probs_for("ABC1234", {3: ("1", 0.6, "I", 0.35)})) == "ABC1234"
    assert settle_layout("7ABC123", _probs_for("7ABC123", {})) == "7ABC123"


def test_settle_layout_trusts_sure_letters():
    from anpr.decode import settle_layout

    # A letter the classifier is sure of stays a letter, whatever the layout counts say.
    assert settle_layout("SHEILL", _probs_for("SHEILL", {3: ("I", 0.8, "1", 0.15)})) == "SHEILL"
    assert settle_layout("EMOTION", _probs_for("EMOTION", {4: ("I", 0.8, "1", 0.15)})) == "EMOTION"


def test_layout_prior_knows_formats_no_photo_shows():
    from anpr.decode import layout_frequency, layout_prior

    # The UK's LLNNLLL is among the eu formats but no labelled plate: the prior has it.
    assert layout_frequency("LLNNLLL", "eu") == layout_frequency("LLNNLLN", "eu")
    assert layout_prior("LLNNLLL", "eu") > 5 * layout_prior("LLNNLLN", "eu")
    assert layout_prior("LLLNNNN", "br") > 0.9
