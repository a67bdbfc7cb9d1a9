#!/usr/bin/env bash
# The GPU path, checked in one go (#16 point 7). On a CUDA machine (after the README's "GPU" install):
#
#     bash benchmarks/gpu_check.sh             # < 8 minutes; writes benchmarks/RESULTS_gpu.md
#     bash benchmarks/gpu_check.sh --dry-run   # any machine: every step on the CPU at toy sizes, to test this script;
#                                              # writes the report to a temporary file, never to RESULTS_gpu.md
#
# Steps, each under its own time limit (a step that runs out is recorded as such and the script goes on):
#   1. the CUDA tests (tests/test_gpu.py: samplers and training on cuda against the CPU),
#   2. CUDA figures: samplers (ring8, exact score, 2,000 and 100,000 particles), live training (the app's defaults)
#      and the digits UNet (DDIM sampling, the classifier's verdict, training steps), each next to the CPU,
#   3. the repository's sampler, training and digits benchmarks as they are (CPU figures of this machine).
# Without CUDA (and without --dry-run) it says so and exits with status 2, doing nothing.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0
OUT=benchmarks/RESULTS_gpu.md
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY=1 ;;
    --out=*) OUT="${arg#--out=}" ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown option '$arg'; expected --dry-run, --out=FILE or --help" >&2; exit 64 ;;
  esac
done
PY=${PYTHON:-python}

if ! CUDA_LINE=$("$PY" -c 'import torch; print(torch.__version__, torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")' 2>&1); then
  echo "gpu_check: cannot import torch with '$PY': $CUDA_LINE" >&2
  exit 2
fi
read -r TORCH_VERSION HAS_CUDA GPU_NAME <<<"$CUDA_LINE"
if [[ "$HAS_CUDA" != "True" && "$DRY" == 0 ]]; then
  cat >&2 <<EOF
gpu_check: no CUDA device here (torch $TORCH_VERSION: torch.cuda.is_available() is False$(command -v nvidia-smi >/dev/null || echo '; nvidia-smi not found')).
This script checks the GPU path and needs one: install the CUDA build of torch as the README's "GPU" section says,
on a machine with an NVIDIA GPU. To test the script itself on this machine: bash benchmarks/gpu_check.sh --dry-run
EOF
  exit 2
fi
if [[ "$DRY" == 1 ]]; then
  DEVICE=cpu
  [[ "$OUT" == benchmarks/RESULTS_gpu.md ]] && OUT=$(mktemp -t gpu_check_dry_run.XXXXXX.md)
  LIMITS=(120 120 60 60 60)
else
  DEVICE=cuda
  LIMITS=(80 100 100 90 90)   # tests, CUDA figures, bench_samplers, bench_training, bench_digits: 460 s at most
fi

START=$(date +%s)
LOG=$(mktemp -t gpu_check.XXXXXX)
{
  echo "# The GPU path: tests and benchmarks on CUDA"
  echo
  echo "Written by \`bash benchmarks/gpu_check.sh$([[ $DRY == 1 ]] && echo ' --dry-run')\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "GPU: ${GPU_NAME//_/ } · torch $TORCH_VERSION · $("$PY" -c 'import sys; sys.path.insert(0, "benchmarks"); from machine import machine; print(machine())')"
  [[ "$DRY" == 1 ]] && echo && echo "**Dry run**: every step on the CPU at toy sizes (this tests the script, not a GPU)."
  command -v nvidia-smi >/dev/null && { echo; echo '```'; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; echo '```'; }
} >"$LOG"

# step TITLE LIMIT_S COMMAND...: runs the command under its time limit, appends its output and how it ended
step() {
  local title=$1 limit=$2; shift 2
  local t0 rc out
  t0=$(date +%s)
  echo "gpu_check: $title (at most $limit s)" >&2
  out=$(timeout --kill-after=5 "$limit" "$@" 2>&1); rc=$?
  local secs=$(( $(date +%s) - t0 ))
  local how="ok"
  if [[ $rc == 124 || $rc == 137 ]]; then how="**stopped at its limit of $limit s**"; elif [[ $rc != 0 ]]; then how="**failed (exit status $rc)**"; fi
  {
    echo; echo "## $title"; echo
    echo "\`$*\` — $how in $secs s"; echo
    echo '```'; echo "$out" | grep -v -E 'UserWarning|warnings.warn' | tail -n 80; echo '```'
  } >>"$LOG"
  echo "gpu_check: $title: $how in $secs s" >&2
  [[ $rc == 0 ]] && return 0 || { FAILED=$((FAILED + 1)); return 0; }
}
FAILED=0

if [[ "$DRY" == 1 ]]; then
  step "CUDA tests (dry run: collected only; they skip without CUDA)" "${LIMITS[0]}" \
    "$PY" -m pytest -q tests/test_gpu.py --collect-only -p no:cacheprovider
else
  step "CUDA tests" "${LIMITS[0]}" "$PY" -m pytest -q tests/test_gpu.py -p no:cacheprovider -rs
fi

step "CUDA figures: samplers, live training, digits" "${LIMITS[1]}" "$PY" - "$DEVICE" "$DRY" <<'PY'
"""Samplers, live training and the digits UNet on the device, each next to the CPU (one torch thread, as the app)."""
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))
import torch

