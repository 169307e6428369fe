# OpenReel GPU image: CUDA runtime, PyTorch with CUDA, the project, `openreel serve`.
#   docker build -t openreel .
#   docker run --gpus all -p 8000:8000 -v openreel-data:/data -v hf-cache:/models openreel
# Weights are downloaded into /models on first start (or mount a directory that has them and
# set HF_HUB_OFFLINE=1). Choose the model with OPENREEL_CONFIG or by overriding CMD.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENREEL_DATA_DIR=/data \
    OPENREEL_CACHE_DIR=/models/openreel \
    HF_HOME=/models/hf \
    OPENREEL_CONFIG=/app/configs/wan2.1-t2v-1.3b.yaml

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# PyTorch with CUDA 12.8 first, so the project's `torch>=2.4` is already satisfied.
RUN pip install torch --index-url https://download.pytorch.org/whl/cu128

WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY recaption ./recaption
COPY service ./service
COPY configs ./configs
RUN pip install .

RUN useradd --create-home --uid 10001 openreel \
    && mkdir -p /data /models \
    && chown openreel /data /models
USER openreel
VOLUME ["/data", "/models"]
EXPOSE 8000

CMD ["sh", "-c", "exec openreel serve --config \"$OPENREEL_CONFIG\" --host 0.0.0.0 --port 8000"]
