"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

What can be checked here is checked: the YAML parses; with .env.example every required
setting is present and without it Compose would name what is missing; every command,
entrypoint and health check runs something this project provides (a console script and a
subcommand its parser accepts, an importable module, a file the image copies); every JUDGE_*
value is one the settings schema accepts; the image's build context holds what it copies; and
the privileges are what README promises (web: none; worker: no --privileged, a short list).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from store import env as settings

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
JUDGE_SERVICES = ("migrate", "web", "worker", "flower")
WORKER_CAPS = {"SYS_ADMIN", "SETUID", "SETGID", "MKNOD", "KILL", "DAC_OVERRIDE", "FOWNER",
               "CHOWN", "SYS_RESOURCE"}  # fmt: skip


class Missing(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable syntax: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, ${VAR?error}, with variables nested in defaults."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt != "{":
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i + 1 :])
            assert m, f"a lone $ in {text!r}: write $$"
            out.append(env.get(m.group(0), ""))
            i += 1 + m.end()
            continue
        depth, j = 1, i + 2
        while depth:
            assert j < len(text), f"unclosed ${{ in {text!r}"
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        inner = text[i + 2 : j - 1]
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])(.*))?$", inner, re.S)
        assert m, f"bad substitution ${{{inner}}}"
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        value = env.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-") and unset:
            value = interpolate(arg, env)
        elif op in (":?", "?") and unset:
            raise Missing(f"{name}: {arg}")
        out.append(value or "")
        i = j
    return "".join(out)


def resolve(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(x, env) for x in node]
    if isinstance(node, dict):
        return {k: resolve(v, env) for k, v in node.items()}
    return node


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return doc


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = resolve(raw, env_example())
    return resolved


def argv(value: Any) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def test_services_and_required_settings(raw: dict[str, Any], compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *JUDGE_SERVICES}
    assert services["flower"]["profiles"] == ["flower"]
    assert all("profiles" not in s for n, s in services.items() if n != "flower")
    # Without a .env, Compose stops and names the first missing secret instead of starting
    # services with empty passwords.
    with pytest.raises(Missing) as missing:
        resolve(raw, {})
    assert "PASSWORD" in str(missing.value) or "SECRET" in str(missing.value)
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "JUDGE_SECRET_KEY", "FLOWER_BASIC_AUTH"):
        partial = {k: v for k, v in env_example().items() if k != name}
        with pytest.raises(Missing, match=name):
            resolve(raw, partial)


def test_judge_settings_match_the_schema(raw: dict[str, Any], compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in JUDGE_SERVICES:
        environment = services[name]["environment"]
        for key in ("JUDGE_DATABASE_URL", "JUDGE_REDIS_URL"):
            assert key in environment, f"{name} lacks {key}"
        for key, value in environment.items():
            if key.startswith("JUDGE_"):
                assert key in settings.BY_NAME, f"{name}: {key} is not a judge setting"
                settings.parse(settings.BY_NAME[key], str(value))  # ConfigError if unusable
    assert "JUDGE_SECRET_KEY" in services["web"]["environment"]
    # The URLs name the services of this file (and the passwords they were given).
    env = env_example()
    db = services["worker"]["environment"]["JUDGE_DATABASE_URL"]
    assert db == f"postgresql://judge:{env['POSTGRES_PASSWORD']}@postgres:5432/judge"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]
    redis_url = services["worker"]["environment"]["JUDGE_REDIS_URL"]
    assert redis_url == f"redis://:{env['REDIS_PASSWORD']}@redis:6379/0"
    # A worker-only machine points them elsewhere with .env alone.
    far = {**env, "JUDGE_REDIS_URL": "redis://:pw@10.0.0.5:6379/0",
           "JUDGE_DATABASE_URL": "postgresql://judge:pw@10.0.0.5:5432/judge"}  # fmt: skip
    worker = resolve(raw["services"]["worker"]["environment"], far)
    assert worker["JUDGE_REDIS_URL"] == far["JUDGE_REDIS_URL"]
    assert worker["JUDGE_DATABASE_URL"] == far["JUDGE_DATABASE_URL"]


