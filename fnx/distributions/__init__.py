"""fnx.distributions: probability distributions with PyTorch's ``torch.distributions`` interface.

A distribution is an object holding fnx arrays (its parameters) and methods
that are fnx computations over them: ``sample``/``rsample`` draw,
``log_prob`` scores, ``entropy``, ``cdf``, ``mean``, ``variance`` and friends
summarise, and ``kl_divergence(p, q)`` compares two. Class names, constructor
arguments, properties, shapes (``batch_shape``, ``event_shape``) and argument
validation follow PyTorch, so code ports by changing its imports::

    import fnx
    from fnx.distributions import Normal, kl_divergence

    loc = fnx.nn.Parameter(fnx.numpy.zeros(3))
    d = Normal(loc, 1.0)
    loss = -d.log_prob(fnx.numpy.ones(3)).sum()
    loss.backward()            # loc.grad is -1 everywhere

The same objects serve the functional face: inside ``fnx.grad`` or ``fnx.jit``
a distribution is built from traced parameters and differentiates like any
other fnx code. Draws come from the global generator (``fnx.manual_seed``)
unless ``sample``/``rsample`` get an explicit ``key=`` (an fnx extension; pass
one under ``jit`` and ``vmap`` so each call draws afresh). ``rsample`` is the
reparameterised draw (``has_rsample``), differentiable in the parameters;
``sample`` is its constant twin.

>>> import fnx
>>> from fnx.distributions import Normal, kl_divergence
>>> fnx.grad(lambda mu: Normal(mu, 1.0).log_prob(fnx.numpy.array(1.0)))(fnx.numpy.array(0.0))
Array(1., dtype=float32)
"""
from . import constraints, transforms
from .continuous import Cauchy, Exponential, Laplace, Normal, Uniform
from .discrete import Bernoulli, Binomial, Categorical, OneHotCategorical, OneHotCategoricalStraightThrough, Poisson
from .distribution import Distribution
from .gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from .independent import Independent
from .mixture import MixtureSameFamily
from .more import (ContinuousBernoulli, Geometric, InverseGamma, Kumaraswamy, LowRankMultivariateNormal, Multinomial,
                   NegativeBinomial, Pareto, VonMises, Weibull)
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .transformed import (ExpRelaxedCategorical, Gumbel, HalfCauchy, HalfNormal, LogitRelaxedBernoulli, LogNormal,
                          RelaxedBernoulli, RelaxedOneHotCategorical, TransformedDistribution)
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, PowerTransform,
                         SigmoidTransform, SoftplusTransform, TanhTransform, Transform, identity_transform)

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet", "Distribution",
    "ExpRelaxedCategorical", "Exponential", "Gamma", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "Laplace",
    "LogNormal", "MixtureSameFamily",
    "LogitRelaxedBernoulli", "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough",
    "Poisson", "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution", "Uniform",
    "kl_divergence", "register_kl", "constraints", "transforms",
    "AbsTransform", "AffineTransform", "ComposeTransform", "ExpTransform", "PowerTransform", "SigmoidTransform",
    "SoftplusTransform", "TanhTransform", "Transform", "identity_transform",
    "ContinuousBernoulli", "Geometric", "InverseGamma", "Kumaraswamy", "LowRankMultivariateNormal", "Multinomial",
    "NegativeBinomial", "Pareto", "VonMises", "Weibull",
]


def _torch_module_names():
    """``torch.distributions``' submodules (``from fnx.distributions.normal import Normal``), each holding the
    names PyTorch's holds. fnx's own files are named by family; these are views of the package's names."""
    import sys
    import types
    modules = {
        "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"], "categorical": ["Categorical"],
        "cauchy": ["Cauchy"], "chi2": ["Chi2"], "dirichlet": ["Dirichlet"], "exponential": ["Exponential"],
        "gumbel": ["Gumbel"], "half_cauchy": ["HalfCauchy"], "half_normal": ["HalfNormal"], "laplace": ["Laplace"],
        "log_normal": ["LogNormal"], "mixture_same_family": ["MixtureSameFamily"], "normal": ["Normal"],
        "one_hot_categorical": ["OneHotCategorical", "OneHotCategoricalStraightThrough"], "poisson": ["Poisson"],
        "relaxed_bernoulli": ["RelaxedBernoulli", "LogitRelaxedBernoulli"],
        "relaxed_categorical": ["RelaxedOneHotCategorical", "ExpRelaxedCategorical"], "studentT": ["StudentT"],
        "transformed_distribution": ["TransformedDistribution"], "uniform": ["Uniform"],
        "geometric": ["Geometric"], "negative_binomial": ["NegativeBinomial"], "multinomial": ["Multinomial"],
        "pareto": ["Pareto"], "weibull": ["Weibull"], "kumaraswamy": ["Kumaraswamy"], "inverse_gamma": ["InverseGamma"],
        "lowrank_multivariate_normal": ["LowRankMultivariateNormal"], "von_mises": ["VonMises"],
        "continuous_bernoulli": ["ContinuousBernoulli"],
    }
    package = sys.modules[__name__]
    for name, members in modules.items():
        full = f"{__name__}.{name}"
        if full in sys.modules or hasattr(package, name):  # a real file of that name (gamma, kl...) stands
            continue
        module = types.ModuleType(full, f"``torch.distributions.{name}``: {', '.join(members)}.")
        for member in members:
            setattr(module, member, getattr(package, member))
        sys.modules[full] = module
        setattr(package, name, module)


_torch_module_names()
