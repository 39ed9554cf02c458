"""An independent NumPy implementation of fastopt.nn.MLP's ReLU network and of Adam, in float32.

The baseline of bench_mlp.py: NumPy's matrix products already run on OpenBLAS, so what fastopt
gains over it comes from fusing and threading the elementwise work and from fewer temporaries.
"""
import numpy as np


class NumpyMLP:
    """ReLU MLP with softmax cross-entropy; weights (out, in) and biases in one flat float32 buffer."""

    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        shapes = [((o, i), (o,)) for i, o in zip(sizes[:-1], sizes[1:])]
        total = sum(o * i + o for (o, i), _ in shapes)
        self.flat_params = np.zeros(total, np.float32)
        self.flat_grads = np.zeros(total, np.float32)
        self.weights, self.biases, self.dweights, self.dbiases = [], [], [], []
        offset = 0
        for (o, i), _ in shapes:
            for store, grads, shape in ((self.weights, self.dweights, (o, i)), (self.biases, self.dbiases, (o,))):
                n = int(np.prod(shape))
                store.append(self.flat_params[offset:offset + n].reshape(shape))
                grads.append(self.flat_grads[offset:offset + n].reshape(shape))
                offset += n
            self.weights[-1][...] = rng.standard_normal((o, i)) * np.sqrt(2.0 / i)

    def forward_backward(self, x, y):
        """Mean loss of the batch; fills the gradient buffer."""
        inputs, h = [], x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            inputs.append(h)
            h = h @ w.T
            h += b
            if i < last:
                np.maximum(h, 0.0, out=h)
        logits = h
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        total = logits.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = float(np.mean(np.log(total[:, 0]) - np.log(logits[rows, y])))
        dz = logits
        dz /= total
        dz[rows, y] -= 1.0
        dz /= len(y)
        for i in range(last, -1, -1):
            np.matmul(dz.T, inputs[i], out=self.dweights[i])
            dz.sum(axis=0, out=self.dbiases[i])
            if i > 0:
                dz = dz @ self.weights[i]
                dz *= inputs[i] > 0  # ReLU's slope from its output
        return loss


class NumpyAdam:
    """torch.optim.Adam's update on one flat buffer, in place."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m, self.v = np.zeros_like(params), np.zeros_like(params)
        self.tmp = np.empty_like(params)

    def step(self, grads):
        b1, b2 = self.betas
        self.t += 1
        self.m *= b1
        self.m += (1 - b1) * grads
        self.v *= b2
        np.multiply(grads, grads, out=self.tmp)
        self.tmp *= 1 - b2
        self.v += self.tmp
        np.sqrt(self.v, out=self.tmp)
        self.tmp /= np.sqrt(1 - b2 ** self.t)
        self.tmp += self.eps
        np.divide(self.m, self.tmp, out=self.tmp)
        self.tmp *= self.lr / (1 - b1 ** self.t)
        self.params -= self.tmp
