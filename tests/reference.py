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


def sgd(p, g, state, t, lr, momentum, dampening, weight_decay, nesterov, maximize, decoupled_weight_decay):
    """PyTorch's SGD: the momentum buffer starts as the first gradient; Nesterov looks one buffer ahead.  SGDW
    (Loshchilov & Hutter, 2019) decays the params first, scaled by lr as AdamW."""
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
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


def _cautious(update, g, cautious):
    """Liang et al. (2024), as their code: zero the update where it disagrees in sign with the gradient and rescale
    the rest by numel / (mask.sum() + 1) per tensor; a multiplication, so a NaN update stays NaN."""
    if not cautious:
        return update
    mask = (update * g > 0).astype(np.float64)
    return update * (mask * (mask.size / (mask.sum() + 1)))


def adam(p, g, state, t, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay, cautious):
    """Kingma & Ba (2015), bias-corrected moments; AMSGrad (Reddi et al., 2018) keeps the running max of v."""
    beta1, beta2 = betas
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
    m, v = _moments(p, g, state, beta1, beta2)
    if amsgrad:
        v = np.maximum(state.get("vmax", np.zeros_like(p)), v)
        state["vmax"] = v
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    p -= lr * _cautious(m_hat / (np.sqrt(v_hat) + eps), g, cautious)


def adamax(p, g, state, t, lr, betas, eps, weight_decay, maximize, cautious):
    """Kingma & Ba (2015, section 7.1): the infinity norm u_t = max(beta2 u, |g|), PyTorch adds eps inside."""
    beta1, beta2 = betas
    g = _gradient(p, g, maximize, weight_decay)
    m = beta1 * state.get("m", np.zeros_like(p)) + (1 - beta1) * g
    u = np.maximum(beta2 * state.get("u", np.zeros_like(p)), np.abs(g) + eps)
    state["m"], state["u"] = m, u
    p -= lr / (1 - beta1 ** t) * _cautious(m / u, g, cautious)


def nadam(p, g, state, t, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize, cautious):
    """Dozat (2016) with PyTorch's schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) and the running product of mu."""
    beta1, beta2 = betas
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
    mus = [beta1 * (1 - 0.5 * 0.96 ** (i * momentum_decay)) for i in range(1, t + 2)]
    mu, mu_next = mus[t - 1], mus[t]
    product, product_next = math.prod(mus[:t]), math.prod(mus)
    m, v = _moments(p, g, state, beta1, beta2)
    denom = np.sqrt(v / (1 - beta2 ** t)) + eps
    p -= lr * _cautious((1 - mu) / (1 - product) * g / denom + mu_next / (1 - product_next) * m / denom, g, cautious)


def radam(p, g, state, t, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize, cautious):
    """Liu et al. (2020): Adam's adaptive step, rectified by r_t once the variance is tractable (rho_t > 5)."""
    beta1, beta2 = betas
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
    m, v = _moments(p, g, state, beta1, beta2)
    m_hat = _cautious(m / (1 - beta1 ** t), g, cautious)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    if rho_t > 5:
        r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        p -= lr * m_hat * r_t * math.sqrt(1 - beta2 ** t) / (np.sqrt(v) + eps)
    else:
        p -= lr * m_hat


def lion(p, g, state, t, lr, betas, weight_decay, maximize, cautious):
    """Chen et al. (2023), Program 1: sign of the beta1-interpolation, then the beta2 momentum update."""
    beta1, beta2 = betas
    g = -g if maximize else g
    m = state.get("m", np.zeros_like(p))
    update = _cautious(np.sign(beta1 * m + (1 - beta1) * g), g, cautious)
    p -= lr * (update + weight_decay * p)
    state["m"] = beta2 * m + (1 - beta2) * g


