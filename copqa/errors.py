"""Errors copqa raises on purpose. Every message says what happened and what to do.

CopqaError
├── ConfigError            a setting is missing or wrong
├── ModelMismatchError     the store was built with another embedding model
├── StoreError             the vector store or the catalog cannot be used
├── LLMUnavailableError    the configured LLM did not answer
├── UnreadableSourceError  a path given to ingest cannot be read at all
├── TooManyAttemptsError   too many failed sign-ins for one name lately; wait, then retry
├── QuestionTooLongError   a question (or the conversation sent with it) is over the limits
└── AccessDeniedError      the signed-in account's role does not allow this
"""


class CopqaError(Exception):
    """Base of every error copqa raises deliberately."""


class ConfigError(CopqaError):
    pass


class ModelMismatchError(CopqaError):
    pass


class StoreError(CopqaError):
    pass


class LLMUnavailableError(CopqaError):
    pass


class UnreadableSourceError(CopqaError):
    pass


class TooManyAttemptsError(CopqaError):
    pass


class QuestionTooLongError(CopqaError):
    pass


class AccessDeniedError(CopqaError):
    pass
