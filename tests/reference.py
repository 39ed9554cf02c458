"""Independent NumPy float64 implementations of every fastopt optimizer, the specification the tests check against.

Written from the papers and the update equations in PyTorch's documentation, one short function per optimizer,
in the most literal NumPy (temporaries everywhere, no fusion, no cleverness); nothing here calls fastopt.

A rule ``rule(p, g, state, t, **hyper)`` updates the float64 array ``p`` in place for step ``t`` (1-based) from the
gradient ``g``; ``state`` is that tensor's own dict of arrays, empty before the first step.  ``Reference`` runs a rule
over a list of tensors with PyTorch's defaults; ``ReferenceLookahead`` wraps one (Lookahead and Ranger).
"""
from __future__ import annotations

import math

import numpy as np


def _gradient(p, g, maximize, weight_decay):
    """The ascent/descent direction with the L2 penalty folded in: (+/-)g + wd * p."""
    g = -g if maximize else g
    return g + weight_decay * p if weight_decay else g


def sgd(p, g, state, t, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """PyTorch's SGD: the momentum buffer starts as the first gradient; Nesterov looks one buffer ahead."""
    g = _gradient(p, g, maximize, weight_decay)
    if momentum:
        buf = g.copy() if "buf" not in state else momentum * state["buf"] + (1 - dampening) * g
        state["buf"] = buf
        g = g + momentum * buf if nesterov else buf
    p -= lr * g


def adagrad(p, g, state, t, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize):
    """Duchi et al. (2011), with PyTorch's learning-rate decay lr / (1 + (t-1) lr_decay)."""
    g = _gradient(p, g, maximize, weight_decay)
    total = state.get("sum", np.full_like(p, initial_accumulator_value)) + g * g
    state["sum"] = total
    p -= lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(total) + eps)


