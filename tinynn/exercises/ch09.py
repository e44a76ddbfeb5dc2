"""Chapter 9 (convolutional networks): a convolution by loops, its kernel gradient, max-pool backward, and the
full BatchNormalization backward."""
from __future__ import annotations

from tinynn.backend import xp
from tinynn.exercises._checker import Checker, Mistake, collect
from tinynn.layers.convolutional import conv2d_loops
from tinynn.layers.normalization import standardize_backward

__all__ = ["check_conv2d_forward", "check_conv2d_kernel_grad", "check_maxpool_backward", "check_batchnorm_backward",
           "CHECKERS"]


# --- 1. conv2d_forward(x, kernel, bias) -> z, 'valid' padding, stride 1 ---------------------------------------
def _conv_case(rng, i):
    k = (3, 3) if i % 3 else (2, 2)
    n, c, f = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
    h, w = int(rng.integers(k[0] + 1, 8)), int(rng.integers(k[1] + 1, 8))
    return {"x": rng.normal(size=(n, h, w, c)), "kernel": rng.normal(size=(*k, c, f)), "bias": rng.normal(size=(f,))}


check_conv2d_forward = Checker(
    "conv2d_forward", lambda x, kernel, bias: conv2d_loops(x, kernel, bias), _conv_case,
    mistakes=[
        Mistake("flipped", lambda x, kernel, bias: conv2d_loops(x, kernel[::-1, ::-1], bias),
                "your kernel is flipped: the mathematicians' convolution flips it, but a Conv2D layer (Keras, "
                "PyTorch and tinynn) multiplies K[a, b] with the pixel a rows and b columns after the window's "
                "top-left corner, x[n, i + a, j + b, c], without flipping (a 'cross-correlation')."),
        Mistake("transposed", lambda x, kernel, bias: conv2d_loops(x, kernel.transpose(1, 0, 2, 3), bias),
                "rows and columns of the kernel are swapped: K[a, b] goes with the row offset a and the column offset "
                "b, i.e. x[n, i + a, j + b, c] (the kernel's layout is (kh, kw, C_in, F))."),
        Mistake("no_bias", lambda x, kernel, bias: conv2d_loops(x, kernel),
                "right up to a constant per filter: add bias[f] to every output of filter f."),
    ],
    exception_hint="x is (N, H, W, C), kernel (kh, kw, C, F), bias (F,); the output is (N, H - kh + 1, W - kw + 1, F).",
    doc="conv2d_forward(x, kernel, bias): z[n, i, j, f] = bias[f] + Σ_{a,b,c} x[n, i+a, j+b, c] · kernel[a, b, c, f], "
        "'valid' padding and stride 1: z has shape (N, H - kh + 1, W - kw + 1, F).",
)


# --- 2. conv2d_kernel_grad(x, dy, kernel_size) -> dK ------------------------------------------------------------
def _kernel_grad(x, dy, kernel_size):
    kh, kw = kernel_size
    ho, wo = dy.shape[1:3]
    dk = xp.zeros((kh, kw, x.shape[3], dy.shape[3]), dtype=dy.dtype)
    for a in range(kh):
        for b in range(kw):
            window = x[:, a:a + ho, b:b + wo, :]               # every pixel that met K[a, b]
            dk[a, b] = xp.einsum("nijc,nijf->cf", window, dy)
    return dk


def _kernel_grad_case(rng, i):
    case = _conv_case(rng, i)
    x, k = case["x"], case["kernel"]
    if i == 1:
        x = rng.normal(size=(3, *x.shape[1:]))               # several samples: the batch sum shows
    ho, wo = x.shape[1] - k.shape[0] + 1, x.shape[2] - k.shape[1] + 1
    return {"x": x, "dy": rng.normal(size=(x.shape[0], ho, wo, k.shape[3])), "kernel_size": k.shape[:2]}


check_conv2d_kernel_grad = Checker(
    "conv2d_kernel_grad", _kernel_grad, _kernel_grad_case,
    mistakes=[
        Mistake("mean", lambda x, dy, ks: _kernel_grad(x, dy, ks) / x.shape[0],
                "you divided by the batch size: the loss' 1/N is already inside dy, so the kernel gradient is a plain "
                "sum over the samples and the positions, dK[a, b] = Σ_n Σ_ij x[n, i+a, j+b]ᵀ dy[n, i, j]."),
        Mistake("first_sample", lambda x, dy, ks: _kernel_grad(x[:1], dy[:1], ks),
                "only the first sample counts in your gradient: the same kernel is used for every image, so the "
                "gradients of all N samples add up."),
        Mistake("flipped", lambda x, dy, ks: _kernel_grad(x, dy, ks)[::-1, ::-1],
                "your gradient is flipped: dK[a, b] collects x at offset (a, b) from each output pixel, "
                "x[:, a:a+Ho, b:b+Wo], the same offset the forward pass used."),
    ],
    exception_hint="x is (N, H, W, C), dy (N, Ho, Wo, F) with Ho = H - kh + 1; return dK of shape (kh, kw, C, F).",
    doc="conv2d_kernel_grad(x, dy, kernel_size): dK[a, b, c, f] = Σ_{n,i,j} x[n, i+a, j+b, c] · dy[n, i, j, f] "
        "for a 'valid', stride-1 convolution.",
)


