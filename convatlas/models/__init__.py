"""Architectures: a small registry plus torchvision's models."""
from .registry import BUILDERS, build_model, check_arch

__all__ = ["BUILDERS", "build_model", "check_arch"]