from explorer.distributions import get_dataset
from explorer.metrics import energy_distance
from explorer.nn.networks import ScoreNetConfig
from explorer.nn.training import DEFAULTS, train
from explorer.process import get_process
from explorer.samplers import sample
from explorer.scores import exact_score

device, dry = torch.device(sys.argv[1]), sys.argv[2] == "1"
torch.set_num_threads(1)
tiny = (lambda a, b: a) if dry else (lambda a, b: b)          # dry run: toy sizes
sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def timed(fn, repeat=3):
    """(median wall seconds, last result) with the device synchronised."""
    times, out = [], None
    for _ in range(repeat):
        sync()
        t0 = time.perf_counter()
        out = fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


ds, sde = get_dataset("ring8"), get_process("vp_linear")
score = exact_score(ds, sde)
target, _ = ds.sample(2000, generator=torch.Generator().manual_seed(5))
print(f"## samplers: ring8, VP-linear, exact mixture score (device {device}, CPU on one thread)")
print(f"| sampler | steps | particles | {device} s | CPU s | ED to data ({device}) | max abs diff to CPU |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, steps in (("pf_heun", 50), ("dpm_solver_pp_2m", 25), ("ddpm", tiny(50, 1000))):
    for n in (tiny(200, 2000), tiny(500, 100_000)):
        x_init = sde.prior_sample((n, 2), generator=torch.Generator().manual_seed(0))
        run = lambda x: sample(name, score, sde, x, n_steps=steps, generator=torch.Generator().manual_seed(1)).x
        dev_s, x_dev = timed(lambda: run(x_init.to(device)), 1 if n > 10_000 else 3)
        if n <= 2000:
            cpu_s, x_cpu = timed(lambda: run(x_init), 1)
            diff = f"{float((x_dev.cpu() - x_cpu).abs().max()):.1e}"
            ed = f"{energy_distance(x_dev.cpu()[:2000].float(), target):.4f}"
        else:
            cpu_s, diff, ed = float("nan"), "-", f"{energy_distance(x_dev.cpu()[:2000].float(), target):.4f}"
        print(f"| {name} | {steps} | {n:,} | {dev_s:.3f} | {cpu_s:.3f} | {ed} | {diff} |", flush=True)

moons = get_dataset("moons")
steps = tiny(100, DEFAULTS["steps"])
print(f"\n## live training: moons, the app's defaults ({steps} steps of {DEFAULTS['batch_size']}), EMA model's "
      "PF-Heun samples (100 steps, 2,000) against fresh data")
print("| device | training s | ms per step | final loss | ED to data | noise floor |\n| --- | --- | --- | --- | --- | --- |")
ref, second = moons.sample(2000, generator=torch.Generator().manual_seed(11))[0], \
    moons.sample(2000, generator=torch.Generator().manual_seed(12))[0]
for dev in dict.fromkeys([device, torch.device("cpu")]):
    config = ScoreNetConfig.for_data(moons, sde)
    sync()
    t0 = time.perf_counter()
    model = train(config, moons, sde, steps=steps, seed=0, device=dev)
    sync()
    secs = time.perf_counter() - t0
    x = sample("pf_heun", model.to("cpu").score_fn(), sde,
               sde.prior_sample((2000, 2), generator=torch.Generator().manual_seed(0)), n_steps=100).x
    print(f"| {dev} | {secs:.1f} | {1000 * secs / steps:.2f} | {model.losses[-1]:.4f} | "
          f"{energy_distance(x.float(), ref):.4f} | {energy_distance(ref, second):.4f} |", flush=True)

from explorer.digits import digits_split
from explorer.gpu import model_on_default_device
from explorer.nn.digit_classifier import shipped_classifier
from explorer.nn.unet import shipped_digits_model
from explorer.nn.unet_training import train_digits

cpu_model, clf = shipped_digits_model(), shipped_classifier()
print(f"\n## digits UNet ({sum(p.numel() for p in cpu_model.net.parameters()):,} parameters): DDIM 50 steps; "
      "class-conditional samples at γ = 3 labelled by the shipped classifier")
print(f"| images | {device} s | CPU s | labelled as asked ({device}) |\n| --- | --- | --- | --- |")
model = model_on_default_device(cpu_model)          # a copy on cuda (the app's path); the shared model stays put
for n in (16, tiny(32, 256)):
    y = torch.arange(n) % 10
    run = lambda m: sample("ddim", m.score_fn(y, gamma=3.0), m.sde,
                           m.prior_sample(n, generator=torch.Generator().manual_seed(0)), n_steps=50).x
    dev_s, x = timed(lambda: run(model), 3)
    cpu_s, _ = timed(lambda: run(cpu_model), 1)
    acc = float((clf.predict(x.cpu().clamp(-1, 1)) == y).double().mean())
    print(f"| {n} | {dev_s:.3f} | {cpu_s:.3f} | {acc:.2f} |", flush=True)
data = digits_split("train")
print("\n| training the digits UNet | steps | s | ms per step |\n| --- | --- | --- | --- |")
for dev, k in dict.fromkeys([(device, tiny(5, 300)), (torch.device("cpu"), tiny(5, 30))]):
    sync()
    t0 = time.perf_counter()
    train_digits(cpu_model.config, data, steps=k, seed=0, device=dev, warmup=min(5, k))
    sync()
    secs = time.perf_counter() - t0
    print(f"| {dev} | {k} | {secs:.1f} | {1000 * secs / k:.1f} |", flush=True)
PY

if [[ "$DRY" == 1 ]]; then      # the repository's benchmarks: only that they start (their --help) in a dry run
  step "benchmarks/bench_samplers.py (dry run: --help)" "${LIMITS[2]}" "$PY" benchmarks/bench_samplers.py --help
  step "benchmarks/bench_training.py (dry run: --help)" "${LIMITS[3]}" "$PY" benchmarks/bench_training.py --help
  step "benchmarks/bench_digits.py (dry run: --help)" "${LIMITS[4]}" "$PY" benchmarks/bench_digits.py --help
else
  step "benchmarks/bench_samplers.py (CPU, one thread)" "${LIMITS[2]}" "$PY" benchmarks/bench_samplers.py --threads 1
  step "benchmarks/bench_training.py (moons and ring8 from scratch, the current recipe)" "${LIMITS[3]}" \
    "$PY" benchmarks/bench_training.py --scratch moons,ring8 --recipe now --refs 1 --skip-quality
  step "benchmarks/bench_digits.py --quick" "${LIMITS[4]}" "$PY" benchmarks/bench_digits.py --quick
fi

TOTAL=$(( $(date +%s) - START ))
{
  echo
  echo "Total: $TOTAL s; $FAILED step(s) failed or ran out of time."
} >>"$LOG"
mkdir -p "$(dirname "$OUT")"
mv "$LOG" "$OUT"
echo "gpu_check: done in $TOTAL s, $FAILED step(s) failed or ran out of time; report: $OUT" >&2
[[ $FAILED == 0 ]]
