"""Administration: accounts and API keys, for the role ``admin`` only (403 for everyone else).

An administrator bound to a region manages the accounts and keys bound to that region and below
— a record elsewhere does not exist for them (404), and nothing is granted outside it (403); a
national administrator manages all. Only a national administrator grants the national role, and
nobody deactivates or re-scopes their own account. Every change goes through
:mod:`minewatch.domain.accounts.service` or :mod:`minewatch.domain.apikeys.service`, into the
audit chain under the administrator — never a password, its hash or a key's secret. A new key is
shown once, on the page (or in the response) that issues it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from minewatch.domain.accounts.models import User
from minewatch.domain.accounts.service import (
    AccountError,
    change_access,
    create_user,
    deactivate_user,
    get_user,
    reactivate_user,
    reset_password,
    users_within,
)
from minewatch.domain.apikeys.models import ApiKey
from minewatch.domain.apikeys.service import get_key, issue_key, keys_within, revoke_key
from minewatch.domain.cases.service import Actor
from minewatch.domain.cases.states import Role
from minewatch.domain.db import utcnow
from minewatch.errors import MineWatchError
from minewatch.reference import regions
from minewatch.web import i18n
from minewatch.web.auth import signed_in_user
from minewatch.web.deps import (
    ERRORS,
    CsrfDep,
    Paged,
    PageDep,
    PageParams,
    SessionDep,
    TextRoute,
    in_region,
    paged,
    region_name,
    render,
    require,
)

router = APIRouter(tags=["admin"], route_class=TextRoute)

AdminDep = Annotated[Actor, Depends(require(Role.ADMIN))]
Username = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The key's public id")]

ROLE_LABELS = {
    "national": "国家级",
    "provincial": "省级",
    "city": "市级",
    "county": "县级",
    "grid_analyst": "电网分析员",
    "inspector": "检查人员",
    "auditor": "审计（只读）",
    "admin": "系统管理员",
}
KEY_ROLES = [r.value for r in Role if r is not Role.ADMIN]

i18n.register(
    {
        "用户管理": "Users",
        "接口密钥": "API keys",
        "显示名称": "Display name",
        "角色": "Role",
        "启用": "Active",
        "已停用": "Inactive",
        "已锁定": "Locked",
        "创建时间": "Created",
        "全部角色": "All roles",
        "全部账号": "All accounts",
        "仅启用": "Active only",
        "仅停用": "Inactive only",
        "新建用户": "New user",
        "初始密码（至少 10 位）": "Initial password (at least 10 characters)",
        "地区代码（000000 为全国）": "Region code (000000: the nation)",
        "创建": "Create",
        "修改角色与地区": "Change role and region",
        "保存": "Save",
        "停用账号": "Deactivate",
        "重新启用": "Reactivate",
        "重置密码": "Reset password",
        "新密码（至少 10 位）": "New password (at least 10 characters)",
        "停用后该用户立即无法访问；可随时重新启用。": (
            "A deactivated user loses access at once; the account can be reactivated at any time."
        ),
        "这是您自己的账号。": "This is your own account.",
        "系统名称": "System",
        "签发人": "Issued by",
        "签发时间": "Issued",
        "吊销时间": "Revoked",
        "签发密钥": "Issue a key",
        "使用该密钥的系统名称": "The system that will use the key",
        "签发": "Issue",
        "吊销": "Revoke",
        "全部密钥": "All keys",
        "仅有效": "Live only",
        "仅已吊销": "Revoked only",
        "密钥已签发": "Key issued",
        "请立即复制并交给对方系统的管理员。密钥只显示这一次，系统只保存其哈希值。": (
            "Copy it now and hand it to the other system's administrator. It is shown only this "
            "once; only its hash is kept."
        ),
        "调用时使用请求头": "Present it as the header",
        "返回密钥列表": "Back to the keys",
        "国家级": "National",
        "省级": "Provincial",
        "市级": "City",
        "县级": "County",
        "电网分析员": "Grid analyst",
        "检查人员": "Inspector",
        "审计（只读）": "Auditor (read-only)",
        "系统管理员": "Administrator",
    }
)


# ── shapes ───────────────────────────────────────────────────────────────────────────────────


class UserOut(BaseModel):
    """An account as an administrator sees it — never its password hash."""

    username: str
    display_name: str
    role: Role
    region_code: str
    region_name: str
    active: bool
    locked: bool = Field(description="Locked for a while after repeated failed logins")
    created_at: datetime


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\s\x00-\x1f\x7f]+$")
    display_name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
    role: Role
    region_code: str = Field(pattern=r"^[0-9]{6}$")
    password: str = Field(min_length=10, max_length=200, description="The initial password")


class UserPatch(BaseModel):
    """What to change; each field given is one audited change."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    role: Role | None = None
    region_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200,
                                 description="A new password (resets any lock)")  # fmt: skip