def yogi(p, g, state, t, lr, betas, eps, initial_accumulator_value, weight_decay, maximize, cautious):
    """Zaheer et al. (2018), Algorithm 2, as optax's yogi: v moves toward g^2 by (1 - beta2) g^2; no bias correction."""
    beta1, beta2 = betas
    g = _gradient(p, g, maximize, weight_decay)
    m = beta1 * state.get("m", np.zeros_like(p)) + (1 - beta1) * g
    v = state.get("v", np.full_like(p, initial_accumulator_value))
    v = v - (1 - beta2) * np.sign(v - g * g) * g * g
    state["m"], state["v"] = m, v
    p -= lr * _cautious(m / (np.sqrt(v) + eps), g, cautious)


def adabelief(p, g, state, t, lr, betas, eps, eps_root, weight_decay, nesterov, maximize, decoupled_weight_decay,
              cautious):
    """optax's scale_by_belief (Zhuang et al., 2020): the second moment of g - m, eps_root added to it every step."""
    b1, b2 = betas
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
    m = (1 - b1) * g + b1 * state.get("m", np.zeros_like(p))
    s = (1 - b2) * (g - m) ** 2 + b2 * state.get("s", np.zeros_like(p)) + eps_root
    state["m"], state["s"] = m, s
    if nesterov:
        m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1 ** t)
    else:
        m_hat = m / (1 - b1 ** t)
    p -= lr * _cautious(m_hat / (np.sqrt(s / (1 - b2 ** t)) + eps), g, cautious)


def adopt(p, g, state, t, lr, betas, eps, weight_decay, use_clipping, nesterov, maximize, decoupled_weight_decay,
          cautious):
    """optax.contrib.scale_by_adopt (Taniguchi et al., 2024) at count = t - 1: the first call records v = g^2 only;
    later ones clip g / max(sqrt(v_prev), eps) to count^(1/4).  Weight decay as the authors' PyTorch code."""
    b1, b2 = betas
    g = _decay(p, g, lr, weight_decay, decoupled_weight_decay, maximize)
    if t == 1:
        state["m"], state["v"] = np.zeros_like(p), g * g
        return
    u = g / np.maximum(np.sqrt(state["v"]), eps)
    if use_clipping:
        u = np.clip(u, -(t - 1) ** 0.25, (t - 1) ** 0.25)
    m = (1 - b1) * u + b1 * state["m"]
    update = (1 - b1) * u + b1 * m if nesterov else m
    state["m"], state["v"] = m, (1 - b2) * g * g + b2 * state["v"]
    p -= lr * _cautious(update, g, cautious)


def _ademamix_schedules(t, betas, alpha, beta3_warmup, alpha_warmup):
    """The AdEMAMix authors' linear_warmup_scheduler and linear_hl_warmup_scheduler (None written as 0)."""
    b1, _, b3 = betas
    if alpha_warmup and t < alpha_warmup:
        a = t / float(alpha_warmup)
        alpha = (1.0 - a) * 0 + a * alpha
    if beta3_warmup and t < beta3_warmup:
        def half_life(beta, eps=1e-8):
            return math.log(0.5) / math.log(beta + eps) - 1

        a = t / float(beta3_warmup)
        b3 = math.pow(0.5, 1 / ((1.0 - a) * half_life(b1) + a * half_life(b3) + 1))
    return alpha, b3


def ademamix(p, g, state, t, lr, betas, alpha, beta3_warmup, alpha_warmup, eps, weight_decay, maximize, cautious):
    """The AdEMAMix authors' PyTorch step (apple/ml-ademamix): fast and slow EMAs, decoupled decay."""
    b1, b2, _ = betas
    g = -g if maximize else g
    alpha, b3 = _ademamix_schedules(t, betas, alpha, beta3_warmup, alpha_warmup)
    fast = b1 * state.get("fast", np.zeros_like(p)) + (1 - b1) * g
    slow = b3 * state.get("slow", np.zeros_like(p)) + (1 - b3) * g
    v = b2 * state.get("v", np.zeros_like(p)) + (1 - b2) * g * g
    state["fast"], state["slow"], state["v"] = fast, slow, v
    denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps
    update = _cautious((fast / (1 - b1 ** t) + alpha * slow) / denom, g, cautious)
    p -= lr * (update + weight_decay * p)


