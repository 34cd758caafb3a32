"""Per-learner quotas: how often one learner may ask for work that costs a model call or
a worker's time, how many model tokens they may spend a day, and how many sockets and
long-polls they may hold open. One learner cannot spend for everyone (the providers'
rate limits are shared by all learners).

Counters live in Redis, shared by every process: the `limits` library's fixed windows
for the actions and the token budget, a sorted set of leased slots per learner for the
sockets and long-polls (a slot whose holder died runs out with its lease). Defaults come
from the settings (`QUOTA_*`); an admin's overrides for one learner (`flask users
set-quota`) are stored in `learner_quotas`; each process reads the whole (small) table at
most once per `QUOTA_OVERRIDE_CACHE_SECONDS`, so a turn costs no query for them however
many learners are talking.

A Redis outage lets requests through (logged), as the login throttle does: learners keep
talking while Redis is away, and the providers' own rate limit still holds.
"""
from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

import redis
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.storage import RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.config import Settings, get_settings
from domain.db import UNAVAILABLE_ERRORS, describe_unavailable, statement_scope
from domain.errors import Invalid, NotFound, RateLimited
from domain.models import LearnerQuota, User
from domain.redis_client import get_redis

log = logging.getLogger(__name__)

# What a learner asks for, each limited per minute and per day.
ACTIONS = ("turns", "hints", "transcripts", "letters", "journey_answers", "language_checks", "realtime_secrets")
_WINDOWS = {"minute": RateLimitItemPerMinute, "day": RateLimitItemPerDay}
_OVERRIDES_RETRY_SECONDS = 1.0  # after a failed read of the overrides, the next try
TOKENS_PER_DAY = "tokens_per_day"
SOCKETS = "sockets"
LONG_POLLS = "long_polls"
# Every limit's name: `turns_per_minute`, ..., `tokens_per_day`, `sockets`, `long_polls`.
# The setting is QUOTA_<NAME>; the CLI flag --<name-with-dashes>.
LIMIT_NAMES = tuple(f"{action}_per_{window}" for action in ACTIONS for window in _WINDOWS) + (
    TOKENS_PER_DAY, SOCKETS, LONG_POLLS)

BUDGET_EXHAUSTED = "budget_exhausted"  # why a turn was answered offline

# Lease of a socket's slot, renewed while it is open: a process that dies without closing
# its sockets frees their slots after this long.
SOCKET_LEASE_SECONDS = 300

# Take a slot in a learner's sorted set (member -> lease end) unless `cap` live ones are
# held: expired leases are dropped first. One round trip, atomic.
_TAKE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

_ACTION_WORDS = {
    "turns": "messages", "hints": "hint requests", "transcripts": "transcript segments", "letters": "penpal letters",
    "journey_answers": "journey answers", "language_checks": "language checks",
    "realtime_secrets": "voice sessions",
}


def default_limits(settings: Settings) -> dict[str, int]:
    return {name: getattr(settings, f"quota_{name}") for name in LIMIT_NAMES}


def validate_overrides(values: Mapping[str, int]) -> dict[str, int]:
    """Known limit names with non-negative integers, or Invalid naming the others."""
    problems = {name: ["Unknown quota."] for name in values if name not in LIMIT_NAMES}
    problems |= {name: ["Must be a whole number, 0 or more."] for name, value in values.items()
                 if name in LIMIT_NAMES and (not isinstance(value, int) or isinstance(value, bool) or value < 0)}
    if problems:
        raise Invalid("Some quotas are unknown or invalid.", code="invalid_quota", details=problems)
    return dict(values)


