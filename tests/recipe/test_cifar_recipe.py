"""The airbench-style CIFAR-10 recipe's parts on tiny data: whitening stem, Dirac init, batch
augmentation, TTA views, the optimizer levers, every classic activation, and the cifar-quick
preset end to end."""
import io
import math

import keras
import numpy as np
import pytest

from keras_acts import optim
from recipes import airbench, augment, compare, models
from recipes.data import make_synthetic
from recipes.train import make_optimizer
from test_compare import restored_global_state


@pytest.fixture(autouse=True)
def _restore_global_state():
    with restored_global_state():
        yield


def correlated_images(n=200, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 16, 16, 1))
    x = np.concatenate([base, 0.5 * base + 0.3 * rng.standard_normal((n, 16, 16, 1)),
                        rng.standard_normal((n, 16, 16, 1))], axis=-1)
    # neighbouring pixels correlated, as in photos
    return (x + np.roll(x, 1, axis=1) + np.roll(x, 1, axis=2)).astype("float32")


def test_whitening_stem_whitens_the_patches():
    x = correlated_images()
    model = models.build_model("cnn", x.shape[1:], 10, "linear", stem="whiten",
                               filters=(4,), convs_per_stage=1, dense=0, global_pool="max")
    assert airbench.init_whitening(model, x, eps=1e-8)
    layer = model.get_layer(airbench.WHITEN_LAYER)
    assert not layer.kernel.trainable and layer.bias.trainable and layer.kernel.shape == (2, 2, 3, 24)
    out = keras.ops.convert_to_numpy(layer(x)).reshape(-1, 24).astype(np.float64)
    half = out[:, :12]
    cov = half.T @ half / len(half)  # second moment, as the conv sees the patches
    np.testing.assert_allclose(cov, np.eye(12), atol=1e-3)
    np.testing.assert_allclose(out[:, 12:], -half, atol=1e-5)
    # a model without the stem has nothing to set
    plain = models.build_model("cnn", x.shape[1:], 10, "relu", filters=(4,), dense=0)
    assert not airbench.init_whitening(plain, x)


def test_dirac_init_passes_channels_through():
    x = np.random.default_rng(1).standard_normal((2, 8, 8, 3)).astype("float32")
    inp = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(5, 3, padding="same", use_bias=False)
    keras.Model(inp, conv(inp))
    airbench.dirac_init(conv)
    y = keras.ops.convert_to_numpy(conv(x))
    np.testing.assert_allclose(y[..., :3], x, atol=1e-6)
    # the recipe's convs: the first stage conv's first 24 filters pass the stem through
    m = models.build_model("cnn", (8, 8, 3), 10, "relu", **dict(
        compare.AIRBENCH["model_options"], filters=(32, 8)))
    convs = [layer for layer in m.layers if isinstance(layer, keras.layers.Conv2D)
             and layer.name != airbench.WHITEN_LAYER]
    k = keras.ops.convert_to_numpy(convs[0].kernel)
    assert k.shape == (3, 3, 24, 32)
    np.testing.assert_array_equal(k[1, 1, :, :24], np.eye(24))
    assert np.count_nonzero(k[:, :, :, :24]) == 24 and np.count_nonzero(k[..., 24:]) > 0


