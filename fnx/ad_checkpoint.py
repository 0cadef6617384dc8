"""``jax.ad_checkpoint``: rematerialisation with policies, and names for the values a policy keeps."""
from .transforms.custom import checkpoint, checkpoint_name, checkpoint_policies

remat = checkpoint

__all__ = ["checkpoint", "checkpoint_name", "checkpoint_policies", "remat"]
