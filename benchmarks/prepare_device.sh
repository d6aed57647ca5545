#!/usr/bin/env bash
# Fill the git-ignored .device/ with what benchmarks/gpu_session.sh needs on the GPU machine,
# which has Python 3.12 and torch but no PyAV and no network: wheels for PyAV, pytest and rich
# (with their pure-Python dependencies) and a copy of the Big Buck Bunny clip. About 37 MB of
# the 64 MiB a device call may carry; OpenCV (50+ MB) does not fit, so `vsr live` is measured
# there only if the machine has cv2 already. Then, from the repository root:
#   run(command="OUT=$OUT bash benchmarks/gpu_session.sh", carry=[".device"], timeout_s=560)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${VSR_SHARED:-../shared}
rm -rf .device && mkdir -p .device/wheels
python -m pip download -q --only-binary=:all: --python-version 3.12 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
  -d .device/wheels av pytest rich
rm -f .device/wheels/numpy-*.whl  # the GPU machine's torch brings numpy
cp "$SHARED/media/bigbuckbunny.mp4" .device/
du -sh .device
