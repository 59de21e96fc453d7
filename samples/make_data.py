"""Generate the input data of every sample folder (fixed seeds, plain NumPy).

Run from anywhere:  python samples/make_data.py

Each array NAME of a sample is written three ways into its folder: NAME.npy, NAME.csv
(comma-separated; a vector is one column) and, bundled by name, inputs.npz. The data are
small (sizes 3-6) so that printed results stay readable. Values are rounded to two
decimals so that the .csv files are exact copies of the .npy files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def rounded(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return np.round(scale * rng.standard_normal(shape), 2)


def sample_01(rng):
    # ||A*sigmoid(x)||^2: A is 4x3, x has length 3.
    return {"A": rounded(rng, 4, 3), "x": rounded(rng, 3)}


def sample_02(rng):
    # A*(B*V*relu(W*z)).^2 with A a 1x3 row: B 3x4, V 4x5, W 5x3, z of length 3.
    return {
        "A": np.abs(rounded(rng, 1, 3)),
        "B": rounded(rng, 3, 4, scale=0.5),
        "V": rounded(rng, 4, 5, scale=0.5),
        "W": rounded(rng, 5, 3),
        "z": rounded(rng, 3),
    }


def sample_03(rng):
    # beta*sum(abs(P'P - I)): P is 4x3, near (but not at) orthonormal columns: the
    # orthonormal factor of a random matrix plus a little noise. beta is given on the
    # command line.
    Q, _ = np.linalg.qr(rng.standard_normal((4, 3)))
    return {"P": np.round(Q + 0.1 * rng.standard_normal((4, 3)), 2)}


def sample_04(rng):
    # Deep linear network: X 4x5 (5 examples of 4 features), Y 2x5, W1 3x4, W2 3x3, W3 2x3.
    return {
        "X": rounded(rng, 4, 5),
        "Y": rounded(rng, 2, 5),
        "W1": rounded(rng, 3, 4, scale=0.5),
        "W2": rounded(rng, 3, 3, scale=0.5),
        "W3": rounded(rng, 2, 3, scale=0.5),
        "lambda": np.array(0.1),
    }


def sample_05(rng):
    # X + A .* sign(X): X and A are 3x3 (X has no zero entries).
    return {"X": rounded(rng, 3, 3), "A": rounded(rng, 3, 3)}


def sample_06(rng):
    # The same deep linear network as sample 04, on its own data.
    return sample_04(rng)


def sample_07(rng):
    # Logistic regression: X 6x3 (6 examples, 3 features), labels y in {0, 1}, weights w.
    X = rounded(rng, 6, 3)
    w_true = np.array([1.0, -2.0, 0.5])
    p = 1.0 / (1.0 + np.exp(-X @ w_true))
    y = (rng.uniform(size=6) < p).astype(float)
    return {"X": X, "y": y, "w": rounded(rng, 3, scale=0.5)}


def sample_08(rng):
    # Softmax cross-entropy: W 3x4 (3 classes, 4 features), x of length 4, one-hot y.
    y = np.zeros(3)
    y[1] = 1.0
    return {"W": rounded(rng, 3, 4, scale=0.5), "x": rounded(rng, 4), "y": y}


def _spd(rng, n: int) -> np.ndarray:
    """A well-conditioned SPD matrix with two-decimal entries, exactly symmetric."""
    b = rng.standard_normal((n, n))
    upper = np.triu(np.round(b @ b.T / n + np.eye(n), 2))
    return upper + np.triu(upper, 1).T


def sample_09(rng):
    # Gaussian log-likelihood of 5 samples (the columns of X, 3 features) with mean m, in
    # the covariance Sigma and in the precision Lambda (both SPD 3x3). m is the sample mean
    # exactly: the last column of X is chosen so.
    X = rounded(rng, 3, 5)
    m = np.round(X.mean(axis=1), 2)
    X[:, -1] = np.round(5 * m - X[:, :-1].sum(axis=1), 2)
    return {"X": X, "m": m, "Sigma": _spd(rng, 3), "Lambda": _spd(rng, 3)}


def sample_10(rng):
    # Attention fitted by least squares: Q 4x3 (4 queries), K 5x3 and V 5x2 (5 keys and
    # values), target Y 4x2, temperature c = sqrt(3) = 1.73 (the key width), rounded.
    return {"Q": rounded(rng, 4, 3), "K": rounded(rng, 5, 3), "V": rounded(rng, 5, 2),
            "Y": rounded(rng, 4, 2), "c": np.round(np.sqrt(3.0), 2)}


def sample_11(rng):
    # N x C cross-entropy: 6 examples (rows) of 4 features, 3 classes; one-hot labels Y,
    # logits Z = X W.
    X = rounded(rng, 6, 4)
    W = rounded(rng, 4, 3, scale=0.5)
    Y = np.eye(3)[rng.integers(0, 3, size=6)]
    return {"X": X, "W": W, "Y": Y, "Z": np.round(X @ W, 2)}


def sample_12(rng):
    # Gaussian-process regression: 6 inputs t about 1 apart on [0, 5], targets
    # y = sin(t) + noise, the squared-exponential kernel K_ij = exp(−(t_i − t_j)²/2)
    # (exactly symmetric, positive definite: its smallest eigenvalue is about 0.06), noise
    # standard deviation sigma = 0.3; all rounded to two decimals.
    t = np.round(np.linspace(0.0, 5.0, 6) + rng.uniform(-0.2, 0.2, 6), 2)
    K = np.round(np.exp(-0.5 * (t[:, None] - t[None, :]) ** 2), 2)
    y = np.round(np.sin(t) + 0.3 * rng.standard_normal(6), 2)
    return {"t": t, "K": K, "y": y, "sigma": np.float64(0.3)}


def sample_13(rng):
    # beta*sum(i: sum(abs(Phi[:, i, :]'*Phi[:, i, :] - I))): Phi is 4x3x3, an order-3
    # tensor whose 3 slices Phi[:, i, :] (4x3 each) are near (not at) orthonormal columns.
    # beta is given on the command line. A tensor has no .csv form: .npy and inputs.npz.
    slices = []
    for _ in range(3):
        Q, _ = np.linalg.qr(rng.standard_normal((4, 3)))
        slices.append(Q + 0.1 * rng.standard_normal((4, 3)))
    return {"Phi": np.round(np.stack(slices, axis=1), 2)}


def sample_14(rng):
    # Least squares with the bias as a column of ones: X 6x3 (6 examples, 3 features),
    # weights w (3), the bias beta and the targets y (6).
    return {"X": rounded(rng, 6, 3), "w": rounded(rng, 3), "beta": np.round(rng.normal(), 2),
            "y": rounded(rng, 6)}


SAMPLES = {
    "01-sigmoid-norm": (sample_01, 1),
    "02-relu-network": (sample_02, 2),
    "03-orthogonality-penalty": (sample_03, 3),
    "04-deep-linear-network": (sample_04, 4),
    "05-sign-jacobian": (sample_05, 5),
    "06-deep-linear-claim": (sample_06, 6),
    "07-logistic-regression": (sample_07, 7),
    "08-softmax-cross-entropy": (sample_08, 8),
    "09-gaussian-covariance": (sample_09, 9),
    "10-attention": (sample_10, 10),
    "11-nxc-cross-entropy": (sample_11, 11),
    "12-gaussian-process-chol": (sample_12, 12),
    "13-tensor-slices": (sample_13, 13),
    "14-block-matrices": (sample_14, 13),
}


def write_csv(path: Path, array: np.ndarray) -> None:
    array = np.asarray(array, dtype=float)
    if array.ndim < 2:
        array = array.reshape(-1, 1)  # a vector is one column; a scalar one cell
    np.savetxt(path, array, delimiter=",", fmt="%.15g")


def main() -> None:
    for folder, (make, seed) in SAMPLES.items():
        directory = HERE / folder
        directory.mkdir(exist_ok=True)
        arrays = make(np.random.default_rng(seed))
        for name, array in arrays.items():
            array = np.asarray(array, dtype=float)
            np.save(directory / f"{name}.npy", array)
            if array.ndim <= 2:  # a tensor (3+ axes) has no .csv form
                write_csv(directory / f"{name}.csv", array)
        np.savez(directory / "inputs.npz", **arrays)
        print(f"{folder}: " + ", ".join(f"{n} {np.shape(a)}" for n, a in arrays.items()))


if __name__ == "__main__":
    main()
