"""One error hierarchy for expected failures.

Each error carries a stable ``code``, the HTTP status the API answers with, the
exit code the CLI ends with, and a message that says what is wrong and what to
do. The API and the CLI turn them into output in one place each.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INVALID_INPUT = 2
    UNSUPPORTED_INPUT = 3
    KNOWLEDGE_BASE = 4
    INTERNAL = 5


class PharmaError(Exception):
    code = "error"
    http_status = 500
    exit_code = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InvalidInput(PharmaError):
    """The request or file is readable but its content is wrong."""

    code = "invalid_input"
    http_status = 422
    exit_code = ExitCode.INVALID_INPUT


class MalformedInput(InvalidInput):
    """The request or file cannot be read at all (bad JSON, bad encoding)."""

    code = "malformed_input"
    http_status = 400


class UnsupportedInput(PharmaError):
    """A file type or format the service does not read."""

    code = "unsupported_input"
    http_status = 415
    exit_code = ExitCode.UNSUPPORTED_INPUT


class InputTooLarge(PharmaError):
    code = "input_too_large"
    http_status = 413
    exit_code = ExitCode.INVALID_INPUT


class KnowledgeBaseError(PharmaError):
    """The knowledge base or referential failed validation: names the file and key."""

    code = "knowledge_base_invalid"
    http_status = 500
    exit_code = ExitCode.KNOWLEDGE_BASE
