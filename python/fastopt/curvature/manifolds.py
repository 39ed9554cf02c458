"""Manifolds embedded in a Euclidean space, with the metric they inherit: the interface and what every
manifold shares.  The sphere is in :mod:`.sphere`, the Stiefel manifold in :mod:`.stiefel`.

Every manifold here is a submanifold of R^(shape) with the embedded (Euclidean) metric
``<u, v> = sum(u * v)``, so

- the tangent space at ``x`` is the kernel of the differential of the defining equations,
- the Riemannian gradient is the orthogonal projection of the Euclidean one onto it
  (``egrad_to_rgrad = project``), Absil, Mahony & Sepulchre 2008, eq. (3.37); Boumal 2023, Prop. 3.61,
- vector transport from ``x`` to ``y`` is projection onto the tangent space at ``y``
  (Absil et al. 2008, Sec. 8.1.3; Boumal 2023, Sec. 10.5),
- a retraction ``R_x(u)`` maps a tangent vector back to the manifold with ``R_x(0) = x`` and
  ``d/dt R_x(t u)|_{t=0} = u`` (Absil et al. 2008, Def. 4.1.1; Boumal 2023, Def. 3.47).

Small dense NumPy (float64) throughout: these are the points of a Riemannian optimizer, not the
parameters of a network.

References
----------
P.-A. Absil, R. Mahony and R. Sepulchre, *Optimization Algorithms on Matrix Manifolds*, Princeton
University Press, 2008.
N. Boumal, *An Introduction to Optimization on Smooth Manifolds*, Cambridge University Press, 2023.
"""
from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

import numpy as np