@dataclass
class Slot:
    """A socket's or long-poll's place among the learner's; `renew` while it lasts,
    `release` when it ends."""

    quotas: Quotas | None
    key: str
    member: str
    lease_seconds: int
    renewed_at: float = field(default_factory=time.monotonic)

    def renew(self) -> None:
        if self.quotas is None:
            return
        self.renewed_at = time.monotonic()
        try:
            self.quotas.redis.zadd(self.key, {self.member: time.time() + self.lease_seconds})
        except redis.RedisError:
            log.warning("could not renew a %s slot (Redis unavailable)", self.key.rsplit(":", 2)[-2])

    def release(self) -> None:
        if self.quotas is None:
            return
        try:
            self.quotas.redis.zrem(self.key, self.member)
        except redis.RedisError:
            pass  # the lease runs out by itself

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class Quotas:
    """The quota rules for every learner, on shared counters.

        quotas.spend(user_id, "turns")        # before storing a turn: RateLimited when over
        quotas.budget_exhausted(user_id)      # before calling a model for this learner
        quotas.record_tokens(user_id, 812)    # after a model call, from the usage fields
        slot = quotas.hold(user_id, SOCKETS)  # RateLimited when all are held
    """

    def __init__(self, *, storage: Storage, redis_client: redis.Redis | None, defaults: Mapping[str, int],
                 load_overrides: Callable[[], Mapping[uuid.UUID, Mapping[str, int]]], override_cache_seconds: float):
        self.redis = redis_client  # for the slots (sorted sets); None: no slot is ever refused
        self._limiter = FixedWindowRateLimiter(storage)
        self._defaults = dict(defaults)
        self._load_overrides = load_overrides
        self._cache_seconds = override_cache_seconds
        self._overrides: Mapping[uuid.UUID, Mapping[str, int]] = {}
        self._overrides_until = -math.inf
        self._lock = threading.Lock()
        self._take_slot = redis_client.register_script(_TAKE_SLOT) if redis_client is not None else None

    # --- a learner's limits ---------------------------------------------------------------

    def limits_for(self, user_id: uuid.UUID) -> dict[str, int]:
        """The defaults with the learner's overrides (every learner's, read at most once
        per cache period). While the database is unavailable the overrides last read
        stand (none before the first read): charging a paid answer's tokens must not
        fail it and make it paid for again."""
        now = time.monotonic()
        if now >= self._overrides_until:
            with self._lock:
                if now >= self._overrides_until:
                    try:
                        self._overrides = self._load_overrides()
                        self._overrides_until = now + self._cache_seconds
                    except UNAVAILABLE_ERRORS as error:
                        log.warning("quota overrides not read (%s): the last ones read stand for now",
                                    describe_unavailable(error))
                        self._overrides_until = now + min(self._cache_seconds, _OVERRIDES_RETRY_SECONDS)
        return {**self._defaults, **self._overrides.get(user_id, {})}

    # --- actions per minute and per day ---------------------------------------------------

    def spend(self, user_id: uuid.UUID, action: str) -> None:
        """Count one `action` of the learner's; RateLimited when the minute's or the day's
        quota is used up. (A refused request still counts in its window, which changes
        nothing: a fixed window ends when it would, whatever its count.)"""
        limits = self.limits_for(user_id)
        for window, item_class in _WINDOWS.items():
            name = f"{action}_per_{window}"
            item = item_class(limits[name])
            try:
                allowed = limits[name] > 0 and self._limiter.hit(item, "action", str(user_id), action)
            except redis.RedisError:
                log.warning("quota %s unavailable (Redis); letting the request through", name)
                return
            if not allowed:
                retry_after = self._retry_after(item, "action", str(user_id), action)
                raise RateLimited(
                    f"You have sent as many {_ACTION_WORDS[action]} as allowed per {window}; "
                    f"try again in {retry_after} s.",
                    code="quota_exceeded", retry_after=retry_after,
                    details={"quota": name, "limit": limits[name], "retry_after_seconds": retry_after})

    # --- the daily model-token budget -----------------------------------------------------

    def budget_exhausted(self, user_id: uuid.UUID) -> bool:
        """Whether the learner has spent today's model tokens (then they are answered offline)."""
        budget = self.limits_for(user_id)[TOKENS_PER_DAY]
        try:
            return budget <= 0 or not self._limiter.test(RateLimitItemPerDay(budget), "tokens", str(user_id))
        except redis.RedisError:
            log.warning("token budget unavailable (Redis); calling the model")
            return False

    def record_tokens(self, user_id: uuid.UUID, tokens: int) -> None:
        """Count tokens a provider reported for one of the learner's calls."""
        budget = self.limits_for(user_id)[TOKENS_PER_DAY]
        if tokens <= 0 or budget <= 0:
            return
        try:
            self._limiter.hit(RateLimitItemPerDay(budget), "tokens", str(user_id), cost=tokens)
        except redis.RedisError:
            log.warning("%d tokens of learner %s not counted (Redis unavailable)", tokens, user_id)

    # --- sockets and long-polls held at once ----------------------------------------------

    def hold(self, user_id: uuid.UUID, kind: str, *, lease_seconds: int) -> Slot:
        """A slot among the learner's `kind` (SOCKETS or LONG_POLLS) for `lease_seconds`
        (renewable); RateLimited when the learner holds as many as allowed."""
        cap = self.limits_for(user_id)[kind]
        if self.redis is None:
            return Slot(None, "", "", lease_seconds)
        key, member, now = f"parlons:quota:{kind}:{user_id}", uuid.uuid4().hex, time.time()
        try:
            taken = self._take_slot(keys=[key], args=[now, now + lease_seconds, cap, member, lease_seconds + 60])
        except redis.RedisError:
            log.warning("%s cap unavailable (Redis); letting the connection through", kind)
            return Slot(None, "", "", lease_seconds)
        if not taken:
            what = "sockets open" if kind == SOCKETS else "long-polls waiting"
            retry_after = 5 if kind == SOCKETS else 1
            raise RateLimited(f"You already have {cap} {what}, the most allowed; close one first.",
                              code=f"too_many_{kind}", retry_after=retry_after,
                              details={"quota": kind, "limit": cap, "retry_after_seconds": retry_after})
        return Slot(self, key, member, lease_seconds)

    def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        try:
            reset_at = self._limiter.get_window_stats(item, *identifiers).reset_time
        except redis.RedisError:
            return 60
        return max(1, math.ceil(reset_at - time.time()))