def test_airbench_layout_and_bn():
    m = models.build_model("cnn", (32, 32, 3), 10, "gelu", **compare.AIRBENCH["model_options"])
    kinds = [type(layer).__name__ for layer in m.layers]
    i = kinds.index("Conv2D", kinds.index("Conv2D") + 1)  # first stage conv (after the stem)
    assert kinds[i:i + 4] == ["Conv2D", "MaxPooling2D", "BatchNormalization", "Activation"]
    bns = [layer for layer in m.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 6 and all(not b.scale and b.momentum == 0.6 and b.epsilon == 1e-12
                                 for b in bns)
    head = m.get_layer("predictions")
    assert not head.use_bias and head.kernel.shape == (128, 10)
    assert m.get_layer("head_scale").scale == pytest.approx(1 / 9)
    assert m.count_params() == 2 * 2 * 3 * 24 + 24 + sum(
        9 * a * b for a, b in ((24, 64), (64, 64), (64, 128), (128, 128), (128, 128),
                               (128, 128))) + 3 * (2 * 64 + 4 * 128) + 128 * 10
    # (stem: kernel + bias; BN: beta + moving mean + moving variance per channel, no gamma)



@pytest.mark.parametrize("act", ["gelu", "prelu"])
def test_elementwise_dtype_puts_bn_and_activations_in_float32(act, tmp_path):
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    opts = dict(compare.AIRBENCH["model_options"], filters=(8, 8, 8))
    m = models.build_model("cnn", (16, 16, 3), 10, act, elementwise_dtype="float32", **opts)
    policy = {type(layer).__name__: set() for layer in m.layers}
    for layer in m.layers:
        policy[type(layer).__name__].add(layer.dtype_policy.name)
    act_kind = "PReLU" if act == "prelu" else "Activation"
    assert policy["BatchNormalization"] == {"float32"} and policy[act_kind] == {"float32"}
    assert policy["Conv2D"] == {"mixed_bfloat16"} and policy["MaxPooling2D"] == {"mixed_bfloat16"}
    x = np.random.default_rng(0).standard_normal((4, 16, 16, 3)).astype("float32")
    feats = keras.Model(m.inputs, m.get_layer(index=3).output)   # stem -> act -> conv
    assert keras.backend.standardize_dtype(feats(x).dtype) == "bfloat16"
    # the default keeps the global policy everywhere
    plain = models.build_model("cnn", (16, 16, 3), 10, act, **opts)
    assert {layer.dtype_policy.name for layer in plain.layers
            if isinstance(layer, keras.layers.BatchNormalization)} == {"mixed_bfloat16"}
    with pytest.raises(ValueError):
        models.build_model("cnn", (16, 16, 3), 10, act, elementwise_dtype="float33", **opts)
    # what the run plan picks: float32 only under mixed bfloat16 on a CPU
    from recipes.plan import elementwise_dtype

    cfg = compare.resolve_config(compare.build_parser().parse_args(
        ["--dataset", "cifar10", "--model", "cnn", "--device", "cpu", "--out", str(tmp_path)]))
    assert elementwise_dtype(cfg, "mixed_bfloat16") == "float32"
    assert elementwise_dtype(cfg, "float32") is None
    assert elementwise_dtype(cfg, "mixed_float16") is None

def test_translate_reflects_and_shifts():
    x = np.arange(2 * 5 * 5, dtype=np.float32).reshape(2, 5, 5, 1)
    out = augment.translate(x, np.array([1, 0]), np.array([0, -2]), 2)
    # image 0 moved down one row; its new first row is the reflection of row 1
    np.testing.assert_array_equal(out[0, 1:], x[0, :-1])
    np.testing.assert_array_equal(out[0, 0], x[0, 1])
    # image 1 moved left two columns; the last two columns reflect columns 3 and 2
    np.testing.assert_array_equal(out[1, :, :3], x[1, :, 2:])
    np.testing.assert_array_equal(out[1, :, 3:], x[1, :, [3, 2]].transpose(1, 0, 2))


def test_batch_augment_keeps_labels_and_is_deterministic():
    n = 50
    # image i: a left-right gradient plus 1000 * i, so label i can be read off any view
    ramp = np.linspace(0, 1, 8, dtype=np.float32)[None, None, :, None]
    x = np.broadcast_to(ramp, (n, 8, 8, 3)) + 1000.0 * np.arange(n, dtype=np.float32)[:, None, None, None]
    y = np.arange(n)
    a = augment.BatchAugment(x, y, 16, seed=3)
    assert len(a) == 3  # ragged last batch dropped
    seen_mirror = {}
    for epoch in range(3):
        ids = []
        for i in range(len(a)):
            xb, yb = a[i]
            np.testing.assert_array_equal(np.floor(xb.mean(axis=(1, 2, 3)) / 1000.0), yb)
            ids += list(yb)
            # mirrored images have a decreasing ramp (translation moves it by <= 2 px)
            mirrored = xb[:, 4, 2, 0] > xb[:, 4, 5, 0]
            for label, m in zip(yb, mirrored):
                seen_mirror.setdefault(int(label), {})[epoch] = bool(m)
        assert len(set(ids)) == 48  # a permutation, no repeats
        a.on_epoch_end()
    # alternating flips: every image seen in consecutive epochs is mirrored one way, then the other
    pairs = [(ms[e], ms[e + 1]) for ms in seen_mirror.values() for e in range(2)
             if e in ms and e + 1 in ms]
    assert len(pairs) > 80 and all(a != b for a, b in pairs)
    assert 0.2 < np.mean([ms[0] for ms in seen_mirror.values() if 0 in ms]) < 0.8
    b = augment.BatchAugment(x, y, 16, seed=3)
    c = augment.BatchAugment(x, y, 16, seed=4)
    np.testing.assert_array_equal(b[1][0], augment.BatchAugment(x, y, 16, seed=3)[1][0])
    assert not np.array_equal(b[1][1], c[1][1])
    with pytest.raises(ValueError, match="translate"):
        augment.BatchAugment(x, y, 16, translate=8)


def test_tta_views_and_predict_proba_average_exactly_them():
    x = np.random.default_rng(0).standard_normal((6, 8, 8, 3)).astype("float32")
    views = augment.tta_views(x, "flip_translate")
    assert len(views) == 6 and sum(w for w, _ in views) == pytest.approx(1.0)
    np.testing.assert_array_equal(views[1][1], x[:, :, ::-1])
    np.testing.assert_array_equal(views[2][1][:, 1:, 1:], x[:, :-1, :-1])   # down-right
    np.testing.assert_array_equal(views[4][1][:, :-1, :-1], x[:, 1:, 1:])   # up-left
    np.testing.assert_array_equal(views[3][1], views[2][1][:, :, ::-1])
    assert [w for w, _ in views] == [0.25, 0.25, 0.125, 0.125, 0.125, 0.125]
    model = models.build_model("cnn", (8, 8, 3), 4, "relu", filters=(4,), dense=0,
                               global_pool="avg")
    f = lambda v: keras.ops.convert_to_numpy(model(v)).astype(np.float64)  # noqa: E731
    want = sum(w * f(v) for w, v in views)
    np.testing.assert_allclose(compare.predict_proba(model, x, "flip_translate"), want, atol=1e-6)
    np.testing.assert_allclose(compare.predict_proba(model, x, "flip"),
                               0.5 * (f(x) + f(x[:, :, ::-1])), atol=1e-6)
    # logits: averaged first, then one softmax (airbench), not an average of softmaxes
    z = sum(w * f(v) for w, v in views)
    soft = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(compare.predict_proba(model, x, "flip_translate", logits=True),
                               soft / soft.sum(-1, keepdims=True), atol=1e-6)
    with pytest.raises(ValueError, match="tta"):
        augment.tta_views(x, "rotate")


def test_per_1024_units_and_triangle():
    lr, wd = optim.per_1024(11.5, 0.0153, 0.85)
    assert lr == pytest.approx(11.5 / (1 + 1 / 0.15))      # 1.5: SGD rate on a mean loss
    assert wd == pytest.approx(0.0153 / (11.5 * 0.15))     # steady-state coupled decay
    with pytest.raises(ValueError):
        optim.per_1024(1.0, 0.0, 1.0)
    t = optim.Triangle(2.0, 100)
    got = [float(keras.ops.convert_to_numpy(t(s))) for s in (0, 23, 50, 100, 200)]
    want = [0.4, 2.0, 2.0 * (1 + (0.07 - 1) * 27 / 77), 0.14, 0.14]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert optim.Triangle.from_config(t.get_config()).get_config() == t.get_config()


def _one_step(opt, grad=1.0):
    beta = keras.Variable(np.zeros(3, "float32"), name="beta")
    kernel = keras.Variable(np.zeros(3, "float32"), name="kernel")
    g = keras.ops.full((3,), grad)
    opt.apply([g, g], [beta, kernel])
    return keras.ops.convert_to_numpy(beta)[0], keras.ops.convert_to_numpy(kernel)[0]


def test_fast_sgd_scales_only_bn_shifts():
    b1, k1 = _one_step(keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True))
    b2, k2 = _one_step(optim.FastSGD(0.1, momentum=0.9, nesterov=True))
    b3, k3 = _one_step(optim.FastSGD(0.1, momentum=0.9, nesterov=True, bias_lr_scale=8.0))
    assert (b2, k2) == (b1, k1) and b1 == pytest.approx(-0.1 * 1.9)
    assert b3 == pytest.approx(8 * b1) and k3 == k1
    with pytest.raises(ValueError):
        optim.FastSGD(0.1, lookahead_steps=10)  # needs use_ema + ema_overwrite_frequency