def rmsprop(p, g, state, t, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    """Hinton (2012); centered divides by the running standard deviation instead of the RMS (Graves, 2013)."""
    g = _gradient(p, g, maximize, weight_decay)
    sq = alpha * state.get("sq", np.zeros_like(p)) + (1 - alpha) * g * g
    state["sq"] = sq
    if centered:
        mean = alpha * state.get("mean", np.zeros_like(p)) + (1 - alpha) * g
        state["mean"] = mean
        denom = np.sqrt(sq - mean * mean) + eps
    else:
        denom = np.sqrt(sq) + eps
    if momentum > 0:
        buf = momentum * state.get("buf", np.zeros_like(p)) + g / denom
        state["buf"] = buf
        p -= lr * buf
    else:
        p -= lr * g / denom


def adadelta(p, g, state, t, lr, rho, eps, weight_decay, maximize):
    """Zeiler (2012): the step is RMS[delta]_{t-1} / RMS[g]_t * g."""
    g = _gradient(p, g, maximize, weight_decay)
    sq = rho * state.get("sq", np.zeros_like(p)) + (1 - rho) * g * g
    delta = np.sqrt(state.get("acc", np.zeros_like(p)) + eps) / np.sqrt(sq + eps) * g
    state["sq"] = sq
    state["acc"] = rho * state.get("acc", np.zeros_like(p)) + (1 - rho) * delta * delta
    p -= lr * delta


def _moments(p, g, state, beta1, beta2):
    m = beta1 * state.get("m", np.zeros_like(p)) + (1 - beta1) * g
    v = beta2 * state.get("v", np.zeros_like(p)) + (1 - beta2) * g * g
    state["m"], state["v"] = m, v
    return m, v


def _decay(p, g, lr, weight_decay, decoupled, maximize):
    """Decoupled decay (Loshchilov & Hutter) shrinks p itself; otherwise it is an L2 term in the gradient."""
    if decoupled:
        p *= 1 - lr * weight_decay
        return _gradient(p, g, maximize, 0.0)
    return _gradient(p, g, maximize, weight_decay)


def adam(p, g, state, t, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """Kingma & Ba (2015), bias-corrected moments; AMSGrad (Reddi et al., 2018) keeps the running max of v."""
    beta1, beta2 = betas
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
    m, v = _moments(p, g, state, beta1, beta2)
    if amsgrad:
        v = np.maximum(state.get("vmax", np.zeros_like(p)), v)
        state["vmax"] = v
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    p -= lr * m_hat / (np.sqrt(v_hat) + eps)


def adamax(p, g, state, t, lr, betas, eps, weight_decay, maximize):
    """Kingma & Ba (2015, section 7.1): the infinity norm u_t = max(beta2 u, |g|), PyTorch adds eps inside."""
    beta1, beta2 = betas
    g = _gradient(p, g, maximize, weight_decay)
    m = beta1 * state.get("m", np.zeros_like(p)) + (1 - beta1) * g
    u = np.maximum(beta2 * state.get("u", np.zeros_like(p)), np.abs(g) + eps)
    state["m"], state["u"] = m, u
    p -= lr / (1 - beta1 ** t) * m / u


def nadam(p, g, state, t, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """Dozat (2016) with PyTorch's schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) and the running product of mu."""
    beta1, beta2 = betas
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
    mus = [beta1 * (1 - 0.5 * 0.96 ** (i * momentum_decay)) for i in range(1, t + 2)]
    mu, mu_next = mus[t - 1], mus[t]
    product, product_next = math.prod(mus[:t]), math.prod(mus)
    m, v = _moments(p, g, state, beta1, beta2)
    denom = np.sqrt(v / (1 - beta2 ** t)) + eps
    p -= lr * ((1 - mu) / (1 - product) * g / denom + mu_next / (1 - product_next) * m / denom)


def radam(p, g, state, t, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize):
    """Liu et al. (2020): Adam's adaptive step, rectified by r_t once the variance is tractable (rho_t > 5)."""
    beta1, beta2 = betas
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
    m, v = _moments(p, g, state, beta1, beta2)
    m_hat = m / (1 - beta1 ** t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    if rho_t > 5:
        r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        p -= lr * m_hat * r_t * math.sqrt(1 - beta2 ** t) / (np.sqrt(v) + eps)
    else:
        p -= lr * m_hat


def lion(p, g, state, t, lr, betas, weight_decay, maximize):
    """Chen et al. (2023), Program 1: sign of the beta1-interpolation, then the beta2 momentum update."""
    beta1, beta2 = betas
    g = -g if maximize else g
    m = state.get("m", np.zeros_like(p))
    update = np.sign(beta1 * m + (1 - beta1) * g)
    p -= lr * (update + weight_decay * p)
    state["m"] = beta2 * m + (1 - beta2) * g


def yogi(p, g, state, t, lr, betas, eps, initial_accumulator_value, weight_decay, maximize):
    """Zaheer et al. (2018), Algorithm 2, as optax's yogi: v moves toward g^2 by (1 - beta2) g^2; no bias correction."""
    beta1, beta2 = betas
    g = _gradient(p, g, maximize, weight_decay)
    m = beta1 * state.get("m", np.zeros_like(p)) + (1 - beta1) * g
    v = state.get("v", np.full_like(p, initial_accumulator_value))
    v = v - (1 - beta2) * np.sign(v - g * g) * g * g
    state["m"], state["v"] = m, v
    p -= lr * m / (np.sqrt(v) + eps)


# name -> (rule, PyTorch's defaults, or the reference library's where torch has none): what fastopt's
# constructors must match.
RULES = {
    "SGD": (sgd, dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)),
    "Adagrad": (adagrad, dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                              maximize=False)),
    "RMSprop": (rmsprop, dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                              maximize=False)),
    "Adadelta": (adadelta, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)),
    "Adam": (adam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                        decoupled_weight_decay=False)),
    "AdamW": (adam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False,
                         decoupled_weight_decay=True)),
    "Adamax": (adamax, dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False)),
    "NAdam": (nadam, dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                          decoupled_weight_decay=False, maximize=False)),
    "RAdam": (radam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                          maximize=False)),
    "Lion": (lion, dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False)),
    "Yogi": (yogi, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-3, initial_accumulator_value=1e-6, weight_decay=0.0,
                        maximize=False)),  # optax's defaults (torch has no Yogi)
}


