# syntax=docker/dockerfile:1
# Rounds API image: build wheels in one stage, run as a non-root user in a slim one.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# gcc for the PHI detector's native build (scripts/build_native.py: mypyc, from the dev pins;
# the build goes into the wheel, gcc stays in this stage).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml uv.lock README.md ./
COPY app ./app
COPY scripts/build_native.py ./scripts/
# The same pins as make and CI: uv.lock, exported with hashes and installed by pip.
RUN python -m pip install uv==0.13.8 \
    && uv export --frozen --no-dev --no-emit-project --format requirements-txt -o requirements.txt \
    && uv export --frozen --extra dev --no-emit-project --format requirements-txt -o build-requirements.txt \
    && python -m pip wheel --wheel-dir /wheels --require-hashes -r requirements.txt \
    && python -m pip install --require-hashes -r build-requirements.txt \
    && python scripts/build_native.py \
    && python -m pip wheel --wheel-dir /wheels --no-deps .

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production \
    PORT=8000 \
    FORWARDED_ALLOW_IPS=127.0.0.1
RUN groupadd --system --gid 10001 rounds \
    && useradd --system --uid 10001 --gid rounds --home-dir /srv/rounds rounds
WORKDIR /srv/rounds
COPY --from=build /wheels /wheels
RUN python -m pip install --no-index /wheels/*.whl && rm -rf /wheels
COPY alembic.ini ./
COPY migrations ./migrations
RUN mkdir -p var && chown 10001:10001 var
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os,urllib.request,sys; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/health/ready', timeout=4).status == 200 else 1)"]
# Migrations first (idempotent), then uvicorn honouring X-Forwarded-* from the proxy tier.
CMD ["sh", "-c", "python -m app db upgrade && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port \"$PORT\" --proxy-headers --forwarded-allow-ips \"$FORWARDED_ALLOW_IPS\" --no-access-log"]
