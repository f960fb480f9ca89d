"""`Accounts`: API keys, admin rights, quotas and usage per model group, in `<proxy env>/accounts.jsonl`.

One JSON account per line. The original proxy's one-line form `{"api_key": "crfm"}` is a valid account;
the full form adds a description, emails, groups, `"is_admin": true` and usages:

    {"api_key": "...", "description": "team A", "is_admin": false,
     "usages": {"openai": {"daily": {"period": "2026-11-28", "used": 1200, "quota": 100000},
                           "monthly": {"period": "2026-11", "used": 5000, "quota": null},
                           "total": {"period": "all", "used": 9000, "quota": 1000000}}}}

A quota of null means no limit; usage of a past day or month counts as 0. Every change rewrites the file
atomically (temporary file + os.replace) under a thread lock and an exclusive lock on `accounts.jsonl.lock`,
re-reading the file first when another process changed it: checks and charges are exact across threads
and processes. Keys are compared in constant time and never appear in a message, a log or a repr.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hmac
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench import ConfigError
from serve._errors import AccountNotFoundError, AuthenticationError, PermissionDeniedError, QuotaExceededError

ACCOUNTS_FILE = "accounts.jsonl"
KEY_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 random bits

Granularity = Literal["daily", "monthly", "total"]
GRANULARITIES: tuple[Granularity, ...] = ("daily", "monthly", "total")


class Usage(BaseModel):
    """Tokens used in one period of one granularity, and the quota for that period."""

    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(default=None, description="'2026-11-28' (daily), '2026-11' (monthly), 'all'")
    used: int = Field(default=0, ge=0, description="tokens charged in the period")
    quota: int | None = Field(default=None, ge=0, description="tokens allowed in a period; null: no limit")


class Account(BaseModel):
    """One account: its key, who it is, whether it is an admin, and its quotas and usage per model group."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(repr=False, min_length=1, description="the secret that authenticates the account")
    description: str = Field(default="", description="who or what the account is for")
    emails: list[str] = Field(default_factory=list, description="contacts")
    groups: list[str] = Field(default_factory=list, description="groups the account belongs to")
    is_admin: bool = Field(default=False, description="may create accounts, change quotas and rotate any key")
    usages: dict[str, dict[Granularity, Usage]] = Field(
        default_factory=dict, description="model group -> granularity -> usage"
    )


def current_periods(now: float) -> dict[Granularity, str]:
    """The period names that `now` (unix time) falls in, in UTC."""
    day = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return {"daily": day.strftime("%Y-%m-%d"), "monthly": day.strftime("%Y-%m"), "total": "all"}


def new_api_key() -> str:
    """A long random key (256 bits, URL-safe) that never starts with '-': a command line would take
    `--api-key -x...` for an option (one key in 64 did)."""
    while (key := secrets.token_urlsafe(KEY_BYTES)).startswith("-"):
        pass
    return key


