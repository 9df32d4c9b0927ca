"""Bearer tokens: issued on password login, kept hashed in Redis with an expiry, checked on
every route together with the route's roles. Failed logins lock the account for a while."""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated

import orjson
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from ykt_kit.actor import Actor, Role
from ykt_kit.errors import DomainError, Forbidden, Unauthorized

from ...domain.users import verify_password
from ..db import repository as repo

bearer = HTTPBearer(auto_error=False, description="POST /api/v1/auth/token 获取令牌")


def _key(request: Request, token: str) -> str:
    return f"{request.app.state.settings.redis_prefix}token:" + hashlib.sha256(token.encode()).hexdigest()


async def login(request: Request, username: str, password: str) -> dict[str, object]:
    settings = request.app.state.settings
    redis: Redis = request.app.state.redis
    fails_key = f"{settings.redis_prefix}fails:{hashlib.sha256(username.encode()).hexdigest()}"
    if int(await redis.get(fails_key) or 0) >= settings.max_failed_logins:
        raise DomainError("登录失败次数过多，账户已临时锁定，请稍后再试", code="ACCOUNT_LOCKED", status=429)
    async with request.app.state.db.transaction() as s:
        u = await repo.user(s, username)
    if u is None or not u.active or not verify_password(password, u.password_hash):
        await redis.incr(fails_key)
        await redis.expire(fails_key, settings.lockout_seconds)
        raise Unauthorized("用户名或密码错误", code="LOGIN_FAILED")
    await redis.delete(fails_key)
    token = secrets.token_urlsafe(32)
    actor = {
        "user_id": u.username,
        "role": u.role,
        "org_code": u.org_code,
        "name": u.display_name,
        "org_name": u.org_name,
    }
    await redis.set(_key(request, token), orjson.dumps(actor), ex=settings.token_ttl_seconds)
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": settings.token_ttl_seconds,
        "role": u.role,
        "org_code": u.org_code,
        "org_name": u.org_name,
        "display_name": u.display_name,
    }


async def logout(request: Request, token: str) -> None:
    await request.app.state.redis.delete(_key(request, token))


async def authenticated(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """The actor behind the bearer token, or 401."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("请先登录", code="TOKEN_MISSING")
    raw = await request.app.state.redis.get(_key(request, creds.credentials))
    if raw is None:
        raise Unauthorized("登录已过期或令牌无效，请重新登录", code="TOKEN_INVALID")
    data = orjson.loads(raw)
    actor = Actor(data["user_id"], Role(data["role"]), data["org_code"])
    request.state.actor = actor
    request.state.token = creds.credentials
    return actor


def roles(*allowed: Role) -> object:
    """Dependency factory: the authenticated actor, if their role is one of `allowed`; else 403."""

    async def check(actor: Annotated[Actor, Depends(authenticated)]) -> Actor:
        if actor.role not in allowed:
            raise Forbidden("当前角色无权执行此操作", code="ROLE_FORBIDDEN", role=actor.role.value)
        return actor

    check.__doc__ = "允许角色：" + "、".join(r.value for r in allowed)
    return Depends(check)
