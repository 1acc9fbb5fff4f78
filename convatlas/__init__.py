"""convatlas: CNNs and an image dataset in, a static HTML atlas of every layer and channel out."""
from .checkpoint import load_checkpoint

__version__ = "0.1.0"
__all__ = ["load_checkpoint", "__version__"]