def test_fast_sgd_lookahead_averages_every_k_steps():
    w = keras.Variable(np.zeros(1, "float32"), name="kernel")
    opt = optim.FastSGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2,
                        lookahead_steps=4)
    values = []
    for _ in range(4):
        opt.apply([keras.ops.ones((1,))], [w])
        values.append(float(keras.ops.convert_to_numpy(w)[0]))
    # step 1: w = -1 (no average yet). step 2: w = -2, average with rho = 0.5 * (2/4)^3
    # = 1/16 of the old average (-1 after step 1's init? no: the average starts at w0 = 0)
    rho2 = 0.5 * (2 / 4) ** 3
    a2 = rho2 * 0.0 + (1 - rho2) * -2.0
    assert values[:2] == pytest.approx([-1.0, a2])
    rho4 = 0.5
    a4 = rho4 * a2 + (1 - rho4) * (a2 - 2.0)
    assert values[3] == pytest.approx(a4)


def test_fast_sgd_train_steps_freezes_after_n_steps():
    bias = keras.Variable(np.zeros(2, "float32"), name="bias")
    other = keras.Variable(np.zeros(2, "float32"), name="kernel")
    opt = optim.FastSGD(0.1, momentum=0.5, weight_decay=0.1, train_steps={"bias": 2})
    trace = []
    for _ in range(4):
        opt.apply([keras.ops.ones((2,)), keras.ops.ones((2,))], [bias, other])
        trace.append((float(keras.ops.convert_to_numpy(bias)[0]),
                      float(keras.ops.convert_to_numpy(other)[0])))
    # plain SGD with momentum 0.5 and decay: the same two steps, then the bias stays put
    ref = keras.Variable(np.zeros(2, "float32"), name="ref")
    sgd = keras.optimizers.SGD(0.1, momentum=0.5, weight_decay=0.1)
    want = []
    for _ in range(4):
        sgd.apply([keras.ops.ones((2,))], [ref])
        want.append(float(keras.ops.convert_to_numpy(ref)[0]))
    assert [b for b, _ in trace] == pytest.approx(want[:2] + [want[1]] * 2)
    assert [o for _, o in trace] == pytest.approx(want)
    assert optim.FastSGD.from_config(opt.get_config()).train_steps == {"bias": 2}
    with pytest.raises(ValueError, match="no variable"):
        optim.FastSGD(0.1, train_steps={"whiten/bias": 3}).apply(
            [keras.ops.ones((2,))], [keras.Variable(np.zeros(2, "float32"), name="kernel")])
    with pytest.raises(ValueError, match=">= 0"):
        optim.FastSGD(0.1, train_steps={"bias": -1})


