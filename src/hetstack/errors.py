"""Errors that users meet: one line naming the file or key, the problem and the fix."""


class HetstackError(ValueError):
    """A problem with the user's input or config; its message is a single line."""

    def __init__(self, where: str, problem: str, fix: str):
        self.where, self.problem, self.fix = str(where), problem, fix
        super().__init__(f"{where}: {problem}; fix: {fix}")


class DataError(HetstackError):
    """Bad bars in a data file."""


class ConfigError(HetstackError):
    """Bad configuration value."""
