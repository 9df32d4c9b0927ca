"""Static checks of the deployment files (compose.yaml, Dockerfile, deploy/): each validator takes
the parsed document and returns a list of problems, so the tests can show that a good file
passes and a broken copy fails. Nothing here reads outside the repository or uses the network."""

from __future__ import annotations

import ast
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = REPO / "compose.yaml"
COMPOSE_SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
PROMETHEUS_DIR = DEPLOY / "prometheus"
GRAFANA_DIR = DEPLOY / "grafana"
OTEL_CONFIG = DEPLOY / "otel" / "collector.yaml"
TOPICS_SCRIPT = K8S / "base" / "kafka-topics" / "create-topics.sh"
OPERATIONS_DOC = REPO / "docs" / "operations.md"

# Kubernetes versions the manifests must be valid for: the oldest supported and a current one.
KUBERNETES_VERSIONS = ("1.31", "1.35")
SECRET_NAME = "ykt-secrets"  # noqa: S105 - the name of the Secret, not a value


@dataclass(frozen=True)
class AppService:
    """One process built from the Dockerfile: its module, port and settings prefix."""

    name: str
    module: str
    port: int
    env_prefix: str
    kind: str  # "service" (platform, kit-based, scraped) or "simulator"
    package_dir: str


APP_SERVICES: tuple[AppService, ...] = (
    AppService("gateway", "ykt_gateway", 8000, "GATEWAY_", "service", "services/gateway"),
    AppService("registry", "ykt_registry", 8101, "REGISTRY_", "service", "services/registry"),
    AppService("validation", "ykt_validation", 8102, "VALIDATION_", "service", "services/validation"),
    AppService("payment", "ykt_payment", 8103, "PAYMENT_", "service", "services/payment"),
    AppService("bank-gateway", "ykt_bank_gateway", 8104, "BANKGW_", "service", "services/bank-gateway"),
    AppService("disclosure", "ykt_disclosure", 8105, "DISCLOSURE_", "service", "services/disclosure"),
    AppService("bank-sim", "ykt_banksim", 8201, "BANKSIM_", "simulator", "simulators/bank"),
    AppService("treasury-sim", "ykt_treasurysim", 8202, "TREASURYSIM_", "simulator", "simulators/treasury"),
)
PLATFORM_SERVICES = tuple(s for s in APP_SERVICES if s.kind == "service")
SIMULATORS = tuple(s for s in APP_SERVICES if s.kind == "simulator")
BY_NAME = {s.name: s for s in APP_SERVICES}

# Environment variables of secret material: never a literal anywhere in the repository.
SECRET_NAME_RE = re.compile(r"(PASSWORD|SECRET|_KEY$|TOKEN|PRIVATE|CREDENTIAL)")
REQUIRED_INTERPOLATION_RE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]*\}$")
URL_USERINFO_RE = re.compile(r"://(?P<user>[^:/@\s]+):(?P<password>[^@\s]+)@")
PLATFORM_SECRETS = ("DATABASE_URL", "REDIS_URL", "YKT_SERVICE_SECRET", "YKT_PII_ENC_KEY", "YKT_PII_INDEX_KEY")
# Further secret variables of one process: variable -> key in the ykt-secrets Secret.
PROCESS_SECRETS: dict[str, dict[str, str]] = {
    "bank-gateway": {"BANKGW_CALLBACK_SECRET": "BANK_CALLBACK_SECRET"},
    "bank-sim": {"BANKSIM_CALLBACK_SECRET": "BANK_CALLBACK_SECRET"},
}


# --- files --------------------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_yaml_all(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def env_mapping(environment: Any) -> dict[str, str]:
    """A compose `environment` (mapping or list of K=V) as a mapping of strings."""
    if environment is None:
        return {}
    if isinstance(environment, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in environment.items()}
    result: dict[str, str] = {}
    for item in environment:
        key, _, value = str(item).partition("=")
        result[key] = value
    return result


# --- compose ------------------------------------------------------------------------------------


@cache
def compose_schema() -> dict[str, Any]:
    return json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))


def compose_schema_errors(doc: Any) -> list[str]:
    """Violations of the Compose specification's JSON schema."""
    import jsonschema

    schema = compose_schema()
    # the specification declares draft-07 (as "https://json-schema.org/draft-07/schema")
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def one_shot_services(doc: Mapping[str, Any]) -> set[str]:
    """Services that run to completion: restart "no" and awaited with service_completed_successfully."""
    services = doc.get("services", {})
    awaited = {
        dep
        for svc in services.values()
        for dep, cond in depends_on(svc).items()
        if cond == "service_completed_successfully"
    }
    return {name for name in awaited if str(services.get(name, {}).get("restart", "")) == "no"}


