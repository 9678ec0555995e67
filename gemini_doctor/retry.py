"""Retry help that follows the cause: retry what waiting can fix, as long as Google asked, and nothing else.

    import tenacity
    from gemini_doctor.retry import tenacity_retry, tenacity_wait

    @tenacity.retry(retry=tenacity_retry, wait=tenacity_wait, stop=tenacity.stop_after_attempt(4), reraise=True)
    def make_image(prompt): ...

The most likely cause decides (`diagnose` ranks them): a per-minute quota, shared capacity, an overloaded model, a
500 or a deadline can pass with time; a daily quota, billing, a key, a parameter, a model name cannot, and are
never retried. The wait is RetryInfo's delay when Google sent one, else a bounded exponential backoff. tenacity is
not a dependency: the two adapters only read the `RetryCallState` tenacity hands them, and take the diagnoses a
guarded call's exception carries (else they diagnose the exception).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # gemini_doctor.api re-exports this module: it is imported when first used
    from gemini_doctor.api import Diagnosis

__all__ = ["BASE_WAIT", "MAX_WAIT", "retry_wait", "should_retry", "tenacity_retry", "tenacity_wait"]

BASE_WAIT = 1.0  # seconds before the first retry when Google named no delay
MAX_WAIT = 60.0  # the backoff's cap; a RetryInfo delay longer than `max_wait` means "do not retry now"


def _cause(diagnoses: Sequence[Diagnosis]) -> Diagnosis | None:
    """The most likely cause: the first error (warnings are about the request, not why it failed)."""
    return next((d for d in diagnoses if d.severity == "error"), None)


def should_retry(diagnoses: Sequence[Diagnosis], *, max_wait: float = 15 * 60) -> bool:
    """Whether retrying can help: the most likely cause is retryable, and any delay Google asked for is at most
    `max_wait` seconds (a one-day retryDelay is no reason to hold a request open)."""
    cause = _cause(diagnoses)
    if cause is None or not cause.retryable:
        return False
    return cause.retry_after is None or cause.retry_after <= max_wait


def retry_wait(
    diagnoses: Sequence[Diagnosis], attempt: int, *, base: float = BASE_WAIT, cap: float = MAX_WAIT
) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first): RetryInfo's delay when Google sent one,
    else `base * 2 ** (attempt - 1)` bounded by `cap`. Deterministic: add jitter on top if many clients share
    the quota."""
    cause = _cause(diagnoses)
    if cause is not None and cause.retry_after is not None:
        return max(0.0, float(cause.retry_after))
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


def _failure(retry_state: Any) -> BaseException | None:
    outcome = getattr(retry_state, "outcome", None)
    if outcome is None or not getattr(outcome, "failed", False):
        return None
    error = outcome.exception()
    return error if isinstance(error, BaseException) else None


def tenacity_retry(retry_state: Any) -> bool:
    """tenacity's `retry=`: retry a failed attempt when its cause is retryable (a result is never retried)."""
    from gemini_doctor.api import diagnose

    error = _failure(retry_state)
    return error is not None and should_retry(diagnose(error))


def tenacity_wait(retry_state: Any) -> float:
    """tenacity's `wait=`: RetryInfo's delay for the failed attempt, else the bounded backoff."""
    from gemini_doctor.api import diagnose

    error = _failure(retry_state)
    diagnoses = diagnose(error) if error is not None else []
    return retry_wait(diagnoses, int(getattr(retry_state, "attempt_number", 1)))
