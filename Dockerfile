# backbot as a container: the wheel built in one stage, installed in a slim runtime stage that
# runs as an unprivileged user and reports its health on HEALTH_PORT (/healthz).
# Build and run: see README, "Containers".

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin backbot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER backbot
WORKDIR /home/backbot
ENV DATABASE_URL=sqlite+aiosqlite:////home/backbot/data/backbot.db \
    HEALTH_PORT=8080 \
    PYTHONUNBUFFERED=1
RUN mkdir -p /home/backbot/data
VOLUME ["/home/backbot/data"]
EXPOSE 8080 8443
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
CMD ["backbot", "run"]