def adan(p, g, state, t, lr, betas, eps, weight_decay, maximize, cautious):
    """optax's scale_by_adan then add_decayed_weights: difference terms weighted by 1 - b2, as optax has them."""
    b1, b2, b3 = betas
    g = -g if maximize else g
    diff = np.zeros_like(g) if t == 1 else g - state["prev"]
    m = (1 - b1) * g + b1 * state.get("m", np.zeros_like(p))
    v = (1 - b2) * diff + b2 * state.get("v", np.zeros_like(p))
    n = (1 - b3) * (g + (1 - b2) * diff) ** 2 + b3 * state.get("n", np.zeros_like(p))
    state["m"], state["v"], state["n"], state["prev"] = m, v, n, g
    m_hat, v_hat, n_hat = m / (1 - b1 ** t), v / (1 - b2 ** t), n / (1 - b3 ** t)
    update = _cautious((m_hat + (1 - b2) * v_hat) / (np.sqrt(n_hat) + eps), g, cautious)
    p -= lr * (update + weight_decay * p)


def rprop(p, g, state, t, lr, etas, step_sizes, maximize):
    """torch.optim.Rprop's single-tensor step: per-element step sizes from the sign of g * g_prev."""
    etaminus, etaplus = etas
    g = -g if maximize else g
    sign = np.sign(g * state.get("prev", np.zeros_like(p)))
    factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, np.where(sign == 0, 1.0, sign)))
    step = np.clip(state.get("step", np.full_like(p, lr)) * factor, *step_sizes)
    g = np.where(factor == etaminus, 0.0, g)
    p -= np.sign(g) * step
    state["prev"], state["step"] = g, step


def asgd(p, g, state, t, lr, lambd, alpha, t0, weight_decay, maximize):
    """torch.optim.ASGD's single-tensor step: eta and mu start at lr and 1 and are updated after each step."""
    g = -g if maximize else g
    eta, mu = state.get("eta", lr), state.get("mu", 1.0)
    if weight_decay:
        g = g + weight_decay * p
    p *= 1 - lambd * eta
    p += -eta * g
    state["ax"] = state.get("ax", np.zeros_like(p)) + (p - state.get("ax", np.zeros_like(p))) * mu if mu != 1 \
        else p.copy()
    state["eta"], state["mu"] = lr / ((1 + lambd * lr * t) ** alpha), 1 / max(1, t - t0)



def _lerp(start, end, weight):
    return start + weight * (end - start)


