# One image for every part of the judge (docker-compose.yml): `judge web` runs in it as an
# unprivileged user, `judge worker` as root of its container with the few privileges the
# sandbox needs, `judge migrate` once per deploy, and Flower when asked for.
FROM debian:bookworm-slim

# Toolchains of the judged languages (GET /api/languages lists what an image has). Trim them
# with --build-arg LANGUAGE_PACKAGES="g++" for a C/C++/Python-only image.
ARG LANGUAGE_PACKAGES="g++ default-jdk-headless nodejs ruby perl"

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/judge \
    PATH=/opt/judge/bin:$PATH \
    SANDBOX_CACHE_DIR=/var/cache/pysandbox \
    JUDGE_DATA_DIR=/var/lib/judge

# python3 is Debian's /usr/bin/python3: the interpreter that boxes run. gcc builds the
# sandbox's native helper; libseccomp2 is its filter library; util-linux has mount(8) for the
# worker's entry point.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        python3 python3-venv gcc libc6-dev libseccomp2 util-linux ca-certificates \
        $LANGUAGE_PACKAGES \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bin ./bin
COPY sandbox ./sandbox
COPY store ./store
COPY worker ./worker
COPY web ./web
COPY docker/worker-entrypoint.sh /usr/local/bin/judge-worker-entrypoint

# Editable install: templates, static files, samples and migrations are used in place.
# The helper is compiled now, into a root-owned cache, so no worker compiles at start.
RUN python3 -m venv "$VIRTUAL_ENV" \
    && pip install --no-cache-dir -e ".[judge]" "flower>=2.0" \
    && python -c "from sandbox._native import helper_path; print(helper_path())" \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/judge --create-home judge

EXPOSE 8000
USER judge
CMD ["judge", "web", "--host", "0.0.0.0", "--port", "8000"]
