"""Errors caused by user input. The CLI prints them as one line, without a traceback."""


class MtrlError(Exception):
    """Base class of errors the user can fix (bad config, bad path, bad checkpoint)."""


class ConfigError(MtrlError):
    """A config file or override is missing, malformed, or has an unknown key or a wrong type."""


class CheckpointError(MtrlError):
    """A checkpoint is missing, corrupt, or does not fit the configured architecture."""


class RunDirError(MtrlError):
    """A run directory would be overwritten, or does not hold a run."""


class NonFiniteLossError(MtrlError):
    """A loss became NaN or infinite during training."""
