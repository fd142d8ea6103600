# imi-mailwatch container image. Build:   docker build -t imi-mailwatch .
# Run (configuration and rules read-only, state on a volume): see docs/operations.md.

# The image's Python is the one CI tests with (tests/test_packaging.py compares them), and
# the tag pins the Debian release. The dependencies come from the two locks (make lock).
ARG PYTHON_VERSION=3.11
ARG DEBIAN_RELEASE=bookworm

# -- build: install the locked dependencies and the package into a virtual environment ---
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements-build.lock requirements.lock ./
# setuptools first, so that the one sdist (dkimpy) and the package build without fetching
# anything unpinned (no build isolation)
RUN python -m venv /opt/imi-mailwatch \
    && /opt/imi-mailwatch/bin/pip install --no-cache-dir --require-hashes -r requirements-build.lock \
    && /opt/imi-mailwatch/bin/pip install --no-cache-dir --require-hashes --no-build-isolation \
       -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY imi_mailwatch ./imi_mailwatch
RUN /opt/imi-mailwatch/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
    && /opt/imi-mailwatch/bin/pip check

# -- runtime: the virtual environment, a font for the PDF, a non-root user ---------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE}
# fonts-dejavu-core: the Unicode TTF the alert PDF is rendered with
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/imi-mailwatch \
       --no-create-home --shell /usr/sbin/nologin imi-mailwatch \
    && install -d -o imi-mailwatch -g imi-mailwatch -m 0700 /var/lib/imi-mailwatch \
    && install -d -m 0755 /etc/imi-mailwatch
COPY --from=build /opt/imi-mailwatch /opt/imi-mailwatch
ENV PATH=/opt/imi-mailwatch/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# /etc/imi-mailwatch: imi-mailwatch.yaml and rules/, mounted read-only
# /var/lib/imi-mailwatch: the state store (a volume)
VOLUME ["/var/lib/imi-mailwatch"]
WORKDIR /var/lib/imi-mailwatch
USER 10001:10001
# /healthz and /metrics when service.health_listen is 0.0.0.0:9310; the web desk
# (command "web", a second container on the same volume) when web.listen is 0.0.0.0:8080
EXPOSE 9310 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
    CMD ["imi-mailwatch", "health"]
# umask 0077: whatever a library writes is private too (the daemon gives its own files 0600)
ENTRYPOINT ["/bin/sh", "-c", "umask 0077 && exec imi-mailwatch \"$@\"", "imi-mailwatch"]
CMD ["run"]
