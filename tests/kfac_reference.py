"""Independent NumPy float64 references for the K-FAC family (tests/test_kfac*.py): a ReLU MLP's per-example
layer statistics, Kronecker factors by explicit outer products, dense Kronecker preconditioners, EKFAC's
per-example projections."""
import numpy as np


def weights(model):
    """[(W (out, in), b (out,))] per layer, float64 copies."""
    count = len(model.sizes) - 1
    return [(model.params[f"{i}.weight"].astype(np.float64), model.params[f"{i}.bias"].astype(np.float64))
            for i in range(count)]


def layer_statistics(model, x, y):
    """Per layer (a (B, in + 1), g (B, out)): homogeneous inputs and per-example dloss_i/dz for labels y (ReLU)."""
    x = np.asarray(x, np.float64)
    layers = weights(model)
    inputs, pre = [], []
    h = x
    for i, (w, b) in enumerate(layers):
        inputs.append(np.hstack([h, np.ones((len(h), 1))]))
        z = h @ w.T + b
        pre.append(z)
        h = np.maximum(z, 0.0) if i + 1 < len(layers) else z
    p = np.exp(h - h.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = p - np.eye(h.shape[1])[y]
    grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        grads[i] = dz
        if i:
            dz = (dz @ layers[i][0]) * (pre[i - 1] > 0)
    return list(zip(inputs, grads)), p


def running_average(batches, decay):
    """The factor after successive batch matrices: the first taken whole, then decay F + (1 - decay) batch."""
    factor = batches[0]
    for m in batches[1:]:
        factor = decay * factor + (1 - decay) * m
    return factor


def outer_mean(rows):
    """(1/B) sum_i r_i r_i^T by an explicit loop of outer products."""
    return sum(np.outer(r, r) for r in rows) / len(rows)


def layer_indices(model, layer):
    """Flat indices of layer's M = [W, b] (out, in + 1) in row-major order."""
    n_in, n_out, w, b = model._net.layers[layer]
    idx = np.empty((n_out, n_in + 1), np.int64)
    idx[:, :n_in] = w + np.arange(n_out)[:, None] * n_in + np.arange(n_in)[None, :]
    idx[:, n_in] = b + np.arange(n_out)
    return idx.reshape(-1)


def kron_eigen_precondition(a, g, m, damping):
    """mat((G (x) A + damping I)^-1 vec_row(M)): (A (x) G + damping I)^-1 vec(M) in row-major order, dense."""
    dense = np.kron(g, a) + damping * np.eye(g.shape[0] * a.shape[0])
    return np.linalg.solve(dense, m.reshape(-1)).reshape(m.shape)


def kron_inverse_precondition(a, g, m, shift_a, shift_g):
    """mat(((G + shift_g I)^-1 (x) (A + shift_a I)^-1) vec_row(M)), dense Kronecker product."""
    inv_a = np.linalg.inv(a + shift_a * np.eye(len(a)))
    inv_g = np.linalg.inv(g + shift_g * np.eye(len(g)))
    return (np.kron(inv_g, inv_a) @ m.reshape(-1)).reshape(m.shape)


def projected_squares(a_rows, g_rows, qa, qg):
    """(1/B) sum_i (Q_G^T g_i a_i^T Q_A)^2 by explicit per-example matrices."""
    return sum((qg.T @ np.outer(g, a) @ qa) ** 2 for a, g in zip(a_rows, g_rows)) / len(a_rows)
