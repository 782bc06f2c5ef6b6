# psa-integrator as a long-running service: the daemon (`integrator run`) as a non-root user.
#   docker build -t psa-integrator .
#   docker run -d --name integrator \
#     -v integrator-data:/var/lib/integrator \
#     -v "$PWD/config/container.example.yaml:/etc/integrator/integrator.yaml:ro" \
#     -e ALSO_PASSWORD psa-integrator
# The database (SQLite) lives on the /var/lib/integrator volume; the configuration is read from
# /etc/integrator (mount it read-only). Secrets come from the environment (${VAR} in the YAML) or
# from files (password_file:, e.g. a Docker secret under /run/secrets, mode 0400 for uid 10001).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    INTEGRATOR_CONFIG=/etc/integrator/integrator.yaml

RUN groupadd --system --gid 10001 integrator \
 && useradd --system --uid 10001 --gid integrator --home-dir /var/lib/integrator --create-home \
      --shell /usr/sbin/nologin integrator \
 && mkdir -p /etc/integrator && chown integrator:integrator /var/lib/integrator

WORKDIR /opt/integrator
COPY pyproject.toml README.md ./
COPY core ./core
COPY plugins ./plugins
RUN pip install '.[postgres]'

USER integrator:integrator
WORKDIR /var/lib/integrator
VOLUME ["/var/lib/integrator"]

# Healthy while every scheduled integration synced successfully within stale_after_hours:
# `status` reads only the database (no vendor call, no secret) and exits 3 when one is stale, 2 on a bad config.
HEALTHCHECK --interval=5m --timeout=30s --start-period=15m --retries=1 \
  CMD ["integrator", "-q", "status", "--json"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["integrator"]
CMD ["--log-format", "json", "-v", "run"]