def test_redis_keeps_an_append_only_file(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    cmd = argv(redis["command"])
    assert cmd[0] == "redis-server"
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert "--requirepass" in cmd
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert compose["services"]["postgres"]["volumes"][0].endswith(":/var/lib/postgresql/data")


def test_every_command_is_provided_by_the_project(compose: dict[str, Any]) -> None:
    from web.cli import build_parser

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    scripts = project["project"]["scripts"]
    dockerfile = (REPO / "Dockerfile").read_text()
    copied = dict(re.findall(r"^COPY (\S+) (\S+)$", dockerfile, re.M))
    installed_in_image = set(re.findall(r'"(\w+)>=', dockerfile))

    def check(cmd: list[str], where: str) -> None:
        prog = cmd[0]
        if prog == "judge":
            assert scripts["judge"] == "web.cli:main"
            build_parser().parse_args(cmd[1:])  # SystemExit on an unknown subcommand/option
        elif prog == "sandbox":
            # A script of its own (bin/sandbox: it starts Python without `site`), which the
            # image must have for pip to install it.
            script_files = project["tool"]["setuptools"]["script-files"]
            assert "bin/sandbox" in script_files and "sandbox" not in scripts
            assert copied.get("bin") == "./bin", "the image lacks bin/"
            assert cmd[1:] in (["doctor"], ["doctor", "--json"]), cmd
        elif prog == "celery":
            assert "flower" in installed_in_image or cmd[3] != "flower"
            module = cmd[cmd.index("-A") + 1]
            assert importlib.util.find_spec(module) is not None, module
            source = Path(importlib.util.find_spec(module).origin or "").read_text()
            assert re.search(r"^app = Celery\(", source, re.M), f"{module} has no Celery app"
        elif prog == "python":
            code = cmd[cmd.index("-c") + 1]
            compile(code, where, "exec")
        elif prog == "judge-worker-entrypoint":
            src = next(s for s, d in copied.items() if d == "/usr/local/bin/" + prog)
            path = REPO / src
            assert path.is_file() and os.access(path, os.X_OK), path
            subprocess.run(["sh", "-n", str(path)], check=True)
        else:
            raise AssertionError(f"{where}: {prog!r} is not something this project provides")

    for name in JUDGE_SERVICES:
        service = compose["services"][name]
        command = argv(service["command"])
        if "entrypoint" in service:
            entry = argv(service["entrypoint"])
            check(entry, f"{name}.entrypoint")
            assert entry[-1] != "--" and command[0] in ("judge", "celery")  # exec "$@"
        check(command, f"{name}.command")
        test = service.get("healthcheck", {}).get("test")
        if test:
            assert test[0] == "CMD", test
            check(test[1:], f"{name}.healthcheck")
    assert argv(compose["services"]["worker"]["command"])[1] == "worker"
    concurrency = argv(compose["services"]["worker"]["command"])
    assert int(concurrency[concurrency.index("--concurrency") + 1]) >= 1


def test_privileges(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in JUDGE_SERVICES:
        assert not services[name].get("privileged"), name
    for name in ("web", "migrate", "flower"):
        assert services[name]["user"] == "10001:10001", name
        assert "cap_add" not in services[name], name
    web = services["web"]
    assert web["cap_drop"] == ["ALL"] and web["read_only"] is True
    assert "no-new-privileges:true" in web["security_opt"]
    worker = services["worker"]
    assert worker["user"] == "0:0" and worker["cap_drop"] == ["ALL"]
    assert set(worker["cap_add"]) == WORKER_CAPS
    # AppArmor off (Docker's profile denies mount); seccomp: the project's profile, no other.
    assert worker["security_opt"] == ["apparmor=unconfined", "seccomp=docker/worker-seccomp.json"]
    assert worker["cgroup"] == "private"
    # Scalable: no fixed name, no published port.
    assert "container_name" not in worker and "ports" not in worker
    # Published ports stay on loopback unless .env says otherwise.
    for name in ("postgres", "redis", "web", "flower"):
        for port in services[name]["ports"]:
            assert port.startswith("127.0.0.1:"), (name, port)


def test_the_image_build_context(compose: dict[str, Any]) -> None:
    for name in JUDGE_SERVICES:
        assert compose["services"][name]["build"] == ".", name
    dockerfile = (REPO / "Dockerfile").read_text()
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for src, _dest in re.findall(r"^COPY (\S+) (\S+)$", dockerfile, re.M):
        for part in src.split():
            path = REPO / part
            assert path.exists(), f"COPY {part}: not in the build context"
            assert part.split("/")[0] not in ignored, f"COPY {part}: excluded by .dockerignore"
    copied = re.findall(r"^COPY (.+) \S+$", dockerfile, re.M)
    sources = " ".join(copied).split()
    for package in ("sandbox", "store", "worker", "web"):
        assert package in sources, f"the image lacks {package}/"
    for needed in ("pyproject.toml", "README.md", "bin"):  # pip install -e . reads them
        assert needed in sources
    # What the web serves from its package directory is inside what is copied.
    for runtime in ("web/templates", "web/static", "web/samples", "store/migrations"):
        assert (REPO / runtime).is_dir(), runtime
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.M)
    assert cmd and json.loads(cmd.group(1))[:2] == ["judge", "web"]
    assert re.search(r"^USER judge$", dockerfile, re.M)  # unprivileged unless told otherwise


def test_worker_seccomp_profile(compose: dict[str, Any]) -> None:
    """The shipped profile is what docker/worker_seccomp.py writes; it refuses by default,
    lists nothing twice, and its only rule beyond Docker's default (the generator's BASE) is
    pivot_root under CAP_SYS_ADMIN. Which calls Docker's default holds is the engine's to say:
    tests/deploy/test_compose_engine.py grades with it on a real one."""
    spec = importlib.util.spec_from_file_location(
        "worker_seccomp", REPO / "docker" / "worker_seccomp.py"
    )
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # dataclasses look their module up there
    spec.loader.exec_module(gen)
    opt = compose["services"]["worker"]["security_opt"][1]
    path = REPO / opt.removeprefix("seccomp=")
    assert path == gen.OUT and path.read_text() == gen.render(), (
        "run python3 docker/worker_seccomp.py"
    )
    profile = json.loads(path.read_text())
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO" and profile["defaultErrnoRet"] == 1
    assert [r.json() for r in gen.ADDED] == [
        {
            "names": ["pivot_root"],
            "action": "SCMP_ACT_ALLOW",
            "includes": {"caps": ["CAP_SYS_ADMIN"]},
        }
    ]
    assert profile["syscalls"] == [r.json() for r in (*gen.BASE, *gen.ADDED)]
    base = {n for r in gen.BASE for n in r.names.split()}
    assert "pivot_root" not in base  # Docker's default never allows it
    # The capability-free part allows none of what needs a capability or the sandbox refuses
    # in boxes anyway (a typo moving a name there would widen every container).
    everyone = set(gen.EVERYONE.split())
    for danger in (
        "mount",
        "umount2",
        "unshare",
        "setns",
        "pivot_root",
        "bpf",
        "chroot",
        "init_module",
        "kexec_load",
        "keyctl",
        "add_key",
        "userfaultfd",
        "ptrace",
    ):
        assert danger not in everyone, danger
    privileged = [r for r in gen.BASE if r.caps]
    assert all(r.caps == ("CAP_SYS_ADMIN",) or "mount" not in r.names.split() for r in privileged)
    # Keys the engine reads; an unknown one would be ignored, not refused.
    known = {"names", "action", "errnoRet", "args", "includes", "excludes"}
    assert all(set(rule) <= known for rule in profile["syscalls"])


def test_dockerfile_needs_no_image_registry() -> None:
    """BuildKit pulls docker/dockerfile for a `# syntax=` line; the base image is the one
    Debian image every Docker host has or builds (no registry in CI: the tool makes it)."""
    dockerfile = (REPO / "Dockerfile").read_text()
    assert not re.search(r"^#\s*syntax\s*=", dockerfile, re.M | re.I)
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == ["debian:bookworm-slim"]