def newton_schulz(g, ns_coefficients, ns_steps, eps):
    """torch.optim.Muon's quintic Newton-Schulz iteration (in float64): X <- a X + (b A + c A^2) X, A = X X^T, on
    the transpose of a tall matrix, from X / max(|X|_F, eps)."""
    a, b, c = ns_coefficients
    x = g.T if g.shape[0] > g.shape[1] else g
    x = x / max(np.linalg.norm(x), eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if g.shape[0] > g.shape[1] else x


def muon(p, g, state, t, lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn, adamw_lr,
         adamw_betas, adamw_eps, adamw_weight_decay, maximize):
    """Jordan et al. (2024), torch.optim.Muon's algorithm for a matrix ((shape[0], rest) for more dimensions); torch's
    AdamW for a vector, with its own hyperparameters.  An empty param has nothing to update."""
    if p.size == 0:
        return
    g = -g if maximize else g
    if p.ndim < 2:
        m = _lerp(state.get("m", np.zeros_like(p)), g, 1 - adamw_betas[0])
        v = adamw_betas[1] * state.get("v", np.zeros_like(p)) + (1 - adamw_betas[1]) * g * g
        state["m"], state["v"] = m, v
        p *= 1 - adamw_lr * adamw_weight_decay
        p -= adamw_lr / (1 - adamw_betas[0] ** t) * m / (np.sqrt(v) / math.sqrt(1 - adamw_betas[1] ** t) + adamw_eps)
        return
    rows, cols = p.shape[0], p.size // p.shape[0]
    buf = _lerp(state.get("buf", np.zeros((rows, cols))), g.reshape(rows, cols), 1 - momentum)
    state["buf"] = buf
    update = _lerp(g.reshape(rows, cols), buf, momentum) if nesterov else buf
    ortho = newton_schulz(update, ns_coefficients, ns_steps, eps)
    ratio = math.sqrt(max(1, rows / cols)) if adjust_lr_fn in (None, "original") else 0.2 * math.sqrt(max(rows, cols))
    p *= 1 - lr * weight_decay
    p -= lr * ratio * ortho.reshape(p.shape)


def adafactor(p, g, state, t, lr, beta2_decay, eps, d, weight_decay, maximize):
    """Shazeer & Stern (2018), torch.optim.Adafactor's variant: row and column means of g^2 over the last two
    dimensions, the relative step min(lr, 1/sqrt(t)) times max(eps2, RMS(p)), the update's RMS clipped to d.  An
    empty param has nothing to update (torch divides by its zero size)."""
    if p.size == 0:
        return
    g = -g if maximize else g
    eps1 = np.finfo(np.float64).eps if eps[0] is None else eps[0]
    weight = t ** beta2_decay
    alpha = max(eps[1], np.sqrt(np.mean(p * p))) * min(lr, 1 / math.sqrt(t))
    p *= 1 - lr * weight_decay
    if p.ndim >= 2:
        row = _lerp(state.get("row", np.zeros(p.shape[:-1] + (1,))), np.mean(g * g, axis=-1, keepdims=True), weight)
        col = _lerp(state.get("col", np.zeros(p.shape[:-2] + (1, p.shape[-1]))), np.mean(g * g, axis=-2, keepdims=True),
                    weight)
        state["row"], state["col"] = row, col
        var = row * col / np.maximum(np.mean(row, axis=-2, keepdims=True), eps1)
    else:
        var = _lerp(state.get("var", np.zeros_like(p)), g * g, weight)
        state["var"] = var
    update = g / np.sqrt(np.maximum(var, eps1 * eps1))
    p -= alpha / max(1.0, np.sqrt(np.mean(update * update)) / d) * update
def _trust_ratio(param, update, coefficient=1.0, eps=0.0):
    """optax's scale_by_trust_ratio: coefficient * |p| / (|u| + eps), 1 when either norm is zero."""
    param_norm, update_norm = np.linalg.norm(param), np.linalg.norm(update)
    if param_norm == 0 or update_norm == 0:
        return 1.0
    return coefficient * param_norm / (update_norm + eps)


def lamb(p, g, state, t, lr, betas, eps, eps_root, weight_decay, maximize):
    """optax's lamb: scale_by_adam (bias-corrected, eps_root inside the root), add_decayed_weights, then the trust
    ratio of the whole tensor."""
    beta1, beta2 = betas
    g = -g if maximize else g
    m, v = _moments(p, g, state, beta1, beta2)
    u = (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t) + eps_root) + eps) + weight_decay * p
    p -= lr * _trust_ratio(p, u) * u


def lars(p, g, state, t, lr, momentum, weight_decay, trust_coefficient, eps, nesterov, trust_ratio, maximize):
    """optax's lars: add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate, trace (momentum of the
    scaled updates; optax keeps -lr * r * u in it, this keeps its negative)."""
    g = -g if maximize else g
    u = g + weight_decay * p
    r = _trust_ratio(p, u, trust_coefficient, eps) if trust_ratio else 1.0
    d = lr * r * u
    if momentum:
        trace = d + momentum * state.get("trace", np.zeros_like(p))
        state["trace"] = trace
        d = d + momentum * trace if nesterov else trace
    p -= d


