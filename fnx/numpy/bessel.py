"""Modified Bessel functions of the first kind, orders 0 and 1: i0, i0e, i1, i1e.

NumPy has ``numpy.i0`` (behind ``numpy.kaiser``) and ``scipy.special`` has the
four; they are defined here once, as primitives, and ``fnx.scipy.special``
re-exports them. Each is computed in float64 from the Chebyshev expansions of
the exponentially scaled functions ``i0e(x) = exp(-|x|) i0(x)`` and
``i1e(x) = exp(-|x|) i1(x)`` on ``[0, 8]`` and ``(8, inf)`` (the Cephes
library's ``i0.c``/``i1.c`` coefficients, as NumPy's ``i0`` uses), then scaled
back by ``exp(|x|)`` where asked. Float32 input keeps its dtype.

The derivatives close over the family: ``i0' = i1`` and ``i1' = i0 - i1 / x``
(``i1 / x`` by its series near 0), and for the scaled ones ``i0e' = i1e - sign(x) i0e`` and
``i1e' = i0e - i1e / x - sign(x) i1e``. So derivatives of every order come
from these four primitives. The scaled functions have a kink at 0 (``|x|``).
"""
import numpy as np

from ._base import unary, unary_fn

__all__ = ["i0"]

# Chebyshev coefficients, highest degree first (Cephes i0.c, i1.c).
_I0_A = (-4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
         1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
         -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
         9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-9,
         -1.30002500998624804212e-8, 6.04699502254191894932e-8, -2.67079385394061173391e-7,
         1.11738753912010371815e-6, -4.41673835845875056359e-6, 1.64484480707288970893e-5,
         -5.75419501008210370398e-5, 1.88502885095841655729e-4, -5.76375574538582365885e-4,
         1.63947561694133579842e-3, -4.32430999505057594430e-3, 1.05464603945949983183e-2,
         -2.37374148058994688156e-2, 4.93052842396707084878e-2, -9.49010970480476444210e-2,
         1.71620901522208775349e-1, -3.04682672343198398683e-1, 6.76795274409476084995e-1)
_I0_B = (-7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
         3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
         1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
         -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
         7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
         -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
         3.39623202570838634515e-9, 2.26666899049817806459e-8, 2.04891858946906374183e-7,
         2.89137052083475648297e-6, 6.88975834691682398426e-5, 3.36911647825569408990e-3,
         8.04490411014108831608e-1)
_I1_A = (2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
         -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
         3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
         -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
         9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7,
         -8.56872026469545474066e-7, 3.47025130813767847674e-6, -1.32731636560394358279e-5,
         4.78156510755005422638e-5, -1.61760815825896745588e-4, 5.12285956168575772895e-4,
         -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
         2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1,
         -1.76416518357834055153e-1, 2.52587186443633654823e-1)
_I1_B = (7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
         -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
         -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
         4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
         -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
         3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
         -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7,
         -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
         7.78576235018280120474e-1)


def _chbevl(xp, t, coeffs):
    """The Chebyshev series ``coeffs`` (highest degree first, constant term halved) at ``t`` in [-2, 2]."""
    b0, b1, b2 = xp.zeros_like(t) + coeffs[0], 0.0, 0.0
    for c in coeffs[1:]:
        b2, b1 = b1, b0
        b0 = t * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _scaled(xp, x, small, large, times_y):
    """``exp(-|x|)`` times the function of ``|x|`` whose series are ``small`` (on [0, 8]) and ``large``."""
    y = xp.abs(x)
    low = xp.minimum(y, 8.0)
    near = _chbevl(xp, low / 2.0 - 2.0, small) * (low if times_y else 1.0)
    high = xp.maximum(y, 8.0)  # both ranges are evaluated; each on an argument clipped into its own
    far = _chbevl(xp, 32.0 / high - 2.0, large) / xp.sqrt(high)
    return xp.where(y <= 8.0, near, far)


def _float64_impl(f):
    def impl(xp, x):
        x64 = xp.asarray(x, dtype=xp.float64)
        with np.errstate(over="ignore"):
            return xp.asarray(f(xp, x64)).astype(x.dtype)
    return impl


def _i0e(xp, x):
    return _scaled(xp, x, _I0_A, _I0_B, False)


def _i1e(xp, x):
    out = _scaled(xp, x, _I1_A, _I1_B, True)
    return xp.where(x < 0, -out, out)


def _i0(xp, x):
    return _i0e(xp, x) * xp.exp(xp.abs(x))


def _i1(xp, x):
    return _i1e(xp, x) * xp.exp(xp.abs(x))


def _over_x(v, x, scaled):
    """``v / x`` for ``v`` = i1 (or i1e, ``scaled``). Near 0, where the quotient's own derivative would
    cancel catastrophically, it is the series ``i1(x) / x = 1/2 + x^2/16 + x^4/384 + x^6/18432`` (times
    ``exp(-|x|)`` when scaled), whose next term is below float64's resolution for ``|x| < 0.05``."""
    from .elementwise import abs as abs_, exp, less, where
    small = less(abs_(x), 0.05)
    s = where(small, x, 0.0)
    s2 = s * s
    series = 0.5 + s2 * (1.0 / 16.0 + s2 * (1.0 / 384.0 + s2 * (1.0 / 18432.0)))
    if scaled:
        series = series * exp(-abs_(s))
    return where(small, series, v / where(small, 1.0, x))


def _sign(x):
    from .elementwise import sign
    return sign(x)


i0_p = unary("i0", _float64_impl(_i0), lambda x, out: i1_p.bind(x))
i1_p = unary("i1", _float64_impl(_i1), lambda x, out: i0_p.bind(x) - _over_x(out, x, False))
i0e_p = unary("i0e", _float64_impl(_i0e), lambda x, out: i1e_p.bind(x) - _sign(x) * out, smooth=False,
              kinks=lambda xp, x: xp.abs(x))
i1e_p = unary("i1e", _float64_impl(_i1e), lambda x, out: i0e_p.bind(x) - _over_x(out, x, True) - _sign(x) * out,
              smooth=False, kinks=lambda xp, x: xp.abs(x))

i0 = unary_fn(i0_p, kinds="f", doc="""The modified Bessel function of the first kind, order 0, as ``numpy.i0``.

    Integer input gives float64; float32 stays float32. Differentiable to any
    order (``i0' = i1``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnp.i0(fnp.array([0., 1.], dtype="float64"))
    Array([1.        , 1.26606588], dtype=float64)
    """)
