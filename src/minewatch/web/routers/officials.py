"""Sign-in and sign-out of officials (their case list is :mod:`minewatch.web.routers.casework`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from minewatch.domain.accounts.service import LoginRefusedError, authenticate
from minewatch.domain.cases.states import Role
from minewatch.web import i18n
from minewatch.web.app import db_session
from minewatch.web.auth import SESSION_COOKIE, SESSION_HOURS, session_cookie
from minewatch.web.deps import TextRoute, render
from minewatch.web.security import CSRF_COOKIE

router = APIRouter(tags=["officials"], route_class=TextRoute)

SessionDep = Annotated[Session, Depends(db_session, scope="function")]


i18n.register(
    {
        "工作人员登录": "Staff sign-in",
        "公众举报入口": "Report crypto-mining (public)",
        "页面已过期，请重新登录。": "This page has expired; sign in again.",
        "wrong user name or password": "wrong user name or password",
    }
)


def _login_page(request: Request, error: str | None, status_code: int = 200) -> HTMLResponse:
    return render(request, "login.html", {"error": error}, status_code=status_code)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request, None)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not request.app.state.csrf.valid(request.cookies.get(CSRF_COOKIE), csrf_token):
        return _login_page(request, "页面已过期，请重新登录。", status_code=403)
    try:
        signed_in = authenticate(session, username, password)
    except LoginRefusedError as error:
        return _login_page(request, str(error), status_code=401)
    home = "/admin/users" if signed_in.actor.role is Role.ADMIN else "/dashboard"
    response = RedirectResponse(home, status_code=303)
    response.set_cookie(SESSION_COOKIE, session_cookie(request, signed_in.user_id),
                        max_age=SESSION_HOURS * 3600, httponly=True, samesite="strict")  # fmt: skip
    return response


@router.post("/logout", include_in_schema=False)
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
