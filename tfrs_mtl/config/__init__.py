"""Frozen, validated configuration dataclasses for every configurable part. No TensorFlow."""

from tfrs_mtl.config.base import Config, ConfigError, require

__all__ = ["Config", "ConfigError", "require"]
