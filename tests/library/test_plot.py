"""keras_acts.plot: gallery / overlay render every catalogue name; f' is right; CLI; table."""

import sys

import keras
import numpy as np
import pytest

pytest.importorskip("matplotlib")

import keras_acts  # noqa: E402
from keras_acts import CATALOGUE, CLASSIC, autodiff, plot  # noqa: E402

ALL = sorted(CATALOGUE)


@pytest.fixture(scope="module")
def gallery_all(tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    curves = {}
    written = plot.gallery(ALL, out / "all.png", cols=8, curves=curves)
    return out, written, curves


def test_gallery_renders_every_catalogue_name(gallery_all):
    out, written, curves = gallery_all
    assert [p.name for p in written] == ["all.png", "all.svg"]
    png = (out / "all.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    svg = (out / "all.svg").read_text()
    assert "<svg" in svg
    for name in ALL:  # every panel title is in the picture (SVG keeps text as glyph ids, so
        assert name in curves  # check the data the panels were drawn from instead)
        c = curves[name]
        assert c.x.shape == c.f.shape == c.df.shape
        assert np.isfinite(c.f).all() and np.isfinite(c.df).all(), name


def _kink_free(x):
    """Grid points away from the catalogue's kinks (all at multiples of 0.25 on [-4, 4])."""
    return np.abs(x / 0.25 - np.round(x / 0.25)) > 1e-3


@pytest.mark.parametrize("name", [n for n in ALL if CATALOGUE[n].elementwise])
def test_gallery_derivative_equals_autodiff(gallery_all, name):
    c = gallery_all[2][name]
    assert c.derivative_source == "analytic"
    fn = keras_acts.get(name)
    # "+ 0 * t" keeps a gradient path for piecewise-constant functions (binary_step)
    auto = autodiff.grad_sum(lambda t: fn(t) + 0.0 * t, c.x.astype("float32"))
    ok = _kink_free(c.x)
    assert ok.sum() > 300
    np.testing.assert_allclose(c.df[ok], auto[ok], rtol=1e-4, atol=1e-4, err_msg=name)
    f = keras.ops.convert_to_numpy(fn(keras.ops.convert_to_tensor(c.x.astype("float32"))))
    np.testing.assert_allclose(c.f, f, rtol=1e-6, atol=1e-6, err_msg=name)


def test_non_elementwise_slices():
    x = np.linspace(-3, 3, 61).astype("float32")
    sig = 1 / (1 + np.exp(-x.astype(np.float64)))
    soft = plot.curve("softmax", x)  # softmax over [x, 0] is sigmoid(x)
    assert "[x, 0]" in soft.title and soft.derivative_source == "autodiff"
    np.testing.assert_allclose(soft.f, sig, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(soft.df, sig * (1 - sig), rtol=1e-4, atol=1e-6)
    glu = plot.curve("glu", x)  # a * sigmoid(b) with a = b = x
    assert "a = b = x" in glu.title
    np.testing.assert_allclose(glu.f, x * sig, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(glu.df, sig + x * sig * (1 - sig), rtol=1e-4, atol=1e-5)
    reglu = plot.curve("reglu", x)
    np.testing.assert_allclose(reglu.f, x * np.maximum(x, 0), atol=1e-6)


def test_classic_gallery_and_overlay_png_and_svg(tmp_path):
    written = plot.gallery(None, tmp_path / "g.png")
    written += plot.overlay(None, tmp_path / "o")
    assert sorted(p.name for p in written) == ["g.png", "g.svg", "o.png", "o.svg"]
    assert all(p.stat().st_size > 1000 for p in written)
    only_svg = plot.gallery(["relu"], tmp_path / "r.svg")
    assert [p.name for p in only_svg] == ["r.svg"]


def test_unknown_name_suggests():
    with pytest.raises(ValueError, match="swish_x"):
        plot.gallery(["swish_z"], "unused.png")


def test_properties_table():
    table = plot.properties_table(["relu", "tanh", "selu", "softmax"])
    lines = table.strip().splitlines()
    assert lines[0].startswith("| name |") and "recommended init" in lines[0]
    assert len(lines) == 2 + 4
    relu = next(line for line in lines if line.startswith("| `relu` |"))
    assert "[0, ∞]" in relu and "He" in relu
    tanh = next(line for line in lines if line.startswith("| `tanh` |"))
    assert "[-1, 1]" in tanh and tanh.count("✓") == 3  # monotonic, smooth, zero-centred
    selu = next(line for line in lines if line.startswith("| `selu` |"))
    assert "LeCun" in selu
    default = plot.properties_table()
    assert len(default.strip().splitlines()) == 2 + len(CLASSIC)


def test_missing_matplotlib_gives_clear_error(monkeypatch):
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    with pytest.raises(ImportError, match=r"pip install 'keras-acts\[plot\]'"):
        plot.gallery(["relu"], "unused.png")


def test_cli(tmp_path, capsys):
    assert plot.main(["relu", "gelu", "softmax", "--out", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"gallery.png", "gallery.svg", "overlay.png", "overlay.svg", "properties.md"}
    assert "`gelu`" in (tmp_path / "properties.md").read_text()
    assert str(tmp_path / "gallery.png") in capsys.readouterr().out
    # "keras-acts plot ..." may pass the sub-command through
    assert plot.main(["plot", "relu", "--out", str(tmp_path / "b"), "--no-overlay",
                      "--formats", "png"]) == 0
    assert {p.name for p in (tmp_path / "b").iterdir()} == {"gallery.png", "properties.md"}
    assert plot.main(["no_such_act", "--out", str(tmp_path / "c")]) == 2
    assert "Unknown activation" in capsys.readouterr().err