def depends_on(svc: Mapping[str, Any]) -> dict[str, str]:
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def compose_healthcheck_problems(doc: Mapping[str, Any]) -> list[str]:
    """Every long-running service declares a health check; every awaited condition can be met."""
    problems: list[str] = []
    services = doc.get("services") or {}
    one_shot = one_shot_services(doc)
    for name, svc in services.items():
        if name in one_shot:
            continue
        hc = svc.get("healthcheck")
        if not hc:
            problems.append(f"{name}: no healthcheck")
            continue
        if hc.get("disable") in (True, "true"):
            problems.append(f"{name}: healthcheck disabled")
        test = hc.get("test")
        if not test or (isinstance(test, list) and test[0] == "NONE"):
            problems.append(f"{name}: healthcheck has no test")
    for name, svc in services.items():
        for dep, cond in depends_on(svc).items():
            if dep not in services:
                problems.append(f"{name}: depends on unknown service {dep}")
            elif cond == "service_healthy" and not services[dep].get("healthcheck"):
                problems.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
            elif cond == "service_completed_successfully" and dep not in one_shot:
                problems.append(f"{name}: waits for {dep} to complete, but {dep} is not a one-shot job")
    return problems


def compose_secret_problems(doc: Mapping[str, Any], raw_text: str) -> list[str]:
    """Secret material comes from the environment as a required ${VAR:?...}, never a literal or a default."""
    problems: list[str] = []
    for name, svc in (doc.get("services") or {}).items():
        for key, value in env_mapping(svc.get("environment")).items():
            if SECRET_NAME_RE.search(key) and not REQUIRED_INTERPOLATION_RE.match(value):
                problems.append(f"{name}: {key} is not a required ${{VAR:?...}} reference")
            m = URL_USERINFO_RE.search(value)
            if m and not REQUIRED_INTERPOLATION_RE.match(m.group("password")):
                problems.append(f"{name}: {key} carries a literal password")
    for m in re.finditer(r"\$\{([A-Z][A-Z0-9_]*)(:?-)", raw_text):
        if SECRET_NAME_RE.search(m.group(1)):
            problems.append(f"${{{m.group(1)}}} has a default value: secrets must be required")
    return problems


def compose_required_variables(raw_text: str) -> set[str]:
    """Names of the variables compose.yaml requires with ${VAR:?...}."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", raw_text))


def healthcheck_url(svc: Mapping[str, Any]) -> str | None:
    test = (svc.get("healthcheck") or {}).get("test")
    text = " ".join(test) if isinstance(test, list) else str(test or "")
    m = re.search(r"https?://[^'\"\s)]+", text)
    return m.group(0) if m else None


def bind_mounts(svc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of the service's bind mounts written as ./relative paths."""
    mounts: list[tuple[str, str]] = []
    for vol in svc.get("volumes") or []:
        if isinstance(vol, str):
            parts = vol.split(":")
            if parts[0].startswith((".", "/")) and len(parts) >= 2:
                mounts.append((parts[0], parts[1]))
        elif isinstance(vol, Mapping) and vol.get("type") == "bind":
            mounts.append((str(vol["source"]), str(vol["target"])))
    return mounts


# --- Dockerfile ---------------------------------------------------------------------------------


@dataclass
class DockerInstruction:
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[DockerInstruction]:
    """Instructions with their line continuations joined; comments dropped."""
    instructions: list[DockerInstruction] = []
    buffer = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        keyword, _, args = buffer.partition(" ")
        instructions.append(DockerInstruction(keyword.upper(), args.strip()))
        buffer = ""
    return instructions


