# syntax=docker/dockerfile:1.7
#
# Speaker: one image for the web server (daphne), the engine worker
# (`python manage.py runengine`) and the migration job.
#
#   docker build -t speaker .                                       # platform + Piper
#   docker build --build-arg WITH_XTTS=true -t speaker-gpu .        # + voice cloning (XTTS)
#   docker build --build-arg EXTRA_APT_PACKAGES=ffmpeg -t speaker .   # see below
#
# The default image is slim (no torch). WITH_XTTS=true adds the voice-cloning extra
# (requirements-xtts.txt): docker-compose.yml builds the GPU worker that way. GPU: the
# torch wheel pinned there bundles the CUDA runtime, so a plain Debian base is enough;
# the host needs the NVIDIA driver and the NVIDIA Container Toolkit, and the container a
# GPU reservation (docker-compose.yml: worker-gpu).
FROM python:3.11-slim

# Nothing else is needed at run time: soundfile's and onnxruntime's wheels bundle their
# native libraries, and espeak-ng's data ships inside the piper-tts wheel. Audio decoding
# goes through soundfile, not FFmpeg. If an engine ever decodes through
# torchaudio/torchcodec, build with EXTRA_APT_PACKAGES=ffmpeg (torchcodec loads FFmpeg's
# shared libraries at run time).
ARG EXTRA_APT_PACKAGES=""
# true: install the voice-cloning extra (torch, coqui-tts; several GB)
ARG WITH_XTTS=false
ARG APP_UID=10001

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8010 \
    EMBEDDED_WORKER=false \
    MEDIA_ROOT=/data/media \
    AUDIT_LOG_FILE=/data/logs/audit.log \
    XTTS_MODEL_DIR=/models/xtts_v2 \
    TTS_HOME=/models \
    HF_HOME=/models/.cache/huggingface \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus-multiproc \
    WORKER_METRICS_PORT=9101

# tini as PID 1: forwards SIGTERM to daphne / the worker (which finish or hand back
# their job) and reaps zombies, in docker and in Kubernetes alike.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ${EXTRA_APT_PACKAGES} \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid "${APP_UID}" speaker \
 && useradd --system --uid "${APP_UID}" --gid speaker --create-home --home-dir /home/speaker \
        --shell /usr/sbin/nologin speaker

WORKDIR /app

# Dependencies first, so that code changes don't reinstall torch.
COPY requirements.txt requirements-xtts.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -r requirements.txt \
 && if [ "${WITH_XTTS}" = "true" ]; then pip install -r requirements-xtts.txt; fi

# The code stays owned by root: the app user can read it but not change it.
COPY . .

# collectstatic needs production settings to pick whitenoise's manifest storage; the
# values below exist only for this RUN (settings refuse to start without them) and are
# not kept in the image's environment.
RUN chmod 0755 deploy/docker-entrypoint.sh \
 && SECRET_KEY=collectstatic-at-build-time-only-never-used-at-run-time-000000 \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
 && mkdir -p /data/media /data/logs /models/xtts_v2 "${PROMETHEUS_MULTIPROC_DIR}" \
 && chown -R speaker:speaker /data /models "${PROMETHEUS_MULTIPROC_DIR}"

# No VOLUME line: named volumes mounted on these paths (docker-compose.yml) start as
# copies of the speaker-owned directories anyway, and a VOLUME would leave an anonymous
# volume behind for every one-shot `migrate` container.

USER speaker

# 8010: web (HTTP + websockets, /prometheus). 9101: an engine worker's own metrics.
EXPOSE 8010 9101

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]

ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/docker-entrypoint.sh"]
CMD ["daphne", "-b", "0.0.0.0", "-p", "8010", "speaker_site.asgi:application"]