def _same_key(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Accounts:
    """The accounts file, safe for concurrent threads and processes."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        """Open the accounts in `path` (a folder holding accounts.jsonl, or the file itself).

        Raises:
            ConfigError: for a line that is not a valid account (file and line number; never its content).
        """
        path = Path(path)
        self.path = path / ACCOUNTS_FILE if path.is_dir() or not path.suffix else path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self.clock = clock
        self._lock = threading.RLock()
        self._accounts: list[Account] = []
        self._stamp: tuple[int, int, int] | None = None
        self._depth = 0  # how deep this thread is in _locked
        self._deferred = False  # in a batch: _save only marks the accounts dirty
        self._dirty = False
        with self._locked():
            pass

    # --- reading and writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the thread lock and the file lock, with the accounts re-read if another process changed them.

        Re-entrant in one thread (a `batch` holds it around many calls): the file is locked once, since a
        second flock on another descriptor of the same file would wait for this one forever.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with open(self._lock_path, "a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    self._reload_if_changed()
                    yield
                finally:
                    self._depth = 0
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Many calls under one lock, and one write of the file at the end instead of one per change.

        Each call stays atomic (a refused charge changes nothing); the changes of the batch reach the file
        together when it ends, even if some call raised. The proxy's accounts actor runs the calls that
        replicas coalesced into one round trip this way (`ServiceActor.call_many`).
        """
        with self._locked():
            self._deferred = True
            try:
                yield
            finally:
                self._deferred = False
                if self._dirty:
                    self._dirty = False
                    self._save()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _reload_if_changed(self) -> None:
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        accounts = []
        if stamp is not None:
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                if line.strip():
                    accounts.append(self._parse_line(line, number))
        self._accounts, self._stamp = accounts, stamp

    def _parse_line(self, line: str, number: int) -> Account:
        try:
            return Account.model_validate_json(line)
        except ValidationError as error:
            problems = "; ".join(
                f"key {'.'.join(map(str, e['loc'])) or '(line)'!r}: {e['msg']}" for e in error.errors()
            )
            raise ConfigError(f"{self.path}:{number}", f"invalid account ({problems}; the line is not shown)") from None

    def _save(self) -> None:
        """Write every account to a temporary file, then move it over the file in one step (in a `batch`: at
        its end)."""
        if self._deferred:
            self._dirty = True
            return
        text = "".join(a.model_dump_json(exclude_defaults=False) + "\n" for a in self._accounts)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        self._stamp = self._file_stamp()

    def _find(self, api_key: str) -> Account | None:
        """The account with this key; every account is compared (constant time, no early exit)."""
        found = None
        for account in self._accounts:
            if _same_key(account.api_key, api_key) and found is None:
                found = account
        return found

    def _caller(self, api_key: str) -> Account:
        account = self._find(api_key)
        if account is None:
            raise AuthenticationError()
        return account

    def _target(self, caller: Account, api_key: str | None, action: str) -> Account:
        """The account an action is about: the caller's own, or (admins only) another one."""
        if api_key is None or _same_key(api_key, caller.api_key):
            return caller
        if not caller.is_admin:
            raise PermissionDeniedError(action)
        target = self._find(api_key)
        if target is None:
            raise AccountNotFoundError()
        return target

    # --- public API ------------------------------------------------------------------------------------------

    def authenticate(self, api_key: str) -> Account:
        """The account this key opens (a copy).

        Raises:
            AuthenticationError: if no account has the key (the key is not shown).
        """
        with self._locked():
            return self._current(self._caller(api_key))

    def get_account(self, caller_key: str, api_key: str | None = None) -> Account:
        """The caller's account, or (admins only) the account with `api_key`; usage of past periods reads 0.

        Raises:
            AuthenticationError, PermissionDeniedError, AccountNotFoundError.
        """
        with self._locked():
            return self._current(self._target(self._caller(caller_key), api_key, "reading another account"))

    def list_accounts(self, caller_key: str) -> list[Account]:
        """Every account (admins only).

        Raises:
            AuthenticationError, PermissionDeniedError.
        """
        with self._locked():
            if not self._caller(caller_key).is_admin:
                raise PermissionDeniedError("listing accounts")
            return [self._current(a) for a in self._accounts]

    def create_account(
        self,
        caller_key: str,
        *,
        description: str = "",
        is_admin: bool = False,
        quotas: dict[str, dict[Granularity, int | None]] | None = None,
    ) -> Account:
        """A new account with a fresh random key (admins only).

        Raises:
            AuthenticationError, PermissionDeniedError.
        """
        with self._locked():
            if not self._caller(caller_key).is_admin:
                raise PermissionDeniedError("creating an account")
            account = Account(api_key=new_api_key(), description=description, is_admin=is_admin)
            _set_quotas(account, quotas or {})
            self._accounts.append(account)
            self._save()
            return account.model_copy(deep=True)

    def create_local_account(self, description: str) -> Account:
        """A new ordinary (non-admin) account, for a trusted local caller: one that can write the state folder
        anyway, as `benchmark-run` on the proxy's own machine can. Remote callers use `create_account`."""
        with self._locked():
            account = Account(api_key=new_api_key(), description=description)
            self._accounts.append(account)
            self._save()
            return account.model_copy(deep=True)

    def ensure_admin(self, description: str = "first admin") -> str | None:
        """Create an admin account when there is none; its key (to show once), or None if an admin exists."""
        with self._locked():
            if any(a.is_admin for a in self._accounts):
                return None
            account = Account(api_key=new_api_key(), description=description, is_admin=True)
            self._accounts.append(account)
            self._save()
            return account.api_key

    def update_account(
        self,
        caller_key: str,
        api_key: str | None = None,
        *,
        description: str | None = None,
        is_admin: bool | None = None,
        quotas: dict[str, dict[Granularity, int | None]] | None = None,
    ) -> Account:
        """Change an account: anyone their own description; admins anything of any account.

        Raises:
            AuthenticationError, PermissionDeniedError, AccountNotFoundError.
        """
        with self._locked():
            caller = self._caller(caller_key)
            target = self._target(caller, api_key, "changing another account")
            if (is_admin is not None or quotas is not None) and not caller.is_admin:
                raise PermissionDeniedError("changing admin rights or quotas")
            if description is not None:
                target.description = description
            if is_admin is not None:
                target.is_admin = is_admin
            _set_quotas(target, quotas or {})
            self._save()
            return self._current(target)

    def rotate_key(self, caller_key: str, api_key: str | None = None) -> Account:
        """Give an account a new random key (the caller's own, or any account for an admin); the old one stops working.

        Raises:
            AuthenticationError, PermissionDeniedError, AccountNotFoundError.
        """
        with self._locked():
            target = self._target(self._caller(caller_key), api_key, "rotating another account's key")
            target.api_key = new_api_key()
            self._save()
            return self._current(target)

    def check_quota(self, api_key: str, model_group: str) -> bool:
        """Refuse before a request when any quota of `model_group` is already used up.

        Returns:
            Whether a quota limits the account's use of `model_group` (False: only its usage is counted).

        Raises:
            AuthenticationError, QuotaExceededError.
        """
        with self._locked():
            account = self._caller(api_key)
            self._check(account, model_group, 0)
            usages = account.usages.get(model_group, {})
            return any(usage.quota is not None for usage in usages.values())

    def charge(self, api_key: str, model_group: str, tokens: int) -> Account:
        """Add `tokens` to every period's usage of `model_group`, unless that would exceed a quota.

        Check and charge are one atomic step, so racing callers can never spend more than the quota.

        Raises:
            AuthenticationError; QuotaExceededError (nothing is charged); ValueError for negative tokens.
        """
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {tokens}")
        with self._locked():
            account = self._caller(api_key)
            self._check(account, model_group, tokens)
            self._add_usage(account, model_group, tokens)
            return self._current(account)

    def record_usage(self, api_key: str, model_group: str, tokens: int) -> None:
        """Add `tokens` used by an answer already given, never refused: past a quota, the usage shows it and
        the next `check_quota` refuses. (The proxy records this way for keys it last saw with no quota.)

        Raises:
            AuthenticationError; ValueError for negative tokens.
        """
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {tokens}")
        with self._locked():
            self._add_usage(self._caller(api_key), model_group, tokens)

    def _add_usage(self, account: Account, model_group: str, tokens: int) -> None:
        periods = current_periods(self.clock())
        group = account.usages.setdefault(model_group, {})
        for granularity in GRANULARITIES:
            usage = group.setdefault(granularity, Usage(period=periods[granularity]))
            if usage.period != periods[granularity]:
                usage.period, usage.used = periods[granularity], 0
            usage.used += tokens
        self._save()

    def _check(self, account: Account, model_group: str, tokens: int) -> None:
        periods = current_periods(self.clock())
        for granularity, usage in account.usages.get(model_group, {}).items():
            used = usage.used if usage.period == periods[granularity] else 0
            # with tokens == 0 (a check before a request) an exactly used-up quota refuses too
            if usage.quota is not None and (used + tokens > usage.quota or used >= usage.quota):
                raise QuotaExceededError(
                    model_group=model_group, granularity=granularity, used=used, quota=usage.quota, tokens=tokens
                )

    def _current(self, account: Account) -> Account:
        """A copy with past periods' usage shown as 0 in the current period."""
        copy = account.model_copy(deep=True)
        periods = current_periods(self.clock())
        for group in copy.usages.values():
            for granularity, usage in group.items():
                if usage.period != periods[granularity]:
                    usage.period, usage.used = periods[granularity], 0
        return copy


def _set_quotas(account: Account, quotas: dict[str, dict[Granularity, int | None]]) -> None:
    for model_group, by_granularity in quotas.items():
        group = account.usages.setdefault(model_group, {})
        for granularity, quota in by_granularity.items():
            if granularity not in GRANULARITIES:
                raise ValueError(f"quota granularity {granularity!r} is not one of {', '.join(GRANULARITIES)}")
            group.setdefault(granularity, Usage()).quota = quota