def stable_adamw(p, g, state, t, lr, betas, eps, weight_decay, clip_threshold, maximize):
    """Wortsman et al. (2023), Algorithm 2, as the authors' StableAdamWUnfused: debiased betas, the learning rate
    divided by max(1, RMS(g^2 / max(v, eps^2)) / d) per tensor, which also scales the decoupled decay."""
    g = -g if maximize else g
    beta1, beta2 = (b * (1 - b ** (t - 1)) / (1 - b ** t) for b in betas)
    m = beta1 * state.get("m", np.zeros_like(p)) + (1 - beta1) * g
    v = beta2 * state.get("v", np.zeros_like(p)) + (1 - beta2) * g * g
    state["m"], state["v"] = m, v
    rms = math.sqrt(np.mean(g * g / np.maximum(v, eps * eps))) if p.size else 0.0
    eta = lr / max(1.0, rms / clip_threshold)
    p *= 1 - eta * weight_decay
    p -= eta * m / (np.sqrt(v) + eps)


def _schedule_free_weight(state, t, lr, warmup_steps, r, weight_lr_power):
    """The authors' schedulefree: the warmed-up rate of step k = t - 1 and the averaging weight c = w_k / sum w."""
    k = t - 1
    lr = lr * ((k + 1) / warmup_steps if k < warmup_steps else 1.0)
    lr_max = state["lr_max"] = max(lr, state.get("lr_max", -1.0))
    weight = (k + 1) ** r * lr_max ** weight_lr_power
    weight_sum = state["weight_sum"] = state.get("weight_sum", 0.0) + weight
    return lr, weight / weight_sum if weight_sum != 0 else 0.0


def _schedule_free_move(p, d, state, lr, c, beta):
    """y <- lerp(y, z, c) + lr (beta (1 - c) - 1) d;  z <- z - lr d (z starts as the param)."""
    z = state.get("z", p.copy())
    p += c * (z - p)
    p += lr * (beta * (1 - c) - 1) * d
    state["z"] = z - lr * d


def schedulefree_sgd(p, g, state, t, lr, momentum, weight_decay, warmup_steps, r, weight_lr_power, maximize):
    """Defazio et al. (2024), the authors' SGDScheduleFree.step (params hold y)."""
    lr, c = _schedule_free_weight(state, t, lr, warmup_steps, r, weight_lr_power)
    _schedule_free_move(p, _gradient(p, g, maximize, weight_decay), state, lr, c, momentum)


def schedulefree_adamw(p, g, state, t, lr, betas, eps, weight_decay, warmup_steps, r, weight_lr_power, maximize):
    """Defazio et al. (2024), the authors' AdamWScheduleFree.step: g / (sqrt(v / bc2) + eps), decay added at y."""
    beta1, beta2 = betas
    lr, c = _schedule_free_weight(state, t, lr, warmup_steps, r, weight_lr_power)
    g = -g if maximize else g
    v = beta2 * state.get("v", np.zeros_like(p)) + (1 - beta2) * g * g
    state["v"] = v
    d = g / (np.sqrt(v / (1 - beta2 ** t)) + eps) + weight_decay * p
    _schedule_free_move(p, d, state, lr, c, beta1)