def workspace_members() -> list[Path]:
    """Directories of the uv workspace's members (relative to the repository)."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    members: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for path in sorted(REPO.glob(pattern)):
            if (path / "pyproject.toml").is_file():
                members.append(path.relative_to(REPO))
    return members


def dockerfile_problems(text: str) -> list[str]:
    problems: list[str] = []
    instructions = parse_dockerfile(text)
    args = {}
    for ins in instructions:
        if ins.keyword == "ARG" and "=" in ins.args:
            k, _, v = ins.args.partition("=")
            args[k] = v
    stages = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    if not stages:
        return ["no FROM"]
    for i in stages:
        image = instructions[i].args.split()[0]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)
        if image != "python:3.11-slim":
            problems.append(f"stage at instruction {i} is FROM {image}, expected python:3.11-slim")
    runs = [ins.args for ins in instructions if ins.keyword == "RUN"]
    uv_installs = [r for r in runs if re.search(r"pip install .*[\"']?uv==", r)]
    if not uv_installs:
        problems.append("uv is not installed from PyPI with a pinned version (pip install uv==...)")
    syncs = [r for r in runs if "uv sync" in r]
    final_sync = [r for r in syncs if "--no-install-workspace" not in r]
    for flag in ("--frozen", "--all-packages", "--no-dev"):
        if not syncs or not all(flag in r for r in syncs):
            problems.append(f"every uv sync must use {flag}")
    if not final_sync:
        problems.append("no uv sync installs the workspace packages")
    env_text = " ".join(ins.args for ins in instructions if ins.keyword == "ENV")
    if "UV_PROJECT_ENVIRONMENT=/app/.venv" not in env_text:
        problems.append("the environment is not built into /app/.venv (UV_PROJECT_ENVIRONMENT)")
    final = instructions[stages[-1] :]
    users = [ins.args for ins in final if ins.keyword == "USER"]
    if not users:
        problems.append("the runtime stage runs as root (no USER)")
    else:
        user = users[-1].split(":")[0]
        if user in ("0", "root"):
            problems.append("the runtime stage runs as root")
    if "/app/.venv/bin" not in " ".join(ins.args for ins in final if ins.keyword == "ENV"):
        problems.append("the runtime stage does not put /app/.venv/bin on PATH")
    copied = " ".join(ins.args for ins in instructions if ins.keyword == "COPY")
    for member in workspace_members():
        if f"{member.as_posix()}/pyproject.toml" not in copied:
            problems.append(f"{member}/pyproject.toml is not copied for the dependency layer")
    return problems


def dockerignore_excludes(patterns: Iterable[str], path: str) -> bool:
    """Whether `path` (relative, POSIX) is left out of the build context by these patterns.

    Follows Docker's rules for what the tests need: patterns are relative to the context root,
    `**` matches any number of directories, a matched directory excludes what it holds, a
    leading `!` re-includes, the last matching pattern wins."""
    excluded = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in patterns:
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = _glob_regex(pattern)
        if any(regex.fullmatch(p) for p in prefixes):
            excluded = not negate
    return excluded


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append({"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i])))
            i += 1
    return re.compile("".join(out))


# --- Kubernetes ---------------------------------------------------------------------------------


def kustomize_command() -> list[str]:
    """`kubectl kustomize` (kubectl embeds kustomize) or a standalone `kustomize build`."""
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    raise RuntimeError(
        "neither kubectl nor kustomize is on PATH: install kubectl (it embeds kustomize) to render deploy/k8s"
    )


def render_kustomization(path: Path) -> list[dict[str, Any]]:
    """The objects a kustomization renders to, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECONFIG")}
    env["KUBECONFIG"] = os.devnull
    proc = subprocess.run(
        [*kustomize_command(), str(path)], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"kustomize failed for {path}:\n{proc.stderr}")
    return load_yaml_all(proc.stdout)