@pytest.mark.one_backend  # the recipe's wiring (spec -> CNN -> whitening -> optimizer -> a
# step); how each activation computes, differentiates and trains in a network on every backend
# is test_catalogue's, test_gradients' and test_registry's, and the compiled recipe runs end to
# end on every backend below (tests/run.sh: under its first backend only)
@pytest.mark.parametrize("act", compare.CLASSIC12)
def test_recipe_trains_a_step_with_every_classic_activation(act, tmp_path):
    args = compare.build_parser().parse_args([
        "--preset", "cifar-quick", "--activations", act, "--model-option", "filters=(8,8,8)",
        "--batch-size", "16", "--epochs", "1", "--out", str(tmp_path / "o")])
    cfg = compare.resolve_config(args)
    x = np.random.default_rng(0).standard_normal((32, 32, 32, 3)).astype("float32")
    y = keras.utils.to_categorical(np.arange(32) % 10, 10)
    model = models.build_model("cnn", (32, 32, 3), 10, models.parse_activation(act).make()
                               if act != "prelu" else models.parse_activation(act),
                               **cfg.model_options)
    airbench.init_whitening(model, x)
    model.compile(optimizer=make_optimizer(cfg, 2, model),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.2),
                  # one step runs op by op in a fraction of the time it takes to trace and
                  # compile one (TF 1 s vs 7, JAX 5 vs 8); the compiled train step of the same
                  # recipe runs end to end below, on every backend
                  run_eagerly=True)
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.trainable_variables]
    # one step: the loss it reports is computed before the update. (Whether an activation
    # then trains stably is a measurement -- diverged runs are reported by the grid -- not a
    # property of one tiny step: binary_step_ste's constant channels meet BatchNorm's eps
    # of 1e-12 and can blow up on the second step.)
    hist = model.fit(augment.BatchAugment(x, y, 16, seed=0), epochs=1, steps_per_epoch=1,
                     verbose=0)
    assert math.isfinite(hist.history["loss"][0])
    after = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_whitening_bias_trains_for_its_epochs_then_freezes():
    args = compare.build_parser().parse_args([
        "--dataset", "cifar10", "--model", "cnn", "--model-option", "filters=(8,8,8)",
        "--batch-size", "16", "--whiten-bias-epochs", "1", "--ema", "0"])
    cfg = compare.resolve_config(args)
    x = correlated_images(32).repeat(2, axis=1).repeat(2, axis=2)
    y = keras.utils.to_categorical(np.arange(32) % 10, 10)
    model = models.build_model("cnn", (32, 32, 3), 10, "relu", **cfg.model_options)
    airbench.init_whitening(model, x)
    whiten = model.get_layer(airbench.WHITEN_LAYER)
    kernel = keras.ops.convert_to_numpy(whiten.kernel).copy()
    model.compile(optimizer=make_optimizer(cfg, 2, model),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    assert model.optimizer.train_steps == {"whiten/bias": 2}
    seen = []
    for _ in range(2):   # epoch 1: the bias moves; epoch 2: it stays; the kernel never moves
        model.fit(augment.BatchAugment(x, y, 16, seed=0), epochs=1, verbose=0)
        seen.append(keras.ops.convert_to_numpy(whiten.bias).copy())
    assert np.abs(seen[0]).max() > 0 and np.array_equal(seen[0], seen[1])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(whiten.kernel), kernel)


