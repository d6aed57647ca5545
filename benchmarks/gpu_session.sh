#!/usr/bin/env bash
# One GPU session: the marked GPU tests, the pipeline-efficiency benchmark at 1080p->2160p
# and 540p->1080p, a CLI run, and a training-speed probe. Writes everything under $OUT.
# Expects .device/wheels/*.whl (PyAV and pytest/rich for Python 3.12, no network there)
# and .device/bigbuckbunny.mp4 (a copy of ../shared/media/bigbuckbunny.mp4).
set -u
# DEVICE=cpu BIG=320x180 SMALL=160x90 REPEAT=1 MODELS=ultra try it on a CPU first.
OUT=${OUT:-/tmp/vsr-gpu-out}; mkdir -p "$OUT"
DEVICE=${DEVICE:-cuda}; BIG=${BIG:-1920x1080}; SMALL=${SMALL:-960x540}; REPEAT=${REPEAT:-2}; MODELS=${MODELS:-ultra base}
WORK=$(mktemp -d)
exec > >(tee "$OUT/session.log") 2>&1
date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
python -m pip install -q --no-deps --no-index .device/wheels/*.whl 2>&1 | tail -2
python -c "import av, torch, rich, pytest; print('av', av.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python benchmarks/make_clip.py .device/bigbuckbunny.mp4 "$WORK/bbb-$BIG.mp4" $BIG $REPEAT
python benchmarks/make_clip.py .device/bigbuckbunny.mp4 "$WORK/bbb-$SMALL.mp4" $SMALL $((REPEAT + 1))
python -c "from vsr.video.codecs import encoder_opens as o; print('h264_nvenc opens:', o('h264_nvenc', 1920, 1080, 'yuv420p'))"
timeout 240 python -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py tests/test_gpu_video.py 2>&1 | tail -15
for PRESET in veryfast ultrafast; do
  timeout 200 python benchmarks/stages.py "$WORK/bbb-$BIG.mp4" "$WORK/bbb-$SMALL.mp4" --models $MODELS \
    --device $DEVICE --batch 4 --codec libx264 --crf 23 --encoder-preset $PRESET --json "$OUT/stages-$PRESET.json"
done
timeout 60 python -m vsr upscale "$WORK/bbb-$SMALL.mp4" -o "$WORK/cli.mp4" --device $DEVICE --model ultra
STARTED=$(date +%s.%N)
timeout 90 python -m vsr train --variant small --scale 2 --train vsr/samples --val none --steps ${STEPS:-300} --batch 32 \
  --device $DEVICE --run-dir "$WORK/probe" --save-every 100000 --val-every 100000 > "$OUT/train-probe.txt" 2>&1
echo "train probe rc=$? seconds=$(echo "$(date +%s.%N) - $STARTED" | bc)"; tail -c 400 "$OUT/train-probe.txt"; date -u
