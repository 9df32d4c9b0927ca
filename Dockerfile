# syntax=docker/dockerfile:1
# One image for every service and simulator of the platform. The process is chosen by the
# command (compose.yaml, deploy/k8s): `python -m ykt_gateway`, `ykt_registry`, `ykt_validation`,
# `ykt_payment`, `ykt_bank_gateway`, `ykt_disclosure`, `ykt_banksim`, `ykt_treasurysim`.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: resolve the locked environment into /app/.venv -------------------------------------
FROM ${PYTHON_IMAGE} AS build

ARG UV_VERSION=0.13.9
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never

# uv comes from PyPI, pinned, like every other build input.
RUN pip install "uv==${UV_VERSION}"

WORKDIR /src

# Third-party dependencies first, from the lock file and the workspace manifests only, so that
# editing source code does not reinstall them. Every workspace member's pyproject.toml is listed
# (tests/deploy checks the list against the workspace).
COPY pyproject.toml uv.lock ./
COPY libs/kit/pyproject.toml libs/kit/pyproject.toml
COPY contracts/pyproject.toml contracts/pyproject.toml
COPY services/registry/pyproject.toml services/registry/pyproject.toml
COPY services/validation/pyproject.toml services/validation/pyproject.toml
COPY services/payment/pyproject.toml services/payment/pyproject.toml
COPY services/bank-gateway/pyproject.toml services/bank-gateway/pyproject.toml
COPY services/disclosure/pyproject.toml services/disclosure/pyproject.toml
COPY services/gateway/pyproject.toml services/gateway/pyproject.toml
COPY simulators/bank/pyproject.toml simulators/bank/pyproject.toml
COPY simulators/treasury/pyproject.toml simulators/treasury/pyproject.toml
COPY tools/devstack/pyproject.toml tools/devstack/pyproject.toml
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --all-packages --no-dev --no-install-workspace

# Then the workspace packages themselves, installed as wheels (not editable), so the runtime
# stage needs the virtual environment only.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --all-packages --no-dev --no-editable

# --- runtime: the environment, a non-root user, nothing else ------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="ykt-platform" \
      org.opencontainers.image.description="惠民惠农财政补贴资金“一卡通”发放管理信息系统: services and simulators" \
      org.opencontainers.image.licenses="Apache-2.0"

# A CJK font for the printable village notices (PDF) that disclosure renders.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 ykt \
    && useradd --system --uid 10001 --gid ykt --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin ykt

COPY --from=build /app/.venv /app/.venv

ENV PATH="/app/.venv/bin:${PATH}" \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    YKT_ENV=production

WORKDIR /app
USER 10001:10001

# gateway, registry, validation, payment, bank-gateway, disclosure, bank and treasury simulators
EXPOSE 8000 8101 8102 8103 8104 8105 8201 8202

CMD ["python", "-m", "ykt_gateway"]