def prodigy(params, grads, states, group, t, lr, betas, beta3, eps, weight_decay, decouple, use_bias_correction,
            safeguard_warmup, d0, d_coef, growth_rate, maximize):
    """Mishchenko & Defazio (2024), the authors' prodigyopt Prodigy.step for one param group (its estimate sums over
    every tensor).  ``group`` holds d, d_max, d_numerator and k between steps."""
    beta1, beta2 = betas
    beta3 = beta3 or math.sqrt(beta2)
    k, d = group.get("k", 0), group.get("d", d0)
    d_max = group.get("d_max", d0)
    bias_correction = math.sqrt(1 - beta2 ** (k + 1)) / (1 - beta1 ** (k + 1)) if use_bias_correction else 1.0
    dlr = d * lr * bias_correction
    d_numerator = group.get("d_numerator", 0.0) * beta3
    d_denom = 0.0
    if lr == 0:
        return
    directions = []
    for p, g, state in zip(params, grads, states):
        g = -g if maximize else g
        if weight_decay and not decouple:
            g = g + weight_decay * p
        directions.append(g)
        if "p0" not in state:
            state.update(s=np.zeros_like(p), p0=p.copy(), v=np.zeros_like(p))
            if beta1 > 0:
                state["m"] = np.zeros_like(p)
        d_numerator += (d / d0) * dlr * float(np.dot(g.ravel(), (state["p0"] - p).ravel()))
        if beta1 > 0:
            state["m"] = beta1 * state["m"] + d * (1 - beta1) * g
        state["v"] = beta2 * state["v"] + d * d * (1 - beta2) * g * g
        state["s"] = beta3 * state["s"] + (d / d0) * (d if safeguard_warmup else dlr) * g
        d_denom += float(np.abs(state["s"]).sum())
    if d_denom == 0:
        return
    d_hat = d_coef * d_numerator / d_denom
    if d == d0:
        d = max(d, d_hat)
    d_max = max(d_max, d_hat)
    d = min(d_max, d * growth_rate)
    group.update(d=d, d_max=d_max, d_numerator=d_numerator, k=k + 1)
    for p, g, state in zip(params, directions, states):
        denom = np.sqrt(state["v"]) + d * eps
        if weight_decay and decouple:
            p -= weight_decay * dlr * p
        p -= dlr * state["m"] / denom if beta1 > 0 else dlr * d * g / denom


prodigy.whole_group = True  # steps every tensor of the group at once (Reference passes them all)


