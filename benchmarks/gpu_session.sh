#!/usr/bin/env bash
# One GPU session, at most 9.5 minutes (every step has its own timeout: 535 s in all, plus about 20 s
# of setup): every CUDA test (tests marked gpu), the GPU precision measurement
# (benchmarks/gpu_precision.py: fp16, TF32 and strict fp32 against CPU fp32, on charts and
# photos), which way of running the network is fastest (benchmarks/network_variants.py),
# `vsr bench` at 1080p -> 2160p and 540p -> 1080p (the precision `vsr upscale` would run),
# live, and where the time goes (benchmarks/gpu_profile.py). The most wanted steps run
# first, so a session cut short still brings them back. Everything lands under $OUT.
# Expects .device/wheels/*.whl (PyAV, pytest, rich for the GPU machine's Python; it has no
# network) and .device/bigbuckbunny.mp4: benchmarks/prepare_device.sh makes both.
# Try it on a CPU first: DEVICE=cpu BIG=320x180 SMALL=160x90 MODELS=ultra benchmarks/gpu_session.sh
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/vsr-gpu-out}; mkdir -p "$OUT"
DEVICE=${DEVICE:-cuda}; BIG=${BIG:-1920x1080}; SMALL=${SMALL:-960x540}; MODELS=${MODELS:-ultra small}
WORK=$(mktemp -d)
exec > >(tee "$OUT/session.log") 2>&1
step() { echo; echo "=== $(date -u +%T) $*"; }
timed() { local limit=$1; shift; timeout "$limit" "$@"; local rc=$?; [ $rc -eq 0 ] || echo "(exit $rc; 124: the step's ${limit} s ran out)"; }
step start; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
[ "$DEVICE" = cuda ] && python -m pip install -q --no-deps --no-index .device/wheels/*.whl 2>&1 | tail -2
python -c "import av, torch, rich, pytest; print('av', av.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python -m vsr.samples.make_clip .device/bigbuckbunny.mp4 "$WORK/bbb-$BIG.mp4" --size $BIG
python -m vsr.samples.make_clip .device/bigbuckbunny.mp4 "$WORK/bbb-$SMALL.mp4" --size $SMALL --repeat 2
python -c "from vsr.video.io.codecs import encoder_opens as o; print('h264_nvenc opens:', o('h264_nvenc', 3840, 2160, 'yuv420p'))"

step "CUDA tests (every test marked gpu)"
timed 160 python -m pytest -q -p no:cacheprovider -m gpu -rs --junitxml "$OUT/gpu-tests.xml" \
  tests/test_gpu.py tests/test_gpu_video.py tests/test_gpu_pipeline.py tests/test_compiled.py tests/test_stage_timing.py \
  tests/test_precision_measurement.py 2>&1 | tail -30

step "precision on $DEVICE against CPU float32: fp16, TF32, strict fp32"
timed 90 python benchmarks/gpu_precision.py --device $DEVICE --json "$OUT/precision-$DEVICE.json"

step "network variants: ultra, small, base"
timed 40 python benchmarks/network_variants.py --device $DEVICE --models ultra small base --size $BIG --json "$OUT/variants.json" \
  --variants eager+cudnn-benchmark eager+channels-last+benchmark "compile(channels-last)+benchmark"

step "vsr bench $BIG"
timed 100 python -m vsr bench "$WORK/bbb-$BIG.mp4" --model $MODELS --device $DEVICE --compile --batches 1 4 \
  --encoders libx264:ultrafast h264_nvenc:p4 --json "$OUT/bench-$BIG.json" 2>&1 | grep -v "^  "
step "vsr bench $SMALL"
timed 40 python -m vsr bench "$WORK/bbb-$SMALL.mp4" --model ultra --device $DEVICE --batches 1 4 \
  --encoders libx264:ultrafast h264_nvenc:p4 --json "$OUT/bench-$SMALL.json" 2>&1 | grep -v "^  "
step "vsr live, headless: latency and fps on the GPU"
if python -c "import cv2" 2>/dev/null; then
  for SIZE in 640x360 1280x720 1920x1080; do
    timed 15 python -m vsr live --source lavfi:testsrc2=size=$SIZE:rate=30 --no-window --duration 6 --device $DEVICE --model ultra | tail -1
  done
else
  echo "no OpenCV on this machine (too big to carry): vsr live not measured"
fi
step "profile: base kernels, model stage, pipeline with fewer encoder threads"
[ "$DEVICE" = cuda ] && timed 60 python benchmarks/gpu_profile.py --model base --size $BIG --clip "$WORK/bbb-$BIG.mp4" --rows 25
step end
