"""The container files can't be built on the CI machine (no Docker), so they are read and
checked here: multi-stage, non-root, a health check on /healthz, PostgreSQL wired in."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_dockerfile_is_multi_stage_non_root_and_checks_health() -> None:
    ops = instructions()
    assert [op for op, _ in ops if op == "FROM"] == ["FROM", "FROM"]
    assert any(op == "COPY" and rest.startswith("--from=build") for op, rest in ops)
    users = [rest for op, rest in ops if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    [check] = [rest for op, rest in ops if op == "HEALTHCHECK"]
    assert "/healthz" in check and "8080" in check
    assert ("ENV", "") not in ops and any("HEALTH_PORT=8080" in rest for op, rest in ops)
    assert ops[-1] == ("CMD", '["backbot", "run"]')
    # Everything the package needs at run time is copied into the build stage.
    copied = " ".join(rest for op, rest in ops if op == "COPY")
    for path in ("pyproject.toml", "README.md", "LICENSE", "bot"):
        assert path in copied


def test_compose_runs_the_bot_on_postgres_once_it_is_healthy() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    assert bot["build"] == "."
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@db:5432/" in bot["environment"]["DATABASE_URL"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert bot["environment"]["HEALTH_PORT"] == "8080"


def test_procfile_has_web_and_worker() -> None:
    lines = [x for x in (ROOT / "Procfile").read_text().splitlines() if x and not x.startswith("#")]
    kinds = {x.split(":", 1)[0] for x in lines}
    assert kinds == {"web", "worker"}