def positive_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int, checked to be an integer (not a bool) of at least ``minimum``; ``name`` is the
    argument's name in the TypeError or ValueError raised otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def as_real_array(value, name: str, shape: tuple) -> np.ndarray:
    """``value`` as a float64 array of ``shape`` with finite entries (a copy only where needed).

    Parameters
    ----------
    value : array_like
        Real numbers (bool, integer or floating point).
    name : str
        How the messages name the argument.
    shape : tuple of int
        The shape it must have.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    TypeError
        If ``value`` is not an array of real numbers (complex, strings, objects).
    ValueError
        If its shape is not ``shape`` or it holds NaN or an infinity.
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged sequences
        raise TypeError(f"{name}: expected an array of real numbers, got {type(value).__name__}") from error
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected an array of real numbers, got dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {array.shape}")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains non-finite values (NaN or inf)")
    return array


class Manifold(ABC):
    """A submanifold of R^shape with the embedded metric: what a Riemannian optimizer needs of it.

    Subclasses define :attr:`shape`, :attr:`dim`, :attr:`retractions` (the first is the default) and
    :meth:`project`, :meth:`_retract`, :meth:`proj_point`, :meth:`distance_from_manifold` and
    :meth:`random_point`; :meth:`exp` where the exponential map has a closed form.

    Attributes
    ----------
    shape : tuple of int
        The shape of a point (and of a tangent vector) as a NumPy array.
    dim : int
        The manifold's dimension (of every tangent space).
    retractions : tuple of str
        The names :meth:`retract` accepts; the first is the default.
    atol : float
        How far from the manifold (:meth:`distance_from_manifold`) a point may be and still be
        accepted by :meth:`check_point`.
    """

    shape: tuple = ()
    dim: int = 0
    retractions: tuple = ()
    atol: float = 1e-10

    # --------------------------------------------------------------------- to be defined by subclasses
    @abstractmethod
    def project(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Orthogonal projection of an ambient vector ``u`` onto the tangent space at ``x``.

        Parameters
        ----------
        x : numpy.ndarray
            A point of the manifold.
        u : numpy.ndarray
            A vector of the ambient space, of the same shape.

        Returns
        -------
        numpy.ndarray
            ``P_x(u)``, a new array.
        """

    @abstractmethod
    def _retract(self, x: np.ndarray, u: np.ndarray, method: str) -> np.ndarray:
        """``retract`` after its checks: the retraction ``method`` (one of ``retractions``) at ``x``."""

    @abstractmethod
    def proj_point(self, x: np.ndarray) -> np.ndarray:
        """The closest point of the manifold to an ambient point ``x`` (a new array)."""

    @abstractmethod
    def distance_from_manifold(self, x) -> float:
        """How far ``x`` is from satisfying the manifold's defining equations (0 on the manifold)."""

    @abstractmethod
    def random_point(self, rng=None) -> np.ndarray:
        """A point drawn from the uniform (Haar) distribution on the manifold.

        Parameters
        ----------
        rng : numpy.random.Generator or int, optional
            The generator, or a seed for ``numpy.random.default_rng``.
        """

    # --------------------------------------------------------------------- shared
    def egrad_to_rgrad(self, x: np.ndarray, egrad: np.ndarray) -> np.ndarray:
        """The Riemannian gradient from the Euclidean one: ``grad f(x) = P_x(egrad)``.

        For a submanifold with the embedded metric the Riemannian gradient of ``f`` is the
        projection onto the tangent space of the gradient of any smooth extension of ``f``
        (Absil et al. 2008, eq. (3.37); Boumal 2023, Prop. 3.61).

        Parameters
        ----------
        x : numpy.ndarray
            A point of the manifold.
        egrad : numpy.ndarray
            The Euclidean gradient of the extension of ``f`` at ``x``.

        Returns
        -------
        numpy.ndarray
            A tangent vector at ``x``, a new array.
        """
        return self.project(x, egrad)

    def retract(self, x: np.ndarray, u: np.ndarray, method: str | None = None) -> np.ndarray:
        """Move from ``x`` along the tangent vector ``u`` and land on the manifold: ``R_x(u)``.

        A retraction agrees with the exponential map to first order: ``R_x(0) = x`` and
        ``d/dt R_x(t u)|_{t=0} = u`` (Absil et al. 2008, Def. 4.1.1).

        Parameters
        ----------
        x : numpy.ndarray
            A point of the manifold.
        u : numpy.ndarray
            A tangent vector at ``x``.
        method : str, optional
            One of :attr:`retractions` (default: the first).

        Returns
        -------
        numpy.ndarray
            A new point of the manifold.
        """
        return self._retract(x, u, self.check_retraction(method))

    def check_retraction(self, method, name: str = "method") -> str:
        """The retraction's name, the default for None; ValueError naming ``name`` if ``method`` is unknown."""
        if method is None:
            return self.retractions[0]
        if not isinstance(method, str) or method not in self.retractions:
            raise ValueError(f"{name}: unknown retraction {method!r} for {self!r}; expected one of "
                             f"{', '.join(map(repr, self.retractions))}")
        return method

    def transport(self, x: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Vector transport by projection: ``T_{x->y}(v) = P_y(v)``.

        Moves a tangent vector at ``x`` to the tangent space at ``y``; for the embedded metric the
        projection is a valid vector transport (Absil et al. 2008, Sec. 8.1.3; Boumal 2023, Sec. 10.5).
        It is not an isometry: ``|P_y(v)| <= |v|``.

        Parameters
        ----------
        x : numpy.ndarray
            The point ``v`` is tangent at (unused by projection; kept for the transport's signature).
        y : numpy.ndarray
            The point to move ``v`` to.
        v : numpy.ndarray
            A tangent vector at ``x``.

        Returns
        -------
        numpy.ndarray
            A tangent vector at ``y``, a new array.
        """
        return self.project(y, v)

    def inner(self, x: np.ndarray, u: np.ndarray, v: np.ndarray) -> float:
        """The Riemannian metric at ``x``, here the embedded one: ``<u, v>_x = sum(u * v)``.

        Parameters
        ----------
        x : numpy.ndarray
            A point of the manifold.
        u, v : numpy.ndarray
            Tangent vectors at ``x``.

        Returns
        -------
        float
        """
        return float(np.vdot(u, v))

    def norm(self, x: np.ndarray, u: np.ndarray) -> float:
        """``|u|_x = sqrt(<u, u>_x)``.

        Parameters
        ----------
        x : numpy.ndarray
            A point of the manifold.
        u : numpy.ndarray
            A tangent vector at ``x``.

        Returns
        -------
        float
        """
        return float(np.linalg.norm(u))

    def random_tangent(self, x: np.ndarray, rng=None) -> np.ndarray:
        """A random tangent vector at ``x`` of unit norm (a projected Gaussian, normalised).

        Parameters
        ----------
        x : numpy.ndarray
            A point of the manifold.
        rng : numpy.random.Generator or int, optional
            The generator, or a seed.
        """
        rng = np.random.default_rng(rng)
        u = self.project(x, rng.standard_normal(self.shape))
        return u / np.linalg.norm(u)

    def check_point(self, x, name: str = "x", writeable: bool = False) -> np.ndarray:
        """Check that ``x`` is a point of this manifold and return it as a float64 array.

        Parameters
        ----------
        x : array_like
            The point; with ``writeable=True`` it must be a float64 ``numpy.ndarray`` that can be
            updated in place.
        name : str, default "x"
            How the messages name the argument.
        writeable : bool, default False
            Require an array an optimizer can update in place.

        Returns
        -------
        numpy.ndarray
            ``x`` itself when ``writeable``, else a float64 view or copy.

        Raises
        ------
        TypeError
            If ``x`` is not real numbers, or (``writeable``) not a float64 ``numpy.ndarray``.
        ValueError
            If its shape is wrong, an entry is not finite, it is read-only (``writeable``), or it is
            farther than :attr:`atol` from the manifold.
        """
        if writeable:
            if not isinstance(x, np.ndarray):
                raise TypeError(f"{name}: expected a numpy.ndarray (it is updated in place), got {type(x).__name__}")
            if x.dtype != np.float64:
                raise TypeError(f"{name}: expected a float64 array (it is updated in place), got dtype {x.dtype}")
            if not x.flags.writeable:
                raise ValueError(f"{name}: the array is read-only; it is updated in place")
        array = as_real_array(x, name, self.shape)
        distance = self.distance_from_manifold(array)
        if not distance <= self.atol:
            raise ValueError(f"{name}: not a point of {self!r}: {self._defining_equation} is off by {distance:.3g} "
                             f"(tolerance {self.atol:g})")
        return x if writeable else array

    def check_tangent(self, x: np.ndarray, u, name: str = "u") -> np.ndarray:
        """``u`` as a float64 array of the manifold's shape with finite entries; TypeError/ValueError naming it.

        Tangency is not checked (an ambient vector is projected where that is meant).
        """
        return as_real_array(u, name, self.shape)

    _defining_equation = "the defining equation"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.shape == self.shape

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.shape))


__all__ = ["Manifold", "as_real_array", "positive_int"]
