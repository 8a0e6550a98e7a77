"""The airbench initialisation of the CIFAR-10 cnn recipe (Keller Jordan's
cifar10-airbench): convolutions with an identity (Dirac) part, and the frozen 2x2 whitening
stem set from the training patches' eigenvectors.
"""
from __future__ import annotations

import keras
import numpy as np

__all__ = ["WHITEN_LAYER", "dirac_init", "whitening_weights", "init_whitening"]

WHITEN_LAYER = "whiten"


def dirac_init(conv) -> None:
    """Make the first ``min(in, out)`` filters of a built Conv2D pass their input channel
    through unchanged (a 1 at the kernel's centre, 0 elsewhere): an implicit residual path
    at initialisation (airbench's ``dirac_`` on the first ``in_channels`` filters)."""
    k = np.array(keras.ops.convert_to_numpy(conv.kernel))
    kh, kw, cin, cout = k.shape
    n = min(cin, cout)
    k[:, :, :, :n] = 0.0
    k[kh // 2, kw // 2, np.arange(n), np.arange(n)] = 1.0
    conv.kernel.assign(k.astype(k.dtype))


def whitening_weights(x, kernel_size: int = 2, eps: float = 5e-4, max_images: int = 5000):
    """Kernel (kh, kw, c, 2*kh*kw*c) whose first half maps each ``kh x kw`` patch of ``x``
    (N, H, W, C) onto the eigenvectors of the patches' covariance scaled by
    ``1/sqrt(eigenvalue + eps)`` (largest first), the second half the same negated.

    The patches' second moment (about zero, as the conv sees them) is what is whitened: on
    the patches the first half's outputs have covariance ~identity (exactly
    ``diag(l / (l + eps))``)."""
    x = np.asarray(x[:max_images], np.float32)
    n, h, w, c = x.shape
    views = np.lib.stride_tricks.sliding_window_view(x, (kernel_size, kernel_size), axis=(1, 2))
    # (n, h', w', c, kh, kw) -> patches in the kernel's (kh, kw, c) order
    patches = views.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kernel_size * kernel_size * c)
    cov = (patches.T.astype(np.float64) @ patches.astype(np.float64)) / len(patches)
    vals, vecs = np.linalg.eigh(cov)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    scaled = vecs / np.sqrt(np.maximum(vals, 0.0) + eps)
    kernel = np.concatenate([scaled, -scaled], axis=1)
    return kernel.reshape(kernel_size, kernel_size, c, -1).astype(np.float32)


def init_whitening(model, x, eps: float = 5e-4) -> bool:
    """Set the ``whiten`` stem of ``model`` (if it has one) from training images ``x``;
    returns whether it had one. Call before training, on the preprocessed inputs."""
    try:
        layer = model.get_layer(WHITEN_LAYER)
    except ValueError:
        return False
    kh = int(layer.kernel.shape[0])
    layer.kernel.assign(whitening_weights(x, kh, eps))
    return True