def kubernetes_schema_errors(
    objects: Iterable[Mapping[str, Any]], versions: Iterable[str] = KUBERNETES_VERSIONS
) -> list[str]:
    """Objects that kubernetes-validate (strict: unknown fields are errors) rejects."""
    import kubernetes_validate

    errors: list[str] = []
    for obj in objects:
        ident = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        for version in versions:
            try:
                kubernetes_validate.validate(dict(obj), version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                errors.append(f"{ident} (Kubernetes {version}): {path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                errors.append(f"{ident} (Kubernetes {version}): {e.message}")
    return errors


def objects_of(objects: Iterable[Mapping[str, Any]], kind: str) -> dict[str, Mapping[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o.get("kind") == kind}


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj["spec"]["template"]["spec"]


def _probe_port_ok(probe: Mapping[str, Any], container: Mapping[str, Any]) -> bool:
    port = (probe.get("httpGet") or {}).get("port")
    ports = container.get("ports") or []
    return any(port in (p.get("name"), p.get("containerPort")) for p in ports)


def workload_problems(obj: Mapping[str, Any]) -> list[str]:
    """Pod hardening shared by Deployments and Jobs: the restricted Pod Security profile, limits,
    no service links, secrets only by reference."""
    name = f"{obj.get('kind')}/{obj['metadata']['name']}"
    spec = pod_spec(obj)
    problems: list[str] = []
    psc = spec.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        problems.append(f"{name}: pod securityContext.runAsNonRoot is not true")
    if psc.get("runAsUser") == 0:
        problems.append(f"{name}: runs as uid 0")
    if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{name}: no RuntimeDefault seccomp profile")
    if spec.get("enableServiceLinks") is not False:
        problems.append(
            f"{name}: enableServiceLinks must be false (service links clash with settings prefixes)"
        )
    if spec.get("automountServiceAccountToken") is not False:
        problems.append(f"{name}: mounts a service-account token it does not need")
    for c in spec.get("containers", []):
        cname = f"{name}[{c.get('name')}]"
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in (res.get(part) or {}):
                    problems.append(f"{cname}: no {part}.{r}")
        csc = c.get("securityContext") or {}
        if csc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cname}: allowPrivilegeEscalation is not false")
        if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{cname}: does not drop ALL capabilities")
        if csc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{cname}: root filesystem is writable")
        if csc.get("privileged"):
            problems.append(f"{cname}: privileged")
        for env in c.get("env") or []:
            if SECRET_NAME_RE.search(env["name"]) or env["name"] in PLATFORM_SECRETS:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if "value" in env or not ref:
                    problems.append(f"{cname}: {env['name']} must come from a secretKeyRef")
                elif ref.get("name") != SECRET_NAME:
                    problems.append(
                        f"{cname}: {env['name']} refers to secret {ref.get('name')}, not {SECRET_NAME}"
                    )
    return problems


def deployment_problems(obj: Mapping[str, Any], readiness_path: str = "/health/ready") -> list[str]:
    """A Deployment: both probes on the health routes, resource limits, hardening."""
    name = f"Deployment/{obj['metadata']['name']}"
    problems = workload_problems(obj)
    for c in pod_spec(obj).get("containers", []):
        cname = f"{name}[{c.get('name')}]"
        for probe_key, path in (("readinessProbe", readiness_path), ("livenessProbe", "/health/live")):
            probe = c.get(probe_key)
            if not probe:
                problems.append(f"{cname}: no {probe_key}")
                continue
            if (probe.get("httpGet") or {}).get("path") != path:
                problems.append(f"{cname}: {probe_key} does not GET {path}")
            if not _probe_port_ok(probe, c):
                problems.append(f"{cname}: {probe_key} port is not a container port")
    return problems


def container_env_names(obj: Mapping[str, Any], configmaps: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Every variable a workload's first container sees: env entries and envFrom ConfigMap keys."""
    container = pod_spec(obj)["containers"][0]
    names = {e["name"] for e in container.get("env") or []}
    for src in container.get("envFrom") or []:
        ref = str((src.get("configMapRef") or {}).get("name"))
        if ref in configmaps:
            names |= set((configmaps[ref].get("data") or {}).keys())
    return names


def no_committed_secret_problems(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    return [
        f"Secret/{o['metadata']['name']} is rendered: secret values must not be committed"
        for o in objects
        if o.get("kind") == "Secret"
    ]


# --- NetworkPolicy semantics ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    """A pod as NetworkPolicies see it."""

    name: str
    namespace: str
    labels: Mapping[str, str]
    ports: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class External:
    """An address outside the cluster."""

    ip: str


Endpoint = Pod | External


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


class NetworkPolicyModel:
    """Decides whether a connection is allowed by the NetworkPolicies of one namespace."""

    def __init__(
        self,
        policies: Iterable[Mapping[str, Any]],
        namespace: str,
        namespace_labels: Mapping[str, Mapping[str, str]],
    ):
        self.policies = [p for p in policies if p.get("kind") == "NetworkPolicy"]
        self.namespace = namespace
        self.namespace_labels = {
            ns: {"kubernetes.io/metadata.name": ns, **labels} for ns, labels in namespace_labels.items()
        }

    def _selecting(self, pod: Pod, direction: str) -> list[Mapping[str, Any]]:
        if pod.namespace != self.namespace:
            return []
        return [
            p
            for p in self.policies
            if direction in self._types(p) and selector_matches(p["spec"].get("podSelector", {}), pod.labels)
        ]

    @staticmethod
    def _types(policy: Mapping[str, Any]) -> list[str]:
        spec = policy["spec"]
        if "policyTypes" in spec:
            return list(spec["policyTypes"])
        return ["Ingress", *(["Egress"] if "egress" in spec else [])]

    def _peer_matches(self, peer: Mapping[str, Any], other: Endpoint) -> bool:
        if "ipBlock" in peer:
            if not isinstance(other, External):
                return False  # pod addresses are private and excepted by the blocks used here
            ip = ipaddress.ip_address(other.ip)
            block = peer["ipBlock"]
            return ip in ipaddress.ip_network(block["cidr"]) and not any(
                ip in ipaddress.ip_network(e) for e in block.get("except") or []
            )
        if not isinstance(other, Pod):
            return False
        if "namespaceSelector" in peer:
            ns_labels = self.namespace_labels.get(
                other.namespace, {"kubernetes.io/metadata.name": other.namespace}
            )
            if not selector_matches(peer["namespaceSelector"], ns_labels):
                return False
        elif other.namespace != self.namespace:
            return False
        if "podSelector" in peer:
            return selector_matches(peer["podSelector"], other.labels)
        return True

    @staticmethod
    def _port_matches(
        rule_ports: list[Mapping[str, Any]] | None, port: int, protocol: str, target: Endpoint
    ) -> bool:
        if not rule_ports:
            return True
        for rp in rule_ports:
            if rp.get("protocol", "TCP") != protocol:
                continue
            p = rp.get("port")
            if p is None:
                return True
            if isinstance(p, str):
                if isinstance(target, Pod) and target.ports.get(p) == port:
                    return True
                continue
            if p <= port <= rp.get("endPort", p):
                return True
        return False

    def _allowed(self, pod: Pod, other: Endpoint, port: int, protocol: str, direction: str) -> bool:
        policies = self._selecting(pod, direction)
        if not policies:
            return True
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        target = other if direction == "Egress" else pod
        for policy in policies:
            for rule in policy["spec"].get(key) or []:
                peers = rule.get(peers_key)
                if peers is not None and not any(self._peer_matches(peer, other) for peer in peers):
                    continue
                if self._port_matches(rule.get("ports"), port, protocol, target):
                    return True
        return False

    def allows(self, src: Pod, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """Whether `src` can open a connection to `dst` on `port`."""
        if not self._allowed(src, dst, port, protocol, "Egress"):
            return False
        if isinstance(dst, Pod):
            return self._allowed(dst, src, port, protocol, "Ingress")
        return True


def pods_of(objects: Iterable[Mapping[str, Any]], namespace: str) -> dict[str, Pod]:
    """The pods the Deployments and Jobs of a rendering run, by workload name."""
    pods: dict[str, Pod] = {}
    for o in objects:
        if o.get("kind") in ("Deployment", "Job"):
            spec = o["spec"]["template"]
            ports = {
                p["name"]: p["containerPort"]
                for c in spec["spec"]["containers"]
                for p in c.get("ports") or []
                if "name" in p
            }
            pods[o["metadata"]["name"]] = Pod(
                o["metadata"]["name"], namespace, dict(spec["metadata"]["labels"]), ports
            )
    return pods


# --- metrics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricDef:
    """A metric as defined in code: family name, type, label names (None when not literal)."""

    name: str
    type: str
    labels: tuple[str, ...] | None
    where: str


METRIC_CLASSES = {
    "Counter": "counter",
    "Gauge": "gauge",
    "Histogram": "histogram",
    "Summary": "summary",
    "Info": "info",
    "Enum": "stateset",
}


def exposition_names(metric: MetricDef) -> dict[str, tuple[str, ...] | None]:
    """The series names Prometheus scrapes for a metric, with their label names."""
    base = metric.name
    labels = metric.labels
    if metric.type == "counter":
        base = base.removesuffix("_total")
        return {f"{base}_total": labels, f"{base}_created": labels}
    if metric.type == "histogram":
        with_le = None if labels is None else (*labels, "le")
        return {
            f"{base}_bucket": with_le,
            f"{base}_sum": labels,
            f"{base}_count": labels,
            f"{base}_created": labels,
        }
    if metric.type == "summary":
        return {f"{base}_sum": labels, f"{base}_count": labels, f"{base}_created": labels, base: labels}
    if metric.type == "info":
        return {f"{base}_info": labels}
    return {base: labels if metric.type == "gauge" or labels is None else (*labels, base)}


def kit_metric_defs() -> list[MetricDef]:
    """The kit's metrics, read from the imported module ykt_kit.metrics."""
    import ykt_kit.metrics as kit_metrics
    from prometheus_client.metrics import MetricWrapperBase

    defs = []
    for attr, value in vars(kit_metrics).items():
        if isinstance(value, MetricWrapperBase):
            defs.append(
                MetricDef(value._name, str(value._type), tuple(value._labelnames), f"ykt_kit.metrics.{attr}")
            )
    return defs


def _prometheus_aliases(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Names bound to prometheus_client metric classes, and aliases of the module itself."""
    classes: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == "prometheus_client"
        ):
            for alias in node.names:
                if alias.name in METRIC_CLASSES:
                    classes[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "prometheus_client":
                    modules.add(alias.asname or alias.name)
    return classes, modules


def _literal_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def source_metric_defs(source: str, where: str) -> tuple[list[MetricDef], list[str]]:
    """prometheus_client metric definitions in one module: (definitions, unreadable ones)."""
    tree = ast.parse(source)
    classes, modules = _prometheus_aliases(tree)
    defs: list[MetricDef] = []
    unreadable: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        cls = None
        if isinstance(node.func, ast.Name) and node.func.id in classes:
            cls = classes[node.func.id]
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in METRIC_CLASSES
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in modules
        ):
            cls = node.func.attr
        if cls is None:
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        name = _literal_str(node.args[0] if node.args else kw.get("name"))
        if name is None:
            unreadable.append(f"{where}:{node.lineno}: {cls} name is not a string literal")
            continue
        prefix = [p for p in (_literal_str(kw.get("namespace")), _literal_str(kw.get("subsystem"))) if p]
        full = "_".join([*prefix, name])
        label_node = node.args[2] if len(node.args) > 2 else kw.get("labelnames")
        labels: tuple[str, ...] | None = ()
        if label_node is not None:
            if isinstance(label_node, ast.List | ast.Tuple) and all(
                _literal_str(e) is not None for e in label_node.elts
            ):
                labels = tuple(_literal_str(e) or "" for e in label_node.elts)
            else:
                labels = None
        defs.append(MetricDef(full, METRIC_CLASSES[cls], labels, f"{where}:{node.lineno}"))
    return defs, unreadable


def service_metric_defs(root: Path = REPO) -> tuple[list[MetricDef], list[str]]:
    """Metric definitions found in services/*/src."""
    defs: list[MetricDef] = []
    unreadable: list[str] = []
    for path in sorted(root.glob("services/*/src/**/*.py")):
        d, u = source_metric_defs(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
        defs += d
        unreadable += u
    return defs, unreadable


# Metrics a service has been asked to export, accepted only while that service defines no metric at
# all yet (it is being written in parallel). Once its source defines any metric, the promised
# name must really be among them.
PROMISED_METRICS: dict[str, str] = {"ykt_bank_requests_total": "services/bank-gateway"}


@dataclass
class ExportedMetrics:
    """Every series name the platform exports, with label names where they are known."""

    series: dict[str, tuple[str, ...] | None]
    pending: dict[str, str]

    def __contains__(self, name: object) -> bool:
        return name in self.series or name in self.pending

    def labels(self, name: str) -> tuple[str, ...] | None:
        return self.series.get(name)


def exported_metrics(root: Path = REPO) -> ExportedMetrics:
    defs = kit_metric_defs()
    svc_defs, _ = service_metric_defs(root)
    series: dict[str, tuple[str, ...] | None] = {}
    for d in [*defs, *svc_defs]:
        for name, labels in exposition_names(d).items():
            series[name] = labels
    pending: dict[str, str] = {}
    for name, owner in PROMISED_METRICS.items():
        if name in series:
            continue
        owner_defines_metrics = any(d.where.startswith(owner + "/") for d in svc_defs)
        if not owner_defines_metrics:
            pending[name] = owner
    return ExportedMetrics(series, pending)


# --- PromQL ---------------------------------------------------------------------------------------

# fmt: off
PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "avg_over_time",
    "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "count_over_time", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "deg", "delta", "deriv", "exp", "floor",
    "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev",
    "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta", "increase", "irate",
    "label_join", "label_replace", "last_over_time", "ln", "log10", "log2", "mad_over_time",
    "max_over_time", "min_over_time", "minute", "month", "predict_linear", "present_over_time",
    "quantile_over_time", "rad", "rate", "resets", "round", "scalar", "sgn", "sin", "sinh", "sort",
    "sort_by_label", "sort_by_label_desc", "sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time",
    "sum_over_time", "tan", "tanh", "time", "timestamp", "vector", "year",
}
PROMQL_AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile", "limitk", "limit_ratio",
}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "atan2", "inf", "nan"}
# fmt: on
_LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_TOKEN_RE = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
      |(?P<number>\d[\w.]*)
      |(?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
      |(?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=(){}\[\],@])
      |(?P<space>\s+)
      |(?P<other>.)""",
    re.VERBOSE,
)


@dataclass
class Selector:
    metric: str
    matchers: list[tuple[str, str, str]]  # (label, operator, value)


def _grafana_free(expr: str) -> str:
    """The expression with Grafana's variables ($__rate_interval, ${service}, ...) made neutral."""
    return re.sub(r"\$\{[^}]*\}|\$\w+", "1m", expr)


def parse_promql(expr: str) -> tuple[list[Selector], list[str]]:
    """The vector selectors of a PromQL expression, and syntax problems found on the way.

    A lexer, not a full parser: enough to name every metric and label matcher an expression uses,
    to reject unknown functions and unbalanced brackets. promtool checks the full grammar."""
    tokens = [
        (m.lastgroup, m.group()) for m in _TOKEN_RE.finditer(_grafana_free(expr)) if m.lastgroup != "space"
    ]
    problems: list[str] = []
    selectors: list[Selector] = []
    stack: list[str] = []
    pairs = {")": "(", "}": "{", "]": "["}
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "other":
            problems.append(f"unexpected character {text!r}")
        elif kind == "op" and text in "({[":
            stack.append(text)
        elif kind == "op" and text in ")}]":
            if not stack or stack.pop() != pairs[text]:
                problems.append(f"unbalanced {text!r}")
        elif kind == "ident":
            low = text.lower()
            if low in _LABEL_LIST_KEYWORDS and nxt == "(":
                depth = 0
                while i < len(tokens):  # skip the label list
                    if tokens[i][1] == "(":
                        depth += 1
                    elif tokens[i][1] == ")":
                        depth -= 1
                        if depth == 0:
                            break
                    i += 1
            elif low in PROMQL_KEYWORDS:
                pass
            elif text in PROMQL_AGGREGATIONS and nxt.lower() in ("by", "without"):
                pass  # sum by (...) (...)
            elif nxt == "(":
                if text not in PROMQL_FUNCTIONS and text not in PROMQL_AGGREGATIONS:
                    problems.append(f"unknown function {text}")
            elif stack and stack[-1] in "[":
                pass
            else:
                selector = Selector(text, [])
                if nxt == "{":
                    j = i + 2
                    while j + 2 < len(tokens) and tokens[j][1] != "}":
                        label, op, value = tokens[j][1], tokens[j + 1][1], tokens[j + 2][1]
                        if tokens[j + 2][0] != "string" or op not in ("=", "!=", "=~", "!~"):
                            problems.append(f"bad matcher in {text}{{...}}")
                            break
                        selector.matchers.append((label, op, value[1:-1]))
                        j += 3
                        if j < len(tokens) and tokens[j][1] == ",":
                            j += 1
                    if j >= len(tokens) or tokens[j][1] != "}":
                        problems.append(f"unclosed matcher list of {text}")
                        j = len(tokens) - 1
                    i = j
                selectors.append(selector)
        i += 1
    if stack:
        problems.append(f"unclosed {''.join(stack)!r}")
    return selectors, problems


STANDARD_LABELS = {"job", "instance", "__name__"}


def expr_problems(expr: str, exported: ExportedMetrics, where: str) -> list[str]:
    """Metrics an expression uses that the platform does not export, bad labels, bad syntax."""
    problems = []
    selectors, syntax = parse_promql(expr)
    problems += [f"{where}: {p}" for p in syntax]
    if not selectors:
        problems.append(f"{where}: uses no metric")
    for sel in selectors:
        if sel.metric not in exported:
            problems.append(f"{where}: {sel.metric} is not a metric the platform exports")
            continue
        known = exported.labels(sel.metric)
        for label, _op, _value in sel.matchers:
            if known is not None and label not in known and label not in STANDARD_LABELS:
                problems.append(f"{where}: {sel.metric} has no label {label} (labels: {', '.join(known)})")
    return problems


def selectors_of(expr: str) -> list[Selector]:
    return parse_promql(expr)[0]


# --- Grafana ------------------------------------------------------------------------------------

PANEL_TYPES = {
    "timeseries",
    "stat",
    "gauge",
    "bargauge",
    "table",
    "text",
    "row",
    "heatmap",
    "piechart",
    "logs",
    "traces",
    "nodeGraph",
}


def _dashboard_panels(dash: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for p in dash.get("panels") or []:
        yield p
        yield from p.get("panels") or []


def dashboard_queries(dash: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and templating query."""
    queries = []
    for p in _dashboard_panels(dash):
        for t in p.get("targets") or []:
            if "expr" in t:
                queries.append((f"panel {p.get('id')} ({p.get('title')}) {t.get('refId')}", t["expr"]))
    for var in (dash.get("templating") or {}).get("list") or []:
        q = var.get("query")
        q = q.get("query") if isinstance(q, Mapping) else q
        if var.get("type") == "query" and q:
            m = re.fullmatch(r"\s*label_values\((?:(.*),)?\s*(\w+)\s*\)\s*", q)
            if m:
                if m.group(1):
                    queries.append((f"variable {var.get('name')}", m.group(1)))
            else:
                queries.append((f"variable {var.get('name')}", q))
    return queries


def dashboard_problems(dash: Any, exported: ExportedMetrics, datasource_uids: set[str]) -> list[str]:
    """A Grafana dashboard: the model's required parts, a sound layout, known data sources and
    only metrics (and labels) the platform exports."""
    if not isinstance(dash, Mapping):
        return ["the dashboard is not a JSON object"]
    problems = []
    for key in ("uid", "title", "panels", "schemaVersion"):
        if key not in dash:
            problems.append(f"dashboard has no {key}")
    if not isinstance(dash.get("schemaVersion"), int):
        problems.append("schemaVersion is not an integer")
    ids: set[Any] = set()
    for p in _dashboard_panels(dash):
        pid = p.get("id")
        if pid in ids:
            problems.append(f"panel id {pid} is used twice")
        ids.add(pid)
        if p.get("type") not in PANEL_TYPES:
            problems.append(f"panel {pid}: unknown type {p.get('type')}")
        g = p.get("gridPos") or {}
        if not all(isinstance(g.get(k), int) for k in ("x", "y", "w", "h")):
            problems.append(f"panel {pid}: gridPos needs integer x, y, w, h")
        elif g["x"] + g["w"] > 24:
            problems.append(f"panel {pid}: wider than the 24-column grid")
        if p.get("type") == "row":
            continue
        if not p.get("title"):
            problems.append(f"panel {pid}: no title")
        ds = (p.get("datasource") or {}).get("uid")
        if ds not in datasource_uids:
            problems.append(f"panel {pid}: data source {ds} is not provisioned")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"panel {pid}: no queries")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            problems.append(f"panel {pid}: duplicate refId")
        for t in targets:
            if not t.get("expr"):
                problems.append(f"panel {pid}: target {t.get('refId')} has no expr")
    for where, q in dashboard_queries(dash):
        problems += expr_problems(q, exported, where)
    return problems


# --- Prometheus rules -----------------------------------------------------------------------------

DURATION_RE = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
SEVERITIES = {"critical", "warning", "info"}


def alert_rules_problems(doc: Any, exported: ExportedMetrics, topics: Iterable[str] = ()) -> list[str]:
    """Prometheus alerting-rule files: groups/rules structure, durations, labels and annotations,
    exported metrics only, and topic matchers naming real topics."""
    topic_set = set(topics)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("groups"), list) or not doc["groups"]:
        return ["the file must have a non-empty list `groups`"]
    problems: list[str] = []
    group_names: set[Any] = set()
    alert_names: set[Any] = set()
    for gi, group in enumerate(doc["groups"]):
        if not isinstance(group, Mapping):
            problems.append(f"group {gi} is not a mapping")
            continue
        gname = group.get("name")
        if not gname:
            problems.append(f"group {gi} has no name")
        elif gname in group_names:
            problems.append(f"group {gname} defined twice")
        group_names.add(gname)
        if "interval" in group and not DURATION_RE.match(str(group["interval"])):
            problems.append(f"group {gname}: bad interval {group['interval']}")
        rules = group.get("rules")
        if not isinstance(rules, list) or not rules:
            problems.append(f"group {gname}: no rules")
            continue
        for ri, rule in enumerate(rules):
            where = f"{gname}/{(rule or {}).get('alert', ri)}"
            if not isinstance(rule, Mapping):
                problems.append(f"{where}: not a mapping")
                continue
            if "record" in rule:
                problems.append(f"{where}: recording rules belong in a rules file of their own")
                continue
            unknown = set(rule) - RULE_KEYS
            if unknown:
                problems.append(f"{where}: unknown keys {sorted(unknown)}")
            alert = rule.get("alert")
            if not isinstance(alert, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", alert):
                problems.append(f"{where}: alert must be a name")
            elif alert in alert_names:
                problems.append(f"{where}: alert name used twice")
            alert_names.add(alert)
            expr = rule.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                problems.append(f"{where}: no expr")
            else:
                problems += expr_problems(expr, exported, where)
                for sel in selectors_of(expr):
                    for label, op, value in sel.matchers:
                        if label == "topic" and topic_set:
                            names = value.split("|") if op == "=~" else [value]
                            for n in names:
                                if n not in topic_set:
                                    problems.append(f"{where}: topic {n} is not a platform topic")
            for key in ("for", "keep_firing_for"):
                if key in rule and not DURATION_RE.match(str(rule[key])):
                    problems.append(f"{where}: bad duration {key}: {rule[key]}")
            labels = rule.get("labels")
            if not isinstance(labels, Mapping) or labels.get("severity") not in SEVERITIES:
                problems.append(f"{where}: labels.severity must be one of {sorted(SEVERITIES)}")
            annotations = rule.get("annotations")
            if not isinstance(annotations, Mapping) or not all(
                annotations.get(k) for k in ("summary", "description")
            ):
                problems.append(f"{where}: annotations need summary and description")
    return problems


def promtool() -> str | None:
    return shutil.which("promtool")


def run_promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess[str]:
    tool = promtool()
    assert tool is not None
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


# --- misc ---------------------------------------------------------------------------------------


def markdown_anchors(text: str) -> set[str]:
    """GitHub-style anchors of a Markdown document's headings."""
    anchors = set()
    for line in text.splitlines():
        m = re.match(r"^#+\s+(.*)$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors


def script_topics(script: str) -> tuple[list[str], str]:
    """The event topics and the dead-letter topic create-topics.sh creates."""
    m = re.search(r"^EVENT_TOPICS=\((.*?)\)", script, re.S | re.M)
    topics = m.group(1).split() if m else []
    d = re.search(r"^DEAD_LETTER_TOPIC=(\S+)", script, re.M)
    return topics, d.group(1) if d else ""


def served_health_paths(app: AppService, root: Path = REPO) -> set[str]:
    """The health routes a process serves: the kit's app factory gives every platform service
    /health/live and /health/ready (docs/dev/conventions.md); the simulators declare their own."""
    paths: set[str] = set()
    if app.kind == "service":
        paths |= {"/health/live", "/health/ready"}
    for path in (root / app.package_dir / "src" / app.module).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        paths |= set(re.findall(r"""\.(?:get|api_route)\(\s*["'](/health/[a-z]+)["']""", text))
    return paths


def readiness_path(app: AppService, root: Path = REPO) -> str:
    """/health/ready where the process serves it (database and broker checked), else /health/live."""
    return "/health/ready" if "/health/ready" in served_health_paths(app, root) else "/health/live"


def settings_declarations(root: Path = REPO) -> dict[str, dict[str, Any]]:
    """env_prefix and default port declared by each package's config.py, where it exists yet."""
    found: dict[str, dict[str, Any]] = {}
    for svc in APP_SERVICES:
        path = root / svc.package_dir / "src" / svc.module / "config.py"
        if not path.is_file():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        info: dict[str, Any] = {"path": str(path.relative_to(root))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "SettingsConfigDict":
                for k in node.keywords:
                    if k.arg == "env_prefix":
                        info["env_prefix"] = _literal_str(k.value)
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == "port"
                and isinstance(node.value, ast.Constant)
            ):
                info["port"] = node.value.value
        found[svc.name] = info
    return found
