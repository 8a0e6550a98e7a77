"""Published CIFAR-10 activation comparisons, and how a grid's results agree with them.

Two sources, the numbers as their authors report them:

* **GELU** -- Hendrycks & Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415,
  CIFAR-10 section: a shallower (9-layer) CNN; median test error of 3 runs: GELU 7.89 %,
  ReLU 8.16 %, ELU 8.41 %. No significance test.
* **Mish** -- Misra, "Mish: A Self Regularized Non-Monotonic Activation Function",
  arXiv:1908.08681 (BMVC 2020), and its repository's "Significance Level" table: SqueezeNet on
  CIFAR-10, Adam 1e-3, batch 128, 50 epochs, **23 runs** per activation; mean test accuracy
  and each activation's p-value against Mish. Leaky ReLU there has
  slope 0.3 (``keras_acts``' ``leaky_relu`` is Keras's, slope 0.2).

``compare(rows)`` puts a grid's per-activation means beside them: Kendall's tau over the
activations both cover (SciPy), and for every published pairwise claim that involves the
grid's baseline, whether the grid's verdict confirms it, contradicts it, or cannot resolve it.
"""
from __future__ import annotations

import math

#: mean (Mish) or median (GELU) test accuracy in %, and the claims each source makes
PAPERS = {
    "GELU (Hendrycks & Gimpel 2016; 9-layer CNN, median of 3 runs)": {
        "accuracy": {"gelu": 92.11, "relu": 91.84, "elu": 91.59},
        # the paper reads its curves as an ordering; with 3 runs it tests nothing
        "claims": [("gelu", "relu"), ("relu", "elu"), ("gelu", "elu")],
    },
    "Mish (Misra 2019/2020; SqueezeNet, mean of 23 runs)": {
        "accuracy": {"mish": 87.48, "gelu": 87.37, "swish": 87.32, "leaky_relu": 86.85,
                     "relu": 86.66, "elu": 86.41, "tanh": 83.15, "sigmoid": 74.82},
        # p < 0.0001 against Mish: relu, elu, leaky_relu (slope 0.3), tanh, sigmoid;
        # not significant: swish (p = 0.20), gelu (p = 0.40)
        "claims": [("mish", "relu"), ("mish", "elu"), ("mish", "leaky_relu"),
                   ("mish", "tanh"), ("mish", "sigmoid")],
        "no_difference": [("mish", "swish"), ("mish", "gelu")],
    },
}


def compare(rows: list[dict]) -> str:
    """Markdown: the grid's ordering against each paper's (Kendall's tau) and the papers'
    pairwise claims that the grid's baseline verdicts can check."""
    from scipy.stats import kendalltau

    from keras_acts.docs import markdown_table

    ours = {r["activation"]: r for r in rows}
    base = next((a for a, r in ours.items() if r.get("verdict") == "baseline"), None)
    out = []
    for paper, pub in PAPERS.items():
        common = [a for a in pub["accuracy"] if a in ours
                  and math.isfinite(ours[a].get("test_accuracy_mean") or math.nan)]
        out += [f"### {paper}", ""]
        if len(common) < 2:
            out += ["Fewer than two activations in common: no comparison.", ""]
            continue
        mine = [100 * ours[a]["test_accuracy_mean"] for a in common]
        theirs = [pub["accuracy"][a] for a in common]
        tau = kendalltau(mine, theirs)
        rank = {a: i + 1 for i, a in enumerate(sorted(common, key=lambda a: -pub["accuracy"][a]))}
        mrank = {a: i + 1 for i, a in enumerate(sorted(common, key=lambda a: -100 * ours[a]["test_accuracy_mean"]))}
        out.append(markdown_table(
            ["activation", "published (%)", "published rank", "ours (%)", "our rank", "our seeds"],
            [[f"`{a}`", f"{pub['accuracy'][a]:.2f}", rank[a],
              f"{100 * ours[a]['test_accuracy_mean']:.2f}", mrank[a], ours[a].get("seeds", "–")]
             for a in sorted(common, key=rank.get)]))
        out.append(f"Kendall's τ over the {len(common)} in common: **{tau.statistic:+.2f}** "
                   f"(p = {tau.pvalue:.2g}; τ = +1 is the same order).\n")
        checks = []
        for better, worse in pub["claims"]:
            checks.append(_check(ours, base, better, worse, "better"))
        for a, b in pub.get("no_difference", []):
            checks.append(_check(ours, base, a, b, "same"))
        checks = [c for c in checks if c]
        if checks:
            out.append(markdown_table(["published claim", "what our grid says", "so"], checks, "lll"))
        out.append("")
    return "\n".join(out)


def _check(ours, base, a, b, claim) -> list | None:
    """One published claim about ``a`` and ``b`` ("better": a > b; "same": no significant
    difference) read through our verdicts against the baseline. Only pairs with the baseline
    are tested by the grid; others are described, not tested."""
    if a not in ours or b not in ours:
        return None
    text = f"`{a}` > `{b}`" if claim == "better" else f"`{a}` ≈ `{b}` (n.s.)"
    if base not in (a, b):
        da, db = (100 * ours[x]["test_accuracy_mean"] for x in (a, b))
        return [text, f"not tested directly (both against `{base}`); means {da:.2f} vs {db:.2f} %",
                "cannot resolve"]
    other, sign = (a, +1) if b == base else (b, -1)  # claim: other is better (+1) / worse (-1)
    v = ours[other].get("verdict")
    d = ours[other].get("delta_vs_baseline_mean")
    rel = "from" if v == "indistinguishable" else "than"
    seen = (f"`{other}` {v} {rel} `{base}` ({100 * d:+.2f} pp, {ours[other].get('seeds')} seeds)"
            if d is not None and v else f"`{other}`: no verdict yet")
    if v is None:
        return [text, seen, "cannot resolve (no verdict)"]
    if claim == "same":
        so = "confirms" if v == "indistinguishable" else "contradicts"
    elif v == "indistinguishable":
        so = "cannot resolve"
    else:
        so = "confirms" if (v == "better") == (sign > 0) else "contradicts"
    return [text, seen, so]
