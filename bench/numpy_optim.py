"""Careful in-place NumPy optimizers: the baseline fastopt's kernels are timed against.

"Careful" means what a good NumPy programmer would write: every ufunc writes into an existing array
(``out=`` or an augmented assignment), temporaries go to one or two scratch buffers shared by all
params (sized for the largest), per-step scalars are computed once in Python floats.  What NumPy
cannot do is fuse: each ufunc is one more pass over memory, which is the gap fastopt closes.

The math is fastopt's (PyTorch's semantics) for the configurations the benchmark runs: PyTorch's
defaults, SGD with and without momentum, AdamW's decoupled weight decay.  Options that the benchmark
does not use (maximize, amsgrad, centered, Nesterov, L2 weight decay, ...) are left out.
Run ``python bench/numpy_optim.py`` to check every optimizer against fastopt.

Usage mirrors fastopt: ``opt = Adam(params, lr=1e-3); opt.step(grads)`` updates ``params`` in place.
"""
from __future__ import annotations

import math

import numpy as np


class NumpyOptimizer:
    """Params, zero-initialised state arrays (``state_names``) and ``num_scratch`` scratch buffers.

    Subclasses compute their per-step scalars in ``begin_step`` and update one param in
    ``update(p, g, *states, *scratch)``.
    """

    state_names: tuple[str, ...] = ()
    num_scratch = 1

    def __init__(self, params):
        self.params = list(params)
        self.t = 0
        self.state = {name: [np.zeros_like(p) for p in self.params] for name in self.state_names}
        largest = max((p.size for p in self.params), default=0)
        dtype = self.params[0].dtype if self.params else np.float32
        self.scratch = [np.empty(largest, dtype) for _ in range(self.num_scratch)]

    def begin_step(self) -> None:
        """Compute this step's scalars (self.t is already the new step number)."""

    def step(self, grads) -> None:
        self.t += 1
        self.begin_step()
        for i, (p, g) in enumerate(zip(self.params, grads)):
            states = [self.state[name][i] for name in self.state_names]
            scratch = [s[:p.size].reshape(p.shape) for s in self.scratch]
            self.update(p, g, *states, *scratch)


class SGD(NumpyOptimizer):
    """SGD, optionally with momentum: b <- mu*b + g (b <- g on step 1); p <- p - lr*b."""

    def __init__(self, params, lr=1e-3, momentum=0.0):
        self.state_names = ("momentum_buffer",) if momentum else ()
        super().__init__(params)
        self.lr, self.momentum = lr, momentum

    def update(self, p, g, *rest):
        tmp = rest[-1]
        direction = g
        if self.momentum:
            buf = rest[0]
            if self.t == 1:
                np.copyto(buf, g)
            else:
                buf *= self.momentum
                buf += g
            direction = buf
        np.multiply(direction, self.lr, out=tmp)
        p -= tmp


class Adagrad(NumpyOptimizer):
    """Adagrad: s <- s + g^2; p <- p - clr * g / (sqrt(s) + eps), clr = lr / (1 + (t-1)*lr_decay)."""

    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, eps=1e-10):
        super().__init__(params)
        self.lr, self.lr_decay, self.eps = lr, lr_decay, eps

    def begin_step(self):
        self.clr = self.lr / (1 + (self.t - 1) * self.lr_decay)

    def update(self, p, g, s, tmp):
        np.multiply(g, g, out=tmp)
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.clr
        p -= tmp


