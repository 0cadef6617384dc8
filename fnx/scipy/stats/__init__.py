"""fnx.scipy.stats: probability distributions as ``jax.scipy.stats`` has them, differentiable.

Each distribution is a module of plain functions (``norm.logpdf(x, loc, scale)``,
``poisson.logpmf(k, mu)``...) under JAX's names and argument names, written with
``fnx.numpy`` and ``fnx.scipy.special`` operations. So each one differentiates in
its data and in its parameters (the distribution functions built on
``gammainc``/``gammaincc`` excepted, in the shape parameter), batches under
``vmap`` and compiles under ``jit``.

>>> import fnx, fnx.scipy.stats as st
>>> fnx.grad(st.norm.logpdf, argnums=(0, 1, 2))(1.0, 0.0, 1.0)
(Array(-1., dtype=float32), Array(1., dtype=float32), Array(0., dtype=float32))
"""
from . import (bernoulli, beta, binom, cauchy, chi2, dirichlet, expon, gamma, geom, laplace, logistic,
               multivariate_normal, norm, poisson, t, truncnorm, uniform)
from ._summaries import ModeResult, mode, rankdata, sem

__all__ = ["bernoulli", "beta", "binom", "cauchy", "chi2", "dirichlet", "expon", "gamma", "geom", "laplace",
           "logistic", "multivariate_normal", "norm", "poisson", "t", "truncnorm", "uniform", "rankdata", "sem", "mode",
           "ModeResult"]