# name -> (rule, PyTorch's defaults, or the reference library's where torch has none): what fastopt's
# constructors must match.
RULES = {
    "SGD": (sgd, dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False,
                      decoupled_weight_decay=False)),
    "SGDW": (sgd, dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=1e-2, nesterov=False, maximize=False,
                       decoupled_weight_decay=True)),  # AdamW's default decay (torch has no SGDW)
    "Adagrad": (adagrad, dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                              maximize=False)),
    "RMSprop": (rmsprop, dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                              maximize=False)),
    "Adadelta": (adadelta, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)),
    "Adam": (adam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                        decoupled_weight_decay=False, cautious=False)),
    "AdamW": (adam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False,
                         decoupled_weight_decay=True, cautious=False)),
    "Adamax": (adamax, dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False, cautious=False)),
    "NAdam": (nadam, dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                          decoupled_weight_decay=False, maximize=False, cautious=False)),
    "RAdam": (radam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                          maximize=False, cautious=False)),
    "Lion": (lion, dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False, cautious=False)),
    "Yogi": (yogi, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-3, initial_accumulator_value=1e-6, weight_decay=0.0,
                        maximize=False, cautious=False)),  # optax's defaults (torch has no Yogi)
    # optax's betas and eps, the authors' lr (optax has no default rate)
    "AdaBelief": (adabelief, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-16, eps_root=1e-16, weight_decay=0.0,
                                  nesterov=False, maximize=False, decoupled_weight_decay=False, cautious=False)),
    "ADOPT": (adopt, dict(lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, weight_decay=0.0, use_clipping=True, nesterov=False,
                          maximize=False, decoupled_weight_decay=False, cautious=False)),
    # the authors' PyTorch defaults
    "AdEMAMix": (ademamix, dict(lr=1e-3, betas=(0.9, 0.999, 0.9999), alpha=2.0, beta3_warmup=0, alpha_warmup=0,
                                eps=1e-8, weight_decay=0.0, maximize=False, cautious=False)),
    "Adan": (adan, dict(lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, maximize=False,
                        cautious=False)),
    "Rprop": (rprop, dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0), maximize=False)),
    "ASGD": (asgd, dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False)),
    # torch's Muon (with fastopt's AdamW for vectors: Keller Jordan's MuonWithAuxAdam rates) and Adafactor
    "Muon": (muon, dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315),
                        eps=1e-7, ns_steps=5, adjust_lr_fn="original", adamw_lr=1e-3, adamw_betas=(0.9, 0.95),
                        adamw_eps=1e-10, adamw_weight_decay=0.0, maximize=False)),
    "Adafactor": (adafactor, dict(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                                  maximize=False)),
    # optax's defaults; optax has no default rate: LAMB's is Adam's, LARS's 1 (its trust coefficient scales it)
    "LAMB": (lamb, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-6, eps_root=0.0, weight_decay=1e-4, maximize=False)),
    "LARS": (lars, dict(lr=1.0, momentum=0.9, weight_decay=0.0, trust_coefficient=1e-3, eps=0.0, nesterov=False,
                        trust_ratio=True, maximize=False)),
    # the paper's betas and clipping threshold, AdamW's rate and decay
    "StableAdamW": (stable_adamw, dict(lr=1e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2, clip_threshold=1.0,
                                       maximize=False)),
    # the authors' schedulefree defaults
    "ScheduleFreeSGD": (schedulefree_sgd, dict(lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0,
                                               weight_lr_power=2.0, maximize=False)),
    "ScheduleFreeAdamW": (schedulefree_adamw, dict(lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                                   warmup_steps=0, r=0.0, weight_lr_power=2.0, maximize=False)),
    # prodigyopt's defaults (its beta3=None is 0 here: sqrt(beta2))
    "Prodigy": (prodigy, dict(lr=1.0, betas=(0.9, 0.999), beta3=0.0, eps=1e-8, weight_decay=0.0, decouple=True,
                              use_bias_correction=False, safeguard_warmup=False, d0=1e-6, d_coef=1.0,
                              growth_rate=math.inf, maximize=False)),
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
        self.group = {}  # per-group values of whole-group rules (Prodigy's estimate)
        self.t = 0

    def step(self, grads):
        self.t += 1
        if getattr(self.rule, "whole_group", False):
            self.rule(self.params, [np.asarray(g, dtype=np.float64) for g in grads], self.states, self.group, self.t,
                      **self.hyper)
            return
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
# A weight decay of None: the optimizer has none (Rprop).  ADOPT without clipping divides by sqrt(v_1) = |g_1|,
# so a g_1 near zero (an L2 term cancelling the gradient) makes float32 ill-conditioned: its variant floors at 0.1.
VARIANTS = {
    "SGD": (dict(lr=0.05), 0.1, [{}, dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
                                 dict(momentum=0.9, nesterov=True)]),
    "Adagrad": (dict(lr=0.1), 0.1, [{}, dict(lr_decay=0.05), dict(initial_accumulator_value=0.3, eps=1e-3)]),
    "RMSprop": (dict(lr=0.01), 0.1, [{}, dict(centered=True), dict(momentum=0.8), dict(centered=True, momentum=0.8),
                                     dict(alpha=0.9, eps=1e-3)]),
    "Adadelta": (dict(lr=1.0), 0.1, [{}, dict(rho=0.5, eps=1e-3)]),
    "SGDW": (dict(lr=0.05), 0.1, [{}, dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
                                  dict(momentum=0.9, nesterov=True)]),
    "Adam": (dict(lr=0.01), 0.1, [{}, dict(amsgrad=True), dict(decoupled_weight_decay=True),
                                  dict(amsgrad=True, decoupled_weight_decay=True),
                                  dict(betas=(0.8, 0.99), eps=1e-4), dict(cautious=True),
                                  dict(cautious=True, amsgrad=True, decoupled_weight_decay=True)]),
    "AdamW": (dict(lr=0.01), 0.3, [{}, dict(amsgrad=True), dict(cautious=True)]),
    "Adamax": (dict(lr=0.02), 0.1, [{}, dict(betas=(0.8, 0.9), eps=1e-3), dict(cautious=True)]),
    "NAdam": (dict(lr=0.02), 0.1, [{}, dict(momentum_decay=0.1), dict(decoupled_weight_decay=True),
                                   dict(cautious=True)]),
    "RAdam": (dict(lr=0.01), 0.1, [{}, dict(decoupled_weight_decay=True), dict(betas=(0.8, 0.9)),
                                   dict(cautious=True, decoupled_weight_decay=True)]),
    "Lion": (dict(lr=1e-3), 0.5, [{}, dict(betas=(0.5, 0.9)), dict(cautious=True)]),
    "Yogi": (dict(lr=0.02), 0.1, [{}, dict(betas=(0.8, 0.9), eps=1e-4), dict(initial_accumulator_value=0.5),
                                  dict(cautious=True)]),
    "AdaBelief": (dict(lr=0.01), 0.1, [{}, dict(nesterov=True), dict(decoupled_weight_decay=True), dict(cautious=True),
                                       dict(betas=(0.8, 0.99), eps=1e-8, eps_root=1e-10)]),
    "ADOPT": (dict(lr=0.01), 0.1, [{}, dict(use_clipping=False, eps=0.1), dict(nesterov=True),
                                   dict(decoupled_weight_decay=True), dict(cautious=True),
                                   dict(betas=(0.8, 0.99), eps=1e-3)]),
    "AdEMAMix": (dict(lr=0.01), 0.1, [{}, dict(alpha_warmup=20, beta3_warmup=30),
                                      dict(betas=(0.0, 0.99, 0.999), alpha=5.0, beta3_warmup=10), dict(cautious=True)]),
    "Adan": (dict(lr=0.01), 0.1, [{}, dict(betas=(0.9, 0.8, 0.95), eps=1e-4), dict(cautious=True)]),
    "Rprop": (dict(lr=0.01), None, [{}, dict(etas=(0.3, 1.5), step_sizes=(1e-3, 0.05))]),
    "ASGD": (dict(lr=0.05), 0.1, [{}, dict(t0=10, lambd=0.01, alpha=0.5)]),
    "Ranger": (dict(lr=0.01), 0.1, [{}, dict(k=4, alpha=0.3)]),
    # (Muon's own matrix shapes: tests/test_optim_muon.py; here its vectors' AdamW and the generic 2-D and 3-D arrays)
    "Muon": (dict(lr=0.02, adamw_lr=0.01), 0.1, [{}, dict(nesterov=False), dict(adjust_lr_fn="match_rms_adamw"),
                                                 dict(momentum=0.5, ns_steps=3, adamw_betas=(0.8, 0.99),
                                                      adamw_eps=1e-6, adamw_weight_decay=0.2)]),
    "Adafactor": (dict(lr=0.05), 0.1, [{}, dict(beta2_decay=-0.5, eps=(1e-30, 1e-2), d=2.0)]),
    "LAMB": (dict(lr=0.01), 0.1, [{}, dict(betas=(0.8, 0.99), eps=1e-3, eps_root=1e-4)]),
    "LARS": (dict(lr=5.0), 0.1, [{}, dict(momentum=0.0), dict(nesterov=True), dict(trust_ratio=False, lr=0.05),
                                 dict(trust_coefficient=0.01, eps=0.5)]),
    "StableAdamW": (dict(lr=0.01), 0.1, [{}, dict(clip_threshold=0.5), dict(betas=(0.8, 0.9), eps=1e-3)]),
    "ScheduleFreeSGD": (dict(lr=0.05), 0.1, [{}, dict(warmup_steps=20, r=1.0), dict(momentum=0.5, weight_lr_power=0.0)]),
    "ScheduleFreeAdamW": (dict(lr=0.01), 0.1, [{}, dict(warmup_steps=10, r=0.5, weight_lr_power=1.0),
                                               dict(betas=(0.5, 0.99), eps=1e-4)]),
    "Prodigy": (dict(d0=1e-3), 0.1, [{}, dict(decouple=False), dict(betas=(0.0, 0.99)), dict(use_bias_correction=True),
                                     dict(safeguard_warmup=True, beta3=0.5, d_coef=0.5, growth_rate=1.05),
                                     dict(lr=0.5, eps=1e-4)]),
}
