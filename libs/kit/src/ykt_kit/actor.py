"""The operator acting on a request: authenticated by the gateway, passed to services in signed
headers so that a service trusts only what the gateway vouched for."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Header, Request

from .errors import Forbidden, Unauthorized


class Role(StrEnum):
    """Roles of DESIGN.md §1."""

    FINANCE = "finance"  # 财政部门
    DEPARTMENT = "department"  # 业务主管部门
    TOWN = "town"  # 镇街
    BANK = "bank"  # 代发银行
    SUPERVISOR = "supervisor"  # 纪检监察 / 审计
    ADMIN = "admin"  # platform administrator (finance bureau's operator of the system)


@dataclass(frozen=True)
class Actor:
    """Who acts: user id, role and the organisation whose data scope applies."""

    user_id: str
    role: Role
    org_code: str

    def headers(self, secret: str) -> dict[str, str]:
        return {
            "x-ykt-actor": self.user_id,
            "x-ykt-role": self.role.value,
            "x-ykt-org": self.org_code,
            "x-ykt-actor-sig": sign(self.user_id, self.role.value, self.org_code, secret=secret),
        }


def sign(user_id: str, role: str, org: str, *, secret: str) -> str:
    msg = f"{user_id}\n{role}\n{org}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def current_actor(
    request: Request,
    x_ykt_actor: Annotated[str | None, Header()] = None,
    x_ykt_role: Annotated[str | None, Header()] = None,
    x_ykt_org: Annotated[str | None, Header()] = None,
    x_ykt_actor_sig: Annotated[str | None, Header()] = None,
) -> Actor:
    """Dependency: the actor whose headers the gateway signed, or 401."""
    secret: str = request.app.state.settings.service_secret
    if not (x_ykt_actor and x_ykt_role and x_ykt_org is not None and x_ykt_actor_sig):
        raise Unauthorized("缺少操作人身份", code="ACTOR_MISSING")
    if not hmac.compare_digest(sign(x_ykt_actor, x_ykt_role, x_ykt_org, secret=secret), x_ykt_actor_sig):
        raise Unauthorized("操作人身份签名无效", code="ACTOR_INVALID")
    try:
        role = Role(x_ykt_role)
    except ValueError as exc:
        raise Unauthorized("未知角色", code="ROLE_UNKNOWN") from exc
    return Actor(x_ykt_actor, role, x_ykt_org)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require(actor: Actor, *roles: Role) -> None:
    """Refuse (403) unless the actor has one of `roles`."""
    if actor.role not in roles:
        raise Forbidden("当前角色无权执行此操作", code="ROLE_FORBIDDEN", role=actor.role.value)