class RMSprop(NumpyOptimizer):
    """RMSprop: sq <- alpha*sq + (1-alpha)*g^2; p <- p - lr * g / (sqrt(sq) + eps)."""

    state_names = ("square_avg",)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        super().__init__(params)
        self.lr, self.alpha, self.eps = lr, alpha, eps

    def update(self, p, g, sq, tmp):
        sq *= self.alpha
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.alpha
        sq += tmp
        np.sqrt(sq, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp


class Adadelta(NumpyOptimizer):
    """Adadelta: sq <- rho*sq + (1-rho)*g^2; d = sqrt(acc+eps)/sqrt(sq+eps)*g; acc <- rho*acc + (1-rho)*d^2;
    p <- p - lr*d."""

    state_names = ("square_avg", "acc_delta")
    num_scratch = 2

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6):
        super().__init__(params)
        self.lr, self.rho, self.eps = lr, rho, eps

    def update(self, p, g, sq, acc, tmp, delta):
        sq *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        sq += tmp
        np.add(sq, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.add(acc, self.eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= tmp
        delta *= g
        acc *= self.rho
        np.multiply(delta, delta, out=tmp)
        tmp *= 1 - self.rho
        acc += tmp
        delta *= self.lr
        p -= delta


class Adam(NumpyOptimizer):
    """Adam: m <- b1*m + (1-b1)*g; v <- b2*v + (1-b2)*g^2; p <- p - (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps).
    With ``weight_decay`` (AdamW only) p is first scaled by 1 - lr*weight_decay."""

    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay = 0.0

    def begin_step(self):
        self.step_size = self.lr / (1 - self.beta1 ** self.t)
        self.bc2_sqrt = math.sqrt(1 - self.beta2 ** self.t)

    def update(self, p, g, m, v, tmp):
        if self.weight_decay:
            p *= 1 - self.lr * self.weight_decay
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp /= self.bc2_sqrt
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.step_size
        p -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p <- p*(1 - lr*wd) before Adam's update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps)
        self.weight_decay = weight_decay


class Adamax(NumpyOptimizer):
    """Adamax: m <- b1*m + (1-b1)*g; u <- max(b2*u, |g| + eps); p <- p - (lr/bc1) * m/u."""

    state_names = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps

    def begin_step(self):
        self.clr = self.lr / (1 - self.beta1 ** self.t)

    def update(self, p, g, m, u, tmp):
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=tmp)
        m += tmp
        u *= self.beta2
        np.abs(g, out=tmp)
        tmp += self.eps
        np.maximum(u, tmp, out=u)
        np.divide(m, u, out=tmp)
        tmp *= self.clr
        p -= tmp


class NAdam(NumpyOptimizer):
    """NAdam with PyTorch's momentum schedule mu_t = b1*(1 - 0.5*0.96^(t*psi)), denom = sqrt(v/bc2) + eps:
    p <- p - c_grad*g/denom - c_avg*m/denom,
    c_grad = lr(1-mu_t)/(1-prod mu_i),  c_avg = lr*mu_{t+1}/(1-prod*mu_{t+1})."""

    state_names = ("exp_avg", "exp_avg_sq")
    num_scratch = 2

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, momentum_decay=4e-3):
        super().__init__(params)
        self.lr, (self.beta1, self.beta2), self.eps, self.momentum_decay = lr, betas, eps, momentum_decay
        self.mu_product = 1.0

    def begin_step(self):
        mu = self.beta1 * (1 - 0.5 * 0.96 ** (self.t * self.momentum_decay))
        mu_next = self.beta1 * (1 - 0.5 * 0.96 ** ((self.t + 1) * self.momentum_decay))
        self.mu_product *= mu
        self.c_grad = self.lr * (1 - mu) / (1 - self.mu_product)
        self.c_avg = self.lr * mu_next / (1 - self.mu_product * mu_next)
        self.bc2 = 1 - self.beta2 ** self.t

    def update(self, p, g, m, v, denom, tmp):
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        np.divide(v, self.bc2, out=denom)
        np.sqrt(denom, out=denom)
        denom += self.eps
        np.divide(g, denom, out=tmp)
        tmp *= self.c_grad
        p -= tmp
        np.divide(m, denom, out=tmp)
        tmp *= self.c_avg
        p -= tmp


class RAdam(NumpyOptimizer):
    """RAdam: Adam's moments; when rho_t > 5, p <- p - lr*r_t*sqrt(bc2)/bc1 * m/(sqrt(v) + eps),
    otherwise p <- p - (lr/bc1)*m."""

    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps

    def begin_step(self):
        b2t = self.beta2 ** self.t
        rho_inf = 2 / (1 - self.beta2) - 1
        rho_t = rho_inf - 2 * self.t * b2t / (1 - b2t)
        bc1 = 1 - self.beta1 ** self.t
        self.rectified = rho_t > 5
        if self.rectified:
            r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            self.scale = self.lr * r_t * math.sqrt(1 - b2t) / bc1
        else:
            self.scale = self.lr / bc1

    def update(self, p, g, m, v, tmp):
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        if self.rectified:
            np.sqrt(v, out=tmp)
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
        else:
            np.copyto(tmp, m)
        tmp *= self.scale
        p -= tmp


class Lion(NumpyOptimizer):
    """Lion: p <- p - lr*sign(b1*m + (1-b1)*g); m <- b2*m + (1-b2)*g."""

    state_names = ("exp_avg",)
    num_scratch = 2

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99)):
        super().__init__(params)
        self.lr, (self.beta1, self.beta2) = lr, betas

    def update(self, p, g, m, direction, tmp):
        np.multiply(m, self.beta1, out=direction)
        np.multiply(g, 1 - self.beta1, out=tmp)
        direction += tmp
        np.sign(direction, out=direction)
        direction *= self.lr
        p -= direction
        m *= self.beta2
        np.multiply(g, 1 - self.beta2, out=tmp)
        m += tmp


def check_against_fastopt(steps: int = 20, seed: int = 0) -> None:
    """Run each NumPy optimizer and fastopt's over the same random gradients; raise if they differ."""
    import fastopt  # imported here: the NumPy optimizers themselves need only NumPy

    configs = [("SGD", {}), ("SGD", {"momentum": 0.9}), ("Adagrad", {"lr_decay": 0.01}), ("RMSprop", {}),
               ("Adadelta", {}), ("Adam", {}), ("AdamW", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}),
               ("Lion", {})]
    sizes = [1000, 17, 3 * 4096 + 5]
    for name, hyper in configs:
        rng = np.random.default_rng(seed)
        start = [rng.standard_normal(n, dtype=np.float32) for n in sizes]
        ours, theirs = [p.copy() for p in start], [p.copy() for p in start]
        mine, reference = globals()[name](ours, **hyper), getattr(fastopt, name)(theirs, **hyper)
        for _ in range(steps):
            grads = [rng.standard_normal(n, dtype=np.float32) for n in sizes]
            mine.step(grads)
            reference.step(grads)
        moved = max(float(np.max(np.abs(t - s))) for t, s in zip(theirs, start))
        worst = max(float(np.max(np.abs(o - t))) for o, t in zip(ours, theirs))
        if not (worst <= 1e-3 * moved and moved > 0):
            raise AssertionError(f"{name}{hyper}: NumPy differs from fastopt by {worst:.3g} (params moved {moved:.3g})")
        print(f"{name:8s} {str(hyper):22s} agrees with fastopt over {steps} steps: max |diff| {worst:.2e}, "
              f"params moved up to {moved:.2e}")


if __name__ == "__main__":
    check_against_fastopt()
