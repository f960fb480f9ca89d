"""`Accounts`: API keys, admin rights, quotas and usage per model group, in `<proxy env>/accounts.jsonl`.

One JSON account per line. The original proxy's one-line form `{"api_key": "crfm"}` is a valid account (it
is migrated to the hashed form at the first write); the full form adds a description, emails, groups,
`"is_admin": true` and usages:

    {"key_hash": "sha256:<64 hex>", "description": "team A", "is_admin": false,
     "usages": {"openai": {"daily": {"period": "2026-11-28", "used": 1200, "quota": 100000},
                           "monthly": {"period": "2026-11", "used": 5000, "quota": null},
                           "total": {"period": "all", "used": 9000, "quota": 1000000}}}}

A quota of null means no limit; usage of a past day or month counts as 0. Every change rewrites the file
atomically (temporary file + os.replace, mode 0600) under a thread lock and an exclusive lock on
`accounts.jsonl.lock`, re-reading the file first when another process changed it: checks and charges are
exact across threads and processes.

Validation: a change is applied to a copy that is validated by `Account`, the model that reads the file, and
refused whole (`InvalidAccountError`, naming the field, the value and the rule) if it fails, so no write can
leave a line that the next load refuses. A line that does not load (edited by hand, a disk error) is logged
by file and line number, never its content, and skipped: the other accounts keep working; it is written back
unchanged, so nothing is lost before someone fixes it.

Keys are stored as SHA-256 digests (`key_hash`), never in plain text. A plain digest, not a password hash
(bcrypt, argon2) or a keyed one: the proxy's keys are 256 random bits, which no guessing reaches, and a slow
hash would cost milliseconds on every request; a key for an HMAC would have to live next to the file it
protects. (A hand-written weak key such as the original "crfm" is as guessable as it ever was: rotate it.)
A digest is compared in constant time; the plain key is shown once, in the answer that creates or rotates
it, and never in a message, a log or a repr.

Quotas are reserved before a request and settled after (`reserve`, `settle`): an in-flight reservation
counts as used, so racing requests can never together spend more than the quota, and the real usage
replaces the reservation when the answer is known. Reservations live in the memory of the process that
holds the accounts (the proxy's one accounts actor): a restart forgets them, which only frees quota.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from serve._errors import (
    AccountNotFoundError,
    AuthenticationError,
    InvalidAccountError,
    PermissionDeniedError,
    QuotaExceededError,
)
from serve._state_files import FILE_MODE, private_file, private_folder

ACCOUNTS_FILE = "accounts.jsonl"
KEY_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 random bits
KEY_HASH_PREFIX = "sha256:"

logger = logging.getLogger(__name__)

Granularity = Literal["daily", "monthly", "total"]
GRANULARITIES: tuple[Granularity, ...] = ("daily", "monthly", "total")


class Usage(BaseModel):
    """Tokens used in one period of one granularity, and the quota for that period."""

    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(default=None, description="'2026-11-28' (daily), '2026-11' (monthly), 'all'")
    used: int = Field(default=0, ge=0, description="tokens charged in the period")
    quota: int | None = Field(default=None, ge=0, description="tokens allowed in a period; null: no limit")


class Account(BaseModel):
    """One account: its key's digest, who it is, whether it is an admin, and its quotas and usage per model group."""

    model_config = ConfigDict(extra="forbid")

    api_key: str | None = Field(
        default=None,
        repr=False,
        min_length=1,
        description="the plain key: in an answer that creates or rotates it (once), or in a line of the "
        "original form (replaced by its key_hash at the first write)",
    )
    key_hash: str | None = Field(
        default=None, pattern=r"^sha256:[0-9a-f]{64}$", description="'sha256:' and the hex SHA-256 of the key"
    )
    description: str = Field(default="", description="who or what the account is for")
    emails: list[str] = Field(default_factory=list, description="contacts")
    groups: list[str] = Field(default_factory=list, description="groups the account belongs to")
    is_admin: bool = Field(default=False, description="may create accounts, change quotas and rotate any key")
    usages: dict[str, dict[Granularity, Usage]] = Field(
        default_factory=dict, description="model group -> granularity -> usage"
    )

    @model_validator(mode="after")
    def _has_a_key(self) -> Account:
        if self.key_hash is None and self.api_key is None:
            raise ValueError("an account needs 'key_hash' (or, in the original form, 'api_key')")
        if self.key_hash is not None and self.api_key is not None and hash_key(self.api_key) != self.key_hash:
            raise ValueError("'api_key' and 'key_hash' do not match")
        return self