# --- 3. maxpool_backward(x, dy) -> dx, 2x2 windows, stride 2 ---------------------------------------------------
def _windows2(x):
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // 2, w // 2, 4, c)


def _unwindows2(g, shape):
    n, h, w, c = shape
    return g.reshape(n, h // 2, w // 2, 2, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(shape)


def _maxpool_backward(x, dy):
    win = _windows2(x)
    first = win.argmax(axis=3)[:, :, :, None, :] == xp.arange(4)[:, None]   # the first maximum only
    return _unwindows2(first * dy[:, :, :, None, :], x.shape)


def _maxpool_case(rng, i):
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    h, w = 2 * int(rng.integers(1, 4)), 2 * int(rng.integers(2, 4))
    x = rng.integers(0, 3, size=(n, h, w, c)).astype("float64")   # few distinct values: ties are common
    return {"x": x, "dy": rng.normal(size=(n, h // 2, w // 2, c))}


def _all_ties(x, dy):
    win = _windows2(x)
    return _unwindows2((win == win.max(axis=3, keepdims=True)) * dy[:, :, :, None, :], x.shape)


check_maxpool_backward = Checker(
    "maxpool_backward", _maxpool_backward, _maxpool_case,
    mistakes=[
        Mistake("all_ties", _all_ties,
                "when several pixels of a window share the maximum, you send dy to each of them, so that window's "
                "gradient counts twice or more. The forward output depends on one of them only: give dy to the "
                "first maximum (row-major order in the window, like argmax) and 0 to the others."),
        Mistake("average", lambda x, dy: _unwindows2(xp.broadcast_to(dy[:, :, :, None, :] / 4, (*dy.shape[:3], 4, dy.shape[3])), x.shape),
                "that is the backward of *average* pooling (dy/4 everywhere); for the maximum only the winning pixel "
                "changed the output, so it alone gets dy."),
        Mistake("upsample", lambda x, dy: _unwindows2(xp.broadcast_to(dy[:, :, :, None, :], (*dy.shape[:3], 4, dy.shape[3])), x.shape),
                "you copied dy to all four pixels of each window; only the pixel that was the maximum gets it, the "
                "three others get 0."),
    ],
    exception_hint="x is (N, H, W, C) with even H and W, dy is (N, H/2, W/2, C); return dx shaped like x.",
    doc="maxpool_backward(x, dy): the gradient of 2×2 max pooling with stride 2; each window's dy goes to the "
        "first position of its maximum (row-major), 0 elsewhere.",
)


# --- 4. batchnorm_backward(dy, x, gamma, epsilon) -> dx, training mode, statistics over axis 0 ----------------
def _bn_parts(x, epsilon):
    mean, var = x.mean(axis=0), x.var(axis=0)
    inv = 1.0 / xp.sqrt(var + epsilon)
    return (x - mean) * inv, inv


def _bn_backward(dy, x, gamma, epsilon):
    xhat, inv = _bn_parts(x, epsilon)
    return standardize_backward(dy, xhat, inv, gamma, (0,), x.shape[0])


def _bn_case(rng, i):
    n, d = int(rng.integers(3, 12)), int(rng.integers(1, 6))
    return {"dy": rng.normal(size=(n, d)), "x": rng.normal(size=(n, d)) * 2 + 1, "gamma": rng.normal(size=(d,)),
            "epsilon": 1e-3}


def _bn_no_var_path(dy, x, gamma, epsilon):
    xhat, inv = _bn_parts(x, epsilon)
    dxhat = dy * gamma
    return inv * (dxhat - dxhat.mean(axis=0))


check_batchnorm_backward = Checker(
    "batchnorm_backward", _bn_backward, _bn_case,
    mistakes=[
        Mistake("simplified", lambda dy, x, g, eps: dy * g * _bn_parts(x, eps)[1],
                "that is the backward with the batch mean and variance held constant (right at inference, wrong "
                "in training): μ and σ² depend on every x in the batch, which adds the terms −Σdx̂ and −x̂ Σ dx̂ x̂: "
                "dx = s/m (m dx̂ − Σ dx̂ − x̂ Σ dx̂ x̂), with dx̂ = dy γ."),
        Mistake("no_variance_path", _bn_no_var_path,
                "the path through the mean is there, the one through the variance is missing: subtract also "
                "x̂ · mean(dx̂ x̂) (over the batch) before multiplying by s."),
        Mistake("no_gamma", lambda dy, x, g, eps: _bn_backward(dy, x, xp.ones_like(g), eps),
                "y = γ x̂ + β, so the gradient reaching x̂ is dx̂ = dy · γ: multiply by gamma first."),
    ],
    exception_hint="dy and x are (N, D), gamma (D,); the statistics are over axis 0 (the batch). Return dx (N, D).",
    doc="batchnorm_backward(dy, x, gamma, epsilon): dx of y = γ (x − μ)/√(σ² + ε) + β in training mode, where "
        "μ and σ² (biased) are the batch mean and variance over axis 0 and depend on x.",
)

CHECKERS = collect(globals())
