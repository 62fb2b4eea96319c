"""Chinese first, English on request: the language of a request and the officials' phrasebook.

Templates write their text in Chinese and wrap it: ``{{ _('案件') }}``. With English chosen
(``?lang=en``, remembered in a cookie), ``_`` looks the phrase up in the English phrasebook that
each router registers with :func:`register`; a phrase with no English stays Chinese, so a page
is never blank. ``tests/web`` checks that every wrapped phrase in the templates has English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import Request

LANG_COOKIE = "mw_lang"
_ENGLISH: dict[str, str] = {}
CONFLICTS: list[tuple[str, str, str]] = []
"""Phrases registered twice with different English (the first wins; a test keeps this empty)."""


def register(phrases: Mapping[str, str]) -> None:
    """Add Chinese → English pairs; a phrase registered twice should read the same."""
    for zh, en in phrases.items():
        known = _ENGLISH.setdefault(zh, en)
        if known != en:
            CONFLICTS.append((zh, known, en))


def english(zh: str) -> str | None:
    return _ENGLISH.get(zh)


def language(request: Request) -> str:
    """``en`` or ``zh``: the query's ``lang``, else the remembered choice, else Chinese."""
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return "en" if wanted.lower().startswith("en") else "zh"


def translator(lang: str) -> Callable[[str], str]:
    if lang == "zh":
        return lambda text: text
    return lambda text: _ENGLISH.get(text, text)


register(
    {
        "总览": "Dashboard",
        "项目台账": "Ledger",
        "案件": "Cases",
        "处置措施": "Measures",
        "差别电价": "Surcharge",
        "筛查": "Screening",
        "信用": "Credit",
        "双随机检查": "Inspections",
        "周报": "Bulletins",
        "退出": "Sign out",
        "全国": "Nation",
        "登录": "Sign in",
        "用户名": "User name",
        "密码": "Password",
        "上一页": "Previous",
        "下一页": "Next",
        "共": "Total",
        "条": "rows",
        "查询": "Search",
        "导出 Excel": "Export Excel",
        "导入 Excel": "Import Excel",
        "地区": "Region",
        "状态": "Status",
        "环节": "Stage",
        "来源": "Sources",
        "置信度": "Confidence",
        "地址": "Address",
        "可办理": "Next actions",
        "案件编号": "Case no.",
        "办理": "Act",
        "页面已过期，请刷新后重试。": "This page has expired; reload it and try again.",
        "无权查看": "Not in your region",
        "未找到": "Not found",
    }
)