class KeyOut(BaseModel):
    """An API key — never its secret."""

    key_id: str
    name: str
    role: Role
    region_code: str
    region_name: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="The system that will use it")
    role: Role
    region_code: str = Field(pattern=r"^[0-9]{6}$")


class IssuedKeyOut(KeyOut):
    token: str = Field(description="The whole key, shown this once: Authorization: Bearer …")


def _user_out(user: User) -> UserOut:
    locked = user.locked_until is not None and user.locked_until > utcnow()
    return UserOut(
        username=user.username, display_name=user.display_name, role=user.role,
        region_code=user.region_code, region_name=region_name(user.region_code),
        active=user.active, locked=locked, created_at=user.created_at,
    )  # fmt: skip


def _key_out(key: ApiKey) -> KeyOut:
    return KeyOut(
        key_id=key.key_id, name=key.name, role=key.role, region_code=key.region_code,
        region_name=region_name(key.region_code), created_by=key.created_by,
        created_at=key.created_at, revoked_at=key.revoked_at,
    )  # fmt: skip


# ── jurisdiction ─────────────────────────────────────────────────────────────────────────────


def _grantable(actor: Actor, role: Role, region_code: str) -> None:
    """403 unless the administrator may give ``role`` for ``region_code``."""
    if not actor.covers(region_code):
        raise HTTPException(403, f"region {region_code} is outside your region")
    if role is Role.NATIONAL and region_code != regions.NATIONAL:
        raise HTTPException(403, "the national role is bound to the nation (000000)")


def _user(session: Session, actor: Actor, username: str) -> User:
    user = get_user(session, username)
    in_region(actor, user.region_code)
    return user


def _key(session: Session, actor: Actor, key_id: str) -> ApiKey:
    key = get_key(session, key_id)
    in_region(actor, key.region_code)
    return key


def _me(request: Request, session: Session) -> str | None:
    user = signed_in_user(request, session)
    return None if user is None else user.username


def _not_myself(request: Request, session: Session, user: User, what: str) -> None:
    if _me(request, session) == user.username:
        raise AccountError(f"you cannot {what} your own account")


def _create(session: Session, actor: Actor, body: UserIn) -> User:
    _grantable(actor, body.role, body.region_code)
    return create_user(
        session, body.username, body.password, display_name=body.display_name, role=body.role,
        region_code=body.region_code, actor=actor.name,
    )  # fmt: skip


def _change(request: Request, session: Session, actor: Actor, user: User, body: UserPatch) -> User:
    """Apply each change given, each audited on its own."""
    role = body.role if body.role not in (None, user.role) else None
    region = body.region_code if body.region_code not in (None, user.region_code) else None
    name = body.display_name if body.display_name not in (None, user.display_name) else None
    if role is not None or region is not None:
        _not_myself(request, session, user, "change the role or region of")
        _grantable(actor, role or user.role, region or user.region_code)
    if role is not None or region is not None or name is not None:
        change_access(session, user.username, role=role, region_code=region, display_name=name,
                      actor=actor.name)  # fmt: skip
    if body.active is False and user.active:
        _not_myself(request, session, user, "deactivate")
        deactivate_user(session, user.username, actor=actor.name)
    elif body.active is True and not user.active:
        reactivate_user(session, user.username, actor=actor.name)
    if body.password is not None:
        reset_password(session, user.username, body.password, actor=actor.name)
    return user


def _issue(session: Session, actor: Actor, body: KeyIn) -> IssuedKeyOut:
    _grantable(actor, body.role, body.region_code)
    issued = issue_key(session, body.name, role=body.role, region_code=body.region_code,
                       actor=actor.name)  # fmt: skip
    key = get_key(session, issued.key_id)
    return IssuedKeyOut(**_key_out(key).model_dump(), token=issued.token)


# ── API ──────────────────────────────────────────────────────────────────────────────────────

RoleQuery = Annotated[Role | None, Query(description="Only accounts with this role")]
ActiveQuery = Annotated[bool | None, Query(description="Only active (true) or inactive (false)")]
RevokedQuery = Annotated[bool | None, Query(description="Only revoked (true) or live (false)")]


@router.get("/api/v1/admin/users", response_model=Paged[UserOut], responses=ERRORS,
            summary="Accounts in my region")  # fmt: skip
def api_users(
    session: SessionDep, actor: AdminDep, page: PageDep, role: RoleQuery = None,
    active: ActiveQuery = None,
) -> Paged[UserOut]:  # fmt: skip
    """The accounts bound to the administrator's region and below, by user name."""
    rows, total = users_within(session, actor.region_code, role=role, active=active,
                               limit=page.limit, offset=page.offset)  # fmt: skip
    return paged([_user_out(u) for u in rows], total, page)