def hash_key(api_key: str) -> str:
    """The stored form of a key: 'sha256:' and the hex SHA-256 of its UTF-8 bytes (see the module docstring)."""
    return KEY_HASH_PREFIX + hashlib.sha256(api_key.encode()).hexdigest()


@dataclass
class _Reservation:
    """Tokens held for a request in flight."""

    key_hash: str
    model_group: str
    tokens: int


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


def _same_hash(a: str | None, b: str) -> bool:
    return hmac.compare_digest((a or "").encode(), b.encode())


class Accounts:
    """The accounts file, safe for concurrent threads and processes."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        """Open the accounts in `path` (a folder holding accounts.jsonl, or the file itself); the folder is
        made private (0700). A line that is not a valid account is logged and skipped (see the module)."""
        path = Path(path)
        self.path = path / ACCOUNTS_FILE if path.is_dir() or not path.suffix else path
        private_folder(self.path.parent)
        self._lock_path = private_file(self.path.with_name(self.path.name + ".lock"))
        self.clock = clock
        self._lock = threading.RLock()
        self._accounts: list[Account] = []
        self._rejected: list[str] = []  # lines that did not load, written back as they were
        self._stamp: tuple[int, int, int] | None = None
        self._depth = 0  # how deep this thread is in _locked
        self._deferred = False  # in a batch: _save only marks the accounts dirty
        self._dirty = False
        self._reservations: dict[str, _Reservation] = {}
        self._reserved: dict[tuple[str, str], int] = defaultdict(int)  # (key hash, group) -> tokens held
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
        accounts: list[Account] = []
        rejected: list[str] = []
        if stamp is not None:
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                account = self._parse_line(line, number)
                if account is None:
                    rejected.append(line)
                else:
                    accounts.append(account)
        self._accounts, self._rejected, self._stamp = accounts, rejected, stamp

    def _parse_line(self, line: str, number: int) -> Account | None:
        """The account of one line, its key hashed (the original form's plain key is dropped from memory and
        from the file at the next write); None, logged, for a line that is not a valid account."""
        try:
            account = Account.model_validate_json(line)
        except ValidationError as error:
            logger.error(
                "%s:%d: invalid account skipped (%s; the line is not shown); the other accounts work, and the "
                "line is kept in the file until it is fixed or removed",
                self.path,
                number,
                _problems(error, show_values=False),
            )
            return None
        if account.api_key is not None:
            account.key_hash, account.api_key = hash_key(account.api_key), None
        return account

    def _save(self) -> None:
        """Write every account to a temporary file (0600), then move it over the file in one step (in a
        `batch`: at its end). Lines that did not load go back unchanged, after the accounts."""
        if self._deferred:
            self._dirty = True
            return
        lines = [a.model_dump_json(exclude={"api_key"}) for a in self._accounts] + self._rejected
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write("".join(line + "\n" for line in lines))
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        self._stamp = self._file_stamp()

    def _find(self, api_key: str) -> Account | None:
        """The account with this key; every account's digest is compared (constant time, no early exit)."""
        digest = hash_key(api_key)
        found = None
        for account in self._accounts:
            if _same_hash(account.key_hash, digest) and found is None:
                found = account
        return found

    def _caller(self, api_key: str) -> Account:
        account = self._find(api_key)
        if account is None:
            raise AuthenticationError()
        return account

    def _target(self, caller: Account, api_key: str | None, action: str) -> Account:
        """The account an action is about: the caller's own, or (admins only) another one, named by its key
        or by its `key_hash` (what an admin sees in the list of accounts)."""
        if api_key is None or _same_hash(caller.key_hash, hash_key(api_key)) or api_key == caller.key_hash:
            return caller
        if not caller.is_admin:
            raise PermissionDeniedError(action)
        target = self._find(api_key)
        if target is None and api_key.startswith(KEY_HASH_PREFIX):
            target = next((a for a in self._accounts if _same_hash(a.key_hash, api_key)), None)
        if target is None:
            raise AccountNotFoundError()
        return target

    def _replace(self, old: Account | None, new: Account) -> None:
        """Put `new` in place of `old` (or add it) and write the file."""
        if old is None:
            self._accounts.append(new)
        else:
            self._accounts[self._accounts.index(old)] = new
        self._save()

    # --- public API ------------------------------------------------------------------------------------------

    def authenticate(self, api_key: str) -> Account:
        """The account this key opens (a copy, without the key).

        Raises:
            AuthenticationError: if no account has the key (the key is not shown).
        """
        with self._locked():
            return self._current(self._caller(api_key))

    def get_account(self, caller_key: str, api_key: str | None = None) -> Account:
        """The caller's account, or (admins only) the account with `api_key` (a key or a key_hash); usage of
        past periods reads 0.

        Raises:
            AuthenticationError, PermissionDeniedError, AccountNotFoundError.
        """
        with self._locked():
            return self._current(self._target(self._caller(caller_key), api_key, "reading another account"))

    def list_accounts(self, caller_key: str) -> list[Account]:
        """Every account (admins only), each with its key_hash to name it by.

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
        """A new account with a fresh random key (admins only); the answer holds the key, once.

        Raises:
            AuthenticationError, PermissionDeniedError; InvalidAccountError (nothing is created).
        """
        with self._locked():
            if not self._caller(caller_key).is_admin:
                raise PermissionDeniedError("creating an account")
            return self._new_account(description=description, is_admin=is_admin, quotas=quotas)

    def create_local_account(self, description: str) -> Account:
        """A new ordinary (non-admin) account, for a trusted local caller: one that can write the state folder
        anyway, as `benchmark-run` on the proxy's own machine can. Remote callers use `create_account`."""
        with self._locked():
            return self._new_account(description=description)

    def ensure_admin(self, description: str = "first admin") -> str | None:
        """Create an admin account when there is none; its key (to show once), or None if an admin exists."""
        with self._locked():
            if any(a.is_admin for a in self._accounts):
                return None
            key = self._new_account(description=description, is_admin=True).api_key
            assert key is not None
            return key

    def _new_account(
        self,
        *,
        description: str,
        is_admin: bool = False,
        quotas: dict[str, dict[Granularity, int | None]] | None = None,
    ) -> Account:
        key = new_api_key()
        data: dict[str, Any] = {"key_hash": hash_key(key), "description": description, "is_admin": is_admin}
        account = _validated(_with_quotas(data, quotas or {}))
        self._replace(None, account)
        return self._current(account).model_copy(update={"api_key": key})

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

        The changed account is validated as a line of the file is; a change that fails changes nothing.

        Raises:
            AuthenticationError, PermissionDeniedError, AccountNotFoundError; InvalidAccountError (naming the
            field, the value and the rule, e.g. a negative quota).
        """
        with self._locked():
            caller = self._caller(caller_key)
            target = self._target(caller, api_key, "changing another account")
            if (is_admin is not None or quotas is not None) and not caller.is_admin:
                raise PermissionDeniedError("changing admin rights or quotas")
            data = target.model_dump(exclude={"api_key"})
            if description is not None:
                data["description"] = description
            if is_admin is not None:
                data["is_admin"] = is_admin
            changed = _validated(_with_quotas(data, quotas or {}))
            self._replace(target, changed)
            return self._current(changed)

    def rotate_key(self, caller_key: str, api_key: str | None = None) -> Account:
        """Give an account a new random key (the caller's own, or any account for an admin); the old one stops
        working. The answer holds the new key, once.

        Raises:
            AuthenticationError, PermissionDeniedError, AccountNotFoundError.
        """
        with self._locked():
            target = self._target(self._caller(caller_key), api_key, "rotating another account's key")
            key = new_api_key()
            old_hash, target.key_hash = target.key_hash, hash_key(key)
            for reservation in self._reservations.values():  # the requests in flight settle on the new hash
                if reservation.key_hash == old_hash:
                    self._reserved[(old_hash, reservation.model_group)] -= reservation.tokens
                    reservation.key_hash = target.key_hash
                    self._reserved[(target.key_hash, reservation.model_group)] += reservation.tokens
            self._save()
            return self._current(target).model_copy(update={"api_key": key})

    def check_quota(self, api_key: str, model_group: str) -> bool:
        """Refuse before a request when any quota of `model_group` is already used up (reservations included).

        Returns:
            Whether a quota limits the account's use of `model_group` (False: only its usage is counted).

        Raises:
            AuthenticationError, QuotaExceededError.
        """
        with self._locked():
            account = self._caller(api_key)
            self._check(account, model_group, 0)
            return _limited(account, model_group)

    def reserve(self, api_key: str, model_group: str, tokens: int) -> str | None:
        """Hold `tokens` of `model_group`'s quotas for a request about to be sent, or refuse it.

        Held tokens count as used by every later check, so requests in flight together never exceed a quota.
        The caller must `settle` the reservation once the request is answered (or failed: with 0 tokens).

        Returns:
            The reservation's id; None when no quota limits the group (nothing is held: record the usage with
            `record_usage` after the answer).

        Raises:
            AuthenticationError; QuotaExceededError (nothing is held); ValueError for negative tokens.
        """
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {tokens}")
        with self._locked():
            account = self._caller(api_key)
            if not _limited(account, model_group):
                return None
            self._check(account, model_group, tokens)
            reservation = secrets.token_hex(12)
            assert account.key_hash is not None
            self._reservations[reservation] = _Reservation(account.key_hash, model_group, tokens)
            self._reserved[(account.key_hash, model_group)] += tokens
            return reservation

    def settle(self, reservation: str, api_key: str, model_group: str, tokens: int) -> None:
        """Replace a reservation by the tokens really used (0 for a failed or cached answer); never refused.

        An unknown reservation (the accounts restarted while the request was in flight) charges the tokens all
        the same, to the account of `api_key`.

        Raises:
            AuthenticationError (an unknown reservation of a key that no longer exists); ValueError for
            negative tokens.
        """
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {tokens}")
        with self._locked():
            held = self._reservations.pop(reservation, None)
            if held is None:
                if tokens:
                    self._add_usage(self._caller(api_key), model_group, tokens)
                return
            self._reserved[(held.key_hash, held.model_group)] -= held.tokens
            if not self._reserved[(held.key_hash, held.model_group)]:
                del self._reserved[(held.key_hash, held.model_group)]
            account = next((a for a in self._accounts if a.key_hash == held.key_hash), None)
            if account is not None and tokens:
                self._add_usage(account, held.model_group, tokens)

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
        held = self._reserved.get((account.key_hash or "", model_group), 0)
        for granularity, usage in account.usages.get(model_group, {}).items():
            used = (usage.used if usage.period == periods[granularity] else 0) + held
            # with tokens == 0 (a check before a request) an exactly used-up quota refuses too
            if usage.quota is not None and (used + tokens > usage.quota or used >= usage.quota):
                raise QuotaExceededError(
                    model_group=model_group, granularity=granularity, used=used, quota=usage.quota, tokens=tokens
                )

    def _current(self, account: Account) -> Account:
        """A copy with past periods' usage shown as 0 in the current period, and no plain key."""
        copy = account.model_copy(deep=True, update={"api_key": None})
        periods = current_periods(self.clock())
        for group in copy.usages.values():
            for granularity, usage in group.items():
                if usage.period != periods[granularity]:
                    usage.period, usage.used = periods[granularity], 0
        return copy


