"""Two-step login (两步验证) with time-based one-time codes (TOTP, RFC 6238; pyotp).

Optional, for admins and supervisors: the user turns it on from the console with an
authenticator app (the secret as text and as an otpauth:// URI), confirming with a first
code; from then on login asks for the 6-digit code as well as the password.

- The secret is stored sealed (Fernet, from `cryptography`) with a key derived (HKDF-SHA256)
  from the key the caller passes (the service's secret key, JZ_SECRET_KEY or the data
  folder's secret_key): a database dump alone does not give it. Changing that key makes
  the sealed secrets unreadable: their owners cannot log in until an admin resets their
  two-step login (bot/cases/accounts.py `reset_two_factor`, or `admin reset-2fa`).
- A code is accepted one step (30 s) early or late, and each time step only once: the
  step of the last code accepted is kept, and a code of that step or an earlier one is
  refused (an atomic UPDATE, so two logins racing with one code cannot both pass).
"""

from __future__ import annotations

import base64
import hmac
import logging
import time
import unicodedata

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.cases.accounts import record, target
from bot.cases.model import CaseError, NotAllowed, Role
from bot.cases.sla import utcnow
from bot.cases.store import User

log = logging.getLogger(__name__)

ISSUER = "社会救助热线工单"
ROLES = (Role.admin, Role.supervisor)  # who may turn it on
DIGITS = 6
WINDOW = 1  # time steps accepted either side of now (clock drift of a phone)


def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"jiuzhu desk totp secret v1").derive(
        key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str, key: str) -> str:
    return _fernet(key).encrypt(secret.encode()).decode()


def unseal(sealed: str, key: str) -> str | None:
    try:
        return _fernet(key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def new_secret() -> str:
    """A random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """otpauth://totp/…: what an authenticator app reads (typed in, or as a QR code elsewhere)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalize_code(code: str | None) -> str:
    """Full-width digits and spaces as typed on a Chinese keyboard ("１２３ ４５６") → "123456"."""
    return "".join(unicodedata.normalize("NFKC", code or "").split())


def matching_step(secret: str, code: str | None, now: float | None = None) -> int | None:
    """The time step whose code `code` is (within WINDOW of now), or None."""
    code = normalize_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS)
    step = totp.timecode(time.time() if now is None else now)
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if hmac.compare_digest(code, totp.generate_otp(candidate)):
            return candidate
    return None


def is_enabled(user: User) -> bool:
    return user.totp_secret is not None


def _use_step(s: Session, user: User, step: int) -> bool:
    """Records `step` as used, unless it (or a later one) was already: atomic in the database."""
    done = s.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        return False
    set_committed_value(user, "totp_last_step", step)  # what the UPDATE just wrote
    return True


def check_login_code(s: Session, user: User, code: str | None, key: str, now: float | None = None) -> bool:
    """True when the user has no two-step login, or `code` is a right, unused code (then used)."""
    if user.totp_secret is None:
        return True
    secret = unseal(user.totp_secret, key)
    if secret is None:
        log.warning("the TOTP secret of desk user %s cannot be unsealed (was the secret key changed?)", user.id)
        return False
    step = matching_step(secret, code, now)
    return step is not None and _use_step(s, user, step)


def enable(s: Session, user_id: int, secret: str, code: str | None, key: str, now: float | None = None) -> User:
    """Turns two-step login on with `secret` once `code` proves the app has it; sessions end
    (the caller signs this browser in afresh)."""
    user = target(s, user_id)
    if user.role not in ROLES:
        raise NotAllowed("两步验证只对班长和管理员开放")
    if user.totp_secret is not None:
        raise CaseError("已经开启了两步验证")
    step = matching_step(secret, code, now)
    if step is None:
        raise CaseError("验证码不正确：请核对手机上的 6 位数字，并确认手机时间准确")
    user.totp_secret = seal(secret, key)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.session_version += 1
    record(s, user, f"user:{user.username}", "totp_enabled", old=False, new=True)
    return user


def disable(s: Session, user_id: int, code: str | None, key: str, now: float | None = None) -> User:
    """The user turns it off, with a current code."""
    user = target(s, user_id)
    if user.totp_secret is None:
        raise CaseError("没有开启两步验证")
    if not check_login_code(s, user, code, key, now):
        raise CaseError("验证码不正确")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    record(s, user, f"user:{user.username}", "totp_disabled", old=True, new=False)
    return user
