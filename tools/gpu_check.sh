#!/usr/bin/env bash
# Everything a lent GPU machine should run, in one command (a lease is minutes): rxt bench gpu (numerics against a
# float64 CPU reference, the attention family in bf16, each stage's training step with MFU, decode speed), then eager
# against torch.compile'd training steps on the device. Needs only python3 with torch, tokenizers, safetensors, tqdm:
# the package is read from this checkout (PYTHONPATH), nothing is installed. Results go to $OUT (default runs/gpu).
#   bash tools/gpu_check.sh                 # on the GPU machine, from the repository root
set -uo pipefail
OUT=${OUT:-runs/gpu}; mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
rxt() { python3 -c "import sys; from rxt.app.cli import main; sys.exit(main())" "$@"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv 2>&1 | tee "$OUT/device.txt"
python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())" | tee -a "$OUT/device.txt"
timeout "${GPU_BENCH_S:-330}" bash -c "$(declare -f rxt); rxt bench gpu --json '$OUT/bench_gpu.json'" 2>&1 | tee "$OUT/bench_gpu.log"
echo "bench gpu exit ${PIPESTATUS[0]}"
timeout "${COMPILE_S:-150}" bash -c "$(declare -f rxt); rxt bench train --compile --stages 20_joint_lm --repeats 5 --json '$OUT/bench_train_compile_gpu.json'" 2>&1 | tee "$OUT/bench_train_compile.log"
echo "bench train --compile exit ${PIPESTATUS[0]}"