def _limited(account: Account, model_group: str) -> bool:
    return any(usage.quota is not None for usage in account.usages.get(model_group, {}).values())


def _with_quotas(data: dict[str, Any], quotas: dict[str, dict[Granularity, int | None]]) -> dict[str, Any]:
    """An account's data (a model dump) with `quotas` set, each kept as given for `Account` to check."""
    usages = data.setdefault("usages", {})
    for model_group, by_granularity in quotas.items():
        group = usages.setdefault(model_group, {})
        for granularity, quota in by_granularity.items():
            usage = group.setdefault(granularity, {})
            usage["quota"] = quota
    return data


def _validated(data: dict[str, Any]) -> Account:
    """`data` as an `Account`, by the rules that read the file.

    Raises:
        InvalidAccountError: naming each bad field, its value and the rule (a key is never shown).
    """
    try:
        return Account.model_validate(data)
    except ValidationError as error:
        raise InvalidAccountError(_problems(error, show_values=True)) from None


def _problems(error: ValidationError, *, show_values: bool) -> str:
    """One phrase per problem: the field's path, the rule it breaks and (when `show_values`) the bad value."""
    problems = []
    for e in error.errors():
        where = ".".join(map(str, e["loc"])) or "(line)"
        secret = any(part in ("api_key", "key_hash") for part in e["loc"])
        value = e.get("input")
        shown = "" if not show_values or secret or isinstance(value, dict) else f" (got {value!r})"
        problems.append(f"key {where!r}: {e['msg']}{shown}")
    return "; ".join(problems)
