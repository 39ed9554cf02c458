"""Independent NumPy float64 references of Shampoo and SOAP (the papers' and the reference
implementations' rules, written from them, not from fastopt's code), over a network given as its
layers' (W, b) pairs: each layer's matrix is [W, b], cut into blocks of sides at most max_dim."""
import numpy as np


def inverse_root(a, p, eps):
    """(A + eps I)^(-1/p) by eigh, negative eigenvalues (rounding) shifted up as Meta's Shampoo does."""
    d, q = np.linalg.eigh(a)
    d = d + max(0.0, -d.min()) + eps
    return (q * d ** (-1.0 / p)) @ q.T


def cuts(n, size):
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def block_slices(mat_shape, max_dim):
    return [(slice(r0, r1), slice(c0, c1)) for r0, r1 in cuts(mat_shape[0], max_dim)
            for c0, c1 in cuts(mat_shape[1], max_dim)]


class BlockedNetwork:
    """Params and the SGD with momentum and decoupled weight decay that both optimizers end with."""

    def __init__(self, params, max_dim, lr, momentum, weight_decay):
        self.params = [np.concatenate([w, b[:, None]], axis=1).astype(np.float64) for w, b in params]
        self.slices = [(i, s) for i, p in enumerate(self.params) for s in block_slices(p.shape, max_dim)]
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffer = None

    def blocks(self, grads):
        mats = [np.concatenate([gw, gb[:, None]], axis=1) for gw, gb in grads]
        return [mats[i][s].copy() for i, s in self.slices]

    def apply(self, directions):
        d = [np.zeros_like(p) for p in self.params]
        for (i, s), block in zip(self.slices, directions):
            d[i][s] = block
        d = [x + self.weight_decay * p for x, p in zip(d, self.params)]
        self.buffer = d if self.buffer is None else [self.momentum * b + x for b, x in zip(self.buffer, d)]
        self.params = [p - self.lr * b for p, b in zip(self.params, self.buffer)]

    def flat(self):
        return np.concatenate([np.concatenate([p[:, :-1].ravel(), p[:, -1]]) for p in self.params])


class ShampooReference:
    def __init__(self, params, lr=1e-2, betas=(0.9, 1.0), epsilon=1e-12, momentum=0.0, weight_decay=0.0,
                 max_preconditioner_dim=1024, precondition_frequency=1, start_preconditioning_step=-1,
                 grafting="adam", grafting_beta2=0.999, grafting_epsilon=1e-8, use_bias_correction=True, **_):
        self.net = BlockedNetwork(params, max_preconditioner_dim, lr, momentum, weight_decay)
        self.h = dict(betas=betas, epsilon=epsilon, freq=precondition_frequency, grafting=grafting,
                      gb2=grafting_beta2, geps=grafting_epsilon, bias=use_bias_correction,
                      start=precondition_frequency if start_preconditioning_step == -1 else start_preconditioning_step)
        shapes = [b.shape for b in self.net.blocks([(p[:, :-1], p[:, -1]) for p in self.net.params])]
        self.L = [np.zeros((m, m)) for m, _ in shapes]
        self.R = [np.zeros((n, n)) for _, n in shapes]
        self.Lr = [np.eye(m) for m, _ in shapes]
        self.Rr = [np.eye(n) for _, n in shapes]
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]
        self.t = 0

    def step(self, grads):
        h = self.h
        self.t += 1
        t, (b1, b2) = self.t, h["betas"]
        out = []
        for k, g in enumerate(self.net.blocks(grads)):
            if b2 == 1.0:
                self.L[k] += g @ g.T
                self.R[k] += g.T @ g
            else:
                self.L[k] = b2 * self.L[k] + (1 - b2) * g @ g.T
                self.R[k] = b2 * self.R[k] + (1 - b2) * g.T @ g
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            m_hat = self.m[k] / (1 - b1 ** t if h["bias"] else 1.0)
            self.v[k] = h["gb2"] * self.v[k] + (1 - h["gb2"]) * g * g
            v_hat = self.v[k] / (1 - h["gb2"] ** t if h["bias"] else 1.0)
            graft = {"adam": m_hat / (np.sqrt(v_hat) + h["geps"]), "sgd": m_hat, "none": None}[h["grafting"]]
            if t < h["start"]:
                out.append(m_hat if graft is None else graft)
                continue
            if (t - h["start"]) % h["freq"] == 0:
                c = 1 - b2 ** t if h["bias"] and b2 < 1 else 1.0
                self.Lr[k] = inverse_root(self.L[k] / c, 4, h["epsilon"])
                self.Rr[k] = inverse_root(self.R[k] / c, 4, h["epsilon"])
            p = self.Lr[k] @ m_hat @ self.Rr[k]
            if graft is not None:
                p = p * np.linalg.norm(graft) / (np.linalg.norm(p) + 1e-16)
            out.append(p)
        self.net.apply(out)


class SOAPReference:
    def __init__(self, params, lr=3e-3, betas=(0.95, 0.95), shampoo_beta=-1.0, eps=1e-8, weight_decay=0.01,
                 precondition_frequency=10, max_precond_dim=10000, correct_bias=True, eigenbasis_method="qr"):
        self.net = BlockedNetwork(params, max_precond_dim, lr, 0.0, weight_decay)
        self.h = dict(betas=betas, sb=betas[1] if shampoo_beta == -1 else shampoo_beta, eps=eps,
                      freq=precondition_frequency, bias=correct_bias, method=eigenbasis_method)
        self.t = 0
        self.state = None

    @staticmethod
    def eigenbasis(s):
        return np.linalg.eigh(s)[1][:, ::-1]

    def step(self, grads):
        h = self.h
        sb, (b1, b2) = h["sb"], h["betas"]
        blocks = self.net.blocks(grads)
        self.t += 1
        if self.state is None:
            self.state = []
            for g in blocks:
                L, R = (1 - sb) * g @ g.T, (1 - sb) * g.T @ g
                self.state.append(dict(L=L, R=R, QL=self.eigenbasis(L), QR=self.eigenbasis(R), m=np.zeros_like(g),
                                       v=np.zeros_like(g)))
            return
        k = self.t - 1
        out = []
        for g, s in zip(blocks, self.state):
            gp = s["QL"].T @ g @ s["QR"]
            s["m"] = b1 * s["m"] + (1 - b1) * gp
            s["v"] = b2 * s["v"] + (1 - b2) * gp * gp
            d = s["QL"] @ (s["m"] / (np.sqrt(s["v"]) + h["eps"])) @ s["QR"].T
            if h["bias"]:
                d = d * np.sqrt(1 - b2 ** k) / (1 - b1 ** k)
            out.append(d)
            s["L"] = sb * s["L"] + (1 - sb) * g @ g.T
            s["R"] = sb * s["R"] + (1 - sb) * g.T @ g
            if k % h["freq"] == 0:
                m = s["QL"] @ s["m"] @ s["QR"].T
                for side, stat, axis in (("QL", "L", 0), ("QR", "R", 1)):
                    if h["method"] == "eigen":
                        s[side] = self.eigenbasis(s[stat])
                        continue
                    q = s[side]
                    order = np.argsort(-np.diag(q.T @ s[stat] @ q), kind="stable")
                    s["v"] = np.take(s["v"], order, axis=axis)
                    s[side] = np.linalg.qr(s[stat] @ q[:, order])[0]
                s["m"] = s["QL"].T @ m @ s["QR"]
        self.net.apply(out)
