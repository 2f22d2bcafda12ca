"""Who may change the deadline rules.

Reading the countdown templates and the holiday calendar is open to every reader role (the routes'
``allow(...)``); changing them needs the ``city_admin`` role AND a city-wide scope, because they
apply to every district's problems.
"""

from __future__ import annotations

from services.kit.auth import Principal
from services.kit.errors import Forbidden

EDITORS = ("city_admin",)


_WHAT_ZH = {"the countdown templates": "倒排时间表模板", "the holiday calendar": "节假日日历"}


def require_city_wide(principal: Principal, what: str) -> None:
    """City-wide settings (countdown templates, the holiday calendar) need a city-wide scope as well as the role."""
    if not principal.city_wide:
        raise Forbidden(
            f"Only a city-wide caller may change {what}; your scope is {principal.scope!r}",
            zh=f"只有全市范围的调用方可以修改{_WHAT_ZH.get(what, what)}；您的管辖范围为 {principal.scope!r}",
            scope=principal.scope,
        )