@router.post("/api/v1/admin/users", response_model=UserOut, status_code=201, responses=ERRORS,
             summary="Create an account")  # fmt: skip
def api_create_user(body: UserIn, session: SessionDep, actor: AdminDep) -> UserOut:
    """A new account with its role, region and initial password (403 outside my region)."""
    return _user_out(_create(session, actor, body))


@router.get("/api/v1/admin/users/{username}", response_model=UserOut, responses=ERRORS,
            summary="One account")  # fmt: skip
def api_user(username: Username, session: SessionDep, actor: AdminDep) -> UserOut:
    return _user_out(_user(session, actor, username))


@router.patch("/api/v1/admin/users/{username}", response_model=UserOut, responses=ERRORS,
              summary="Change an account")  # fmt: skip
def api_change_user(
    username: Username, body: UserPatch, request: Request, session: SessionDep, actor: AdminDep
) -> UserOut:
    """Change the display name, role or region; deactivate or reactivate; reset the password.
    Each is one audited change; the password never enters the audit chain."""
    user = _user(session, actor, username)
    return _user_out(_change(request, session, actor, user, body))


@router.get("/api/v1/admin/keys", response_model=Paged[KeyOut], responses=ERRORS,
            summary="API keys in my region")  # fmt: skip
def api_keys(
    session: SessionDep, actor: AdminDep, page: PageDep, revoked: RevokedQuery = None
) -> Paged[KeyOut]:
    """The keys bound to the administrator's region and below, oldest first (never secrets)."""
    rows, total = keys_within(session, actor.region_code, revoked=revoked, limit=page.limit,
                              offset=page.offset)  # fmt: skip
    return paged([_key_out(k) for k in rows], total, page)


@router.post("/api/v1/admin/keys", response_model=IssuedKeyOut, status_code=201,
             responses=ERRORS, summary="Issue an API key")  # fmt: skip
def api_issue_key(body: KeyIn, session: SessionDep, actor: AdminDep) -> IssuedKeyOut:
    """A key for a system acting with this role and region; the token is in this response only."""
    return _issue(session, actor, body)


@router.get("/api/v1/admin/keys/{key_id}", response_model=KeyOut, responses=ERRORS,
            summary="One API key")  # fmt: skip
def api_key(key_id: KeyId, session: SessionDep, actor: AdminDep) -> KeyOut:
    return _key_out(_key(session, actor, key_id))


@router.delete("/api/v1/admin/keys/{key_id}", response_model=KeyOut, responses=ERRORS,
               summary="Revoke an API key")  # fmt: skip
def api_revoke_key(key_id: KeyId, session: SessionDep, actor: AdminDep) -> KeyOut:
    """Refuse the key from now on (revoking a revoked key changes nothing)."""
    key = _key(session, actor, key_id)
    revoke_key(session, key.key_id, actor=actor.name)
    return _key_out(key)


# ── pages ────────────────────────────────────────────────────────────────────────────────────


