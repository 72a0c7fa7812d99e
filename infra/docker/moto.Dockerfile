# The moto server (the local AWS API: CodeBuild for the executors), every Python package pinned in
# infra/moto/requirements.lock.txt, the same versions the no-Docker default installs.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3 python3-venv ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10012 --home-dir /var/lib/moto --create-home moto
COPY infra/moto/requirements.lock.txt /opt/moto/requirements.lock.txt
RUN python3 -m venv /opt/moto/venv && export PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    && /opt/moto/venv/bin/pip install --no-cache-dir --disable-pip-version-check -q -r /opt/moto/requirements.lock.txt
USER moto
EXPOSE 5000
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=30 CMD ["/opt/moto/venv/bin/python", "-c", \
  "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/moto-api/data.json', timeout=4)"]
ENTRYPOINT ["/opt/moto/venv/bin/moto_server", "-H", "0.0.0.0", "-p", "5000"]