class Reference:
    """Optimizer ``name`` over float64 copies of ``params``; ``hyper`` (a mutable dict) may change between steps."""

    def __init__(self, name, params, **hyper):
        self.rule, defaults = RULES[name]
        unknown = set(hyper) - set(defaults)
        if unknown:
            raise TypeError(f"{name} takes no {sorted(unknown)}")
        self.hyper = {**defaults, **hyper}
        self.params = [np.array(p, dtype=np.float64) for p in params]
        self.states = [{} for _ in self.params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        for p, g, state in zip(self.params, grads, self.states):
            self.rule(p, np.asarray(g, dtype=np.float64), state, self.t, **self.hyper)


class ReferenceLookahead:
    """Zhang et al. (2019): every k inner steps, slow += alpha * (fast - slow) and fast = slow."""

    def __init__(self, inner, k=5, alpha=0.5):
        self.inner, self.k, self.alpha = inner, k, alpha
        self.slow = [p.copy() for p in inner.params]
        self.t = 0

    @property
    def params(self):
        return self.inner.params

    def step(self, grads):
        self.inner.step(grads)
        self.t += 1
        if self.t % self.k == 0:
            for fast, slow in zip(self.inner.params, self.slow):
                slow += self.alpha * (fast - slow)
                fast[...] = slow


def ranger(params, lr=1e-3, betas=(0.95, 0.999), eps=1e-5, weight_decay=0.0, k=6, alpha=0.5, maximize=False):
    """Ranger (Wright, 2019): RAdam inside Lookahead, with Ranger's published defaults."""
    inner = Reference("RAdam", params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
    return ReferenceLookahead(inner, k=k, alpha=alpha)


# Optimizers that wrap another (fastopt class name -> reference maker taking the same keywords).
WRAPPED = {"Ranger": ranger}

# What the tests run of each optimizer (fastopt class name): a learning rate large enough that the updates, and
# so any error in them, are not tiny, the weight-decay value to cross with, and the variants (option combinations)
# of its update rule.  Every fastopt optimizer but the Lookahead wrapper (tested over several of these) has a row.
VARIANTS = {
    "SGD": (dict(lr=0.05), 0.1, [{}, dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
                                 dict(momentum=0.9, nesterov=True)]),
    "Adagrad": (dict(lr=0.1), 0.1, [{}, dict(lr_decay=0.05), dict(initial_accumulator_value=0.3, eps=1e-3)]),
    "RMSprop": (dict(lr=0.01), 0.1, [{}, dict(centered=True), dict(momentum=0.8), dict(centered=True, momentum=0.8),
                                     dict(alpha=0.9, eps=1e-3)]),
    "Adadelta": (dict(lr=1.0), 0.1, [{}, dict(rho=0.5, eps=1e-3)]),
    "Adam": (dict(lr=0.01), 0.1, [{}, dict(amsgrad=True), dict(decoupled_weight_decay=True),
                                  dict(amsgrad=True, decoupled_weight_decay=True),
                                  dict(betas=(0.8, 0.99), eps=1e-4)]),
    "AdamW": (dict(lr=0.01), 0.3, [{}, dict(amsgrad=True)]),
    "Adamax": (dict(lr=0.02), 0.1, [{}, dict(betas=(0.8, 0.9), eps=1e-3)]),
    "NAdam": (dict(lr=0.02), 0.1, [{}, dict(momentum_decay=0.1), dict(decoupled_weight_decay=True)]),
    "RAdam": (dict(lr=0.01), 0.1, [{}, dict(decoupled_weight_decay=True), dict(betas=(0.8, 0.9))]),
    "Lion": (dict(lr=1e-3), 0.5, [{}, dict(betas=(0.5, 0.9))]),
    "Yogi": (dict(lr=0.02), 0.1, [{}, dict(betas=(0.8, 0.9), eps=1e-4), dict(initial_accumulator_value=0.5)]),
    "Ranger": (dict(lr=0.01), 0.1, [{}, dict(k=4, alpha=0.3)]),
}