def _users_page(
    request: Request, session: Session, actor: Actor, page: PageParams, role: Role | None,
    active: bool | None, *, error: str | None = None, values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    rows, total = users_within(session, actor.region_code, role=role, active=active,
                               limit=page.limit, offset=page.offset)  # fmt: skip
    listing = paged([_user_out(u) for u in rows], total, page)
    return render(
        request, "admin_users.html",
        {"page": listing, "role": role.value if role else "",
         "active": "" if active is None else str(active).lower(), "role_labels": ROLE_LABELS,
         "error": error, "values": values or {"region_code": actor.region_code}},
        actor=actor, status_code=status_code,
    )  # fmt: skip


@router.get("/admin", include_in_schema=False)
def admin_home(actor: AdminDep) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
def users_page(
    request: Request, session: SessionDep, actor: AdminDep, page: PageDep,
    role: RoleQuery = None, active: ActiveQuery = None,
) -> HTMLResponse:  # fmt: skip
    return _users_page(request, session, actor, page, role, active)


@router.post("/admin/users", include_in_schema=False, dependencies=[CsrfDep])
def create_user_page(
    request: Request, session: SessionDep, actor: AdminDep, page: PageDep,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    values = {"username": username, "display_name": display_name, "role": role,
              "region_code": region_code}  # fmt: skip
    try:
        chosen = Role(role)
        _grantable(actor, chosen, region_code.strip())
        create_user(session, username, password, display_name=display_name or username,
                    role=chosen, region_code=region_code.strip(), actor=actor.name)  # fmt: skip
    except (MineWatchError, ValueError) as error:
        return _users_page(request, session, actor, page, None, None, error=str(error),
                           values=values, status_code=422)  # fmt: skip
    return RedirectResponse(f"/admin/users/{username.strip()}", status_code=303)


def _user_page(
    request: Request, session: Session, actor: Actor, user: User, *, error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    return render(
        request, "admin_user.html",
        {"u": _user_out(user), "role_labels": ROLE_LABELS, "error": error,
         "myself": _me(request, session) == user.username},
        actor=actor, status_code=status_code,
    )  # fmt: skip


@router.get("/admin/users/{username}", response_class=HTMLResponse, include_in_schema=False)
def user_page(
    username: Username, request: Request, session: SessionDep, actor: AdminDep
) -> HTMLResponse:
    return _user_page(request, session, actor, _user(session, actor, username))


def _user_form(
    request: Request, session: Session, actor: Actor, username: str, body: UserPatch | None,
    error: str | None = None,
) -> Response:  # fmt: skip
    user = _user(session, actor, username)
    if body is not None and error is None:
        try:
            _change(request, session, actor, user, body)
        except MineWatchError as refused:
            error = str(refused)
    if error is not None:
        return _user_page(request, session, actor, user, error=error, status_code=422)
    return RedirectResponse(f"/admin/users/{user.username}", status_code=303)


@router.post("/admin/users/{username}/access", include_in_schema=False, dependencies=[CsrfDep])
def access_page(
    username: Username, request: Request, session: SessionDep, actor: AdminDep,
    display_name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
) -> Response:  # fmt: skip
    try:
        chosen = Role(role) if role else None
    except ValueError as error:
        return _user_form(request, session, actor, username, None, str(error))
    body = UserPatch.model_construct(display_name=display_name.strip() or None, role=chosen,
                                     region_code=region_code.strip() or None)  # fmt: skip
    return _user_form(request, session, actor, username, body)


@router.post("/admin/users/{username}/deactivate", include_in_schema=False,
             dependencies=[CsrfDep])  # fmt: skip
def deactivate_page(
    username: Username, request: Request, session: SessionDep, actor: AdminDep
) -> Response:
    return _user_form(request, session, actor, username, UserPatch(active=False))


@router.post("/admin/users/{username}/reactivate", include_in_schema=False,
             dependencies=[CsrfDep])  # fmt: skip
def reactivate_page(
    username: Username, request: Request, session: SessionDep, actor: AdminDep
) -> Response:
    return _user_form(request, session, actor, username, UserPatch(active=True))


@router.post("/admin/users/{username}/password", include_in_schema=False,
             dependencies=[CsrfDep])  # fmt: skip
def password_page(
    username: Username, request: Request, session: SessionDep, actor: AdminDep,
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    body = UserPatch.model_construct(password=password)  # the domain checks its length
    return _user_form(request, session, actor, username, body)


def _keys_page(
    request: Request, session: Session, actor: Actor, page: PageParams, revoked: bool | None, *,
    error: str | None = None, values: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    rows, total = keys_within(session, actor.region_code, revoked=revoked, limit=page.limit,
                              offset=page.offset)  # fmt: skip
    return render(
        request, "admin_keys.html",
        {"page": paged([_key_out(k) for k in rows], total, page),
         "revoked": "" if revoked is None else str(revoked).lower(), "role_labels": ROLE_LABELS,
         "key_roles": KEY_ROLES, "error": error,
         "values": values or {"region_code": actor.region_code}},
        actor=actor, status_code=status_code,
    )  # fmt: skip


@router.get("/admin/keys", response_class=HTMLResponse, include_in_schema=False)
def keys_page(
    request: Request, session: SessionDep, actor: AdminDep, page: PageDep,
    revoked: RevokedQuery = None,
) -> HTMLResponse:  # fmt: skip
    return _keys_page(request, session, actor, page, revoked)


@router.post("/admin/keys", include_in_schema=False, dependencies=[CsrfDep])
def issue_key_page(
    request: Request, session: SessionDep, actor: AdminDep, page: PageDep,
    name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
) -> Response:  # fmt: skip
    values = {"name": name, "role": role, "region_code": region_code}
    try:
        body = KeyIn.model_construct(name=name, role=Role(role), region_code=region_code.strip())
        issued = _issue(session, actor, body)  # the domain checks the name and the region
    except (MineWatchError, ValueError) as error:
        return _keys_page(request, session, actor, page, None, error=str(error), values=values,
                          status_code=422)  # fmt: skip
    response = render(request, "admin_key_issued.html",
                      {"k": issued, "role_labels": ROLE_LABELS}, actor=actor)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/keys/{key_id}/revoke", include_in_schema=False, dependencies=[CsrfDep])
def revoke_key_page(key_id: KeyId, session: SessionDep, actor: AdminDep) -> Response:
    key = _key(session, actor, key_id)
    revoke_key(session, key.key_id, actor=actor.name)
    return RedirectResponse("/admin/keys", status_code=303)