def openai_tokens(usage: Mapping | None) -> int:
    """Tokens an OpenAI answer reports (`usage.total_tokens`), 0 when it reports none."""
    return int((usage or {}).get("total_tokens") or 0)


def anthropic_tokens(usage: Mapping | None) -> int:
    """Tokens an Anthropic answer reports (`usage.input_tokens + output_tokens`)."""
    usage = usage or {}
    return int(usage.get("input_tokens") or 0) + int(usage.get("output_tokens") or 0)


# --- overrides, stored per learner ----------------------------------------------------

def load_overrides(db: Session) -> dict[uuid.UUID, dict[str, int]]:
    """Every learner's overrides: the admins' exceptions, a short table."""
    return {row.user_id: {name: value for name, value in row.limits.items() if name in LIMIT_NAMES}
            for row in db.scalars(select(LearnerQuota))}


def set_overrides(db: Session, *, email: str, values: Mapping[str, int | None]) -> tuple[uuid.UUID, dict[str, int]]:
    """Set (a value) or clear (None: back to the default) some of a learner's limits.
    Returns the learner's id and their overrides afterwards. NotFound without the account."""
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No account has the email {email}.", code="user_not_found")
    row = db.get(LearnerQuota, user.id, with_for_update=True)
    current = dict(row.limits) if row else {}
    current.update(validate_overrides({name: value for name, value in values.items() if value is not None}))
    for name in (name for name, value in values.items() if value is None):
        current.pop(name, None)
    if row is None:
        if current:
            db.add(LearnerQuota(user_id=user.id, limits=current))
    else:
        row.limits = current
    return user.id, current


@cache
def get_quotas() -> Quotas:
    """The process's quotas, on its Redis pool (forget it after a fork: `get_quotas.cache_clear()`)."""
    settings = get_settings()
    client = get_redis()

    def overrides() -> dict[uuid.UUID, dict[str, int]]:
        with statement_scope() as db:
            return load_overrides(db)

    return Quotas(storage=RedisStorage(settings.redis_url, connection_pool=client.connection_pool,
                                       key_prefix="parlons:quota"),
                  redis_client=client, defaults=default_limits(settings), load_overrides=overrides,
                  override_cache_seconds=settings.quota_override_cache_seconds)
