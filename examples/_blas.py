"""What the training examples share: one BLAS thread while they run."""
import contextlib


def single_threaded_blas():
    """Tiny matrices gain nothing from BLAS threads, and on a busy machine the threads' spinning
    can make each product many times slower; threadpoolctl comes with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