def test_cifar_quick_preset_end_to_end(tmp_path):
    args = compare.build_parser().parse_args([
        "--preset", "cifar-quick", "--model-option", "filters=(8,8,8)", "--batch-size", "16",
        "--epochs", "1", "--out", str(tmp_path / "out"), "--models-dir", str(tmp_path / "m"),
        "--no-diagnostics", "--device", "cpu", "--activations", "relu,prelu"])
    # (two of the preset's eight activations, two seeds: the whole pipeline with a Keras
    # built-in and a learnable activation; every classic one trains a step above)
    cfg = compare.resolve_config(args)
    assert cfg["tta"] == "flip_translate" and cfg["augment"] == "flip_translate"
    data = compare.prepare_arrays(cfg, make_synthetic("cifar10", 48, 20, seed=0))
    res = compare.run_grid(cfg, data=data, stream=io.StringIO())
    assert len(res["ran"]) == 4 and len(res["rows"]) == 2
    verdicts = {r["activation"]: r["verdict"] for r in res["rows"]}
    assert verdicts["relu"] == "baseline"
    assert all(v in ("better", "worse", "indistinguishable") for a, v in verdicts.items()
               if a != "relu")
    model = keras.saving.load_model(tmp_path / "m" / "cifar10-cnn" / "prelu-seed1.keras")
    assert isinstance(model.optimizer, optim.FastSGD)
    assert model.optimizer.bias_lr_scale == 64.0
