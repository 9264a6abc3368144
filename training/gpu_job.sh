#!/usr/bin/env bash
# Fine-tune rebut's models on a lent GPU machine in one call (the device tool's `run`),
# from what this folder's .gpu/ carries: the packed base encoder (training.multitask pack-base)
# and every task's inputs (task_inputs.py). Five trainings share the GPU at once:
#   text       moderation + checkworthy on one encoder (what serving uses)
#   pair       grounding + stance on one encoder (what serving uses)
#   grounding, stance, checkworthy   each alone, to measure what sharing costs
# (JOBS below picks others).
# Each stops at DEADLINE seconds with its learning rate annealed, evaluates on dev,
# calibrates, and writes <name>.safetensors (~11 MB) and <name>.json (its log) to OUT;
# report.txt gathers the end of each console log.
#
#   OUT=runs/gpu DEADLINE=60 bash training/gpu_job.sh     # anywhere; CPU works, slowly
#   JOBS="pair grounding,stance --epochs 6 --balance source --repeat arc=3" bash training/gpu_job.sh
set -u
cd "$(dirname "$0")/.."
IN=${IN:-.gpu/inputs.jsonl.xz}
BASE=${BASE:-.gpu/base}
OUT=${OUT:-runs/gpu}
DEADLINE=${DEADLINE:-400}
EPOCHS=${EPOCHS:-3}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT" "$OUT/logs"
"$PYTHON" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', \
transformers.__version__, 'cuda', torch.cuda.is_available())"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv

# JOBS: one line per training, "name tasks [fit options...]" (python -m training.multitask fit --help)
JOBS=${JOBS:-"text moderation,checkworthy
pair grounding,stance --max-tokens stance=320
grounding grounding
stance stance --max-tokens stance=320
checkworthy checkworthy"}
while read -r name tasks options; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086  # options are words for fit, split on purpose
    PYTHONUNBUFFERED=1 "$PYTHON" -m training.multitask fit --inputs "$IN" --base "$BASE" \
        --out "$OUT" --deadline-s "$DEADLINE" --epochs "$EPOCHS" --name "$name" \
        --tasks "$tasks" $options >"$OUT/logs/$name.log" 2>&1 &
done <<<"$JOBS"
wait
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=memory.used --format=csv
for log in "$OUT"/logs/*.log; do
    echo "=== $log"
    tr '\r' '\n' <"$log" | grep -v '^\s*$' | tail -n 6
done >"$OUT/report.txt"
rm -rf "$OUT/logs"  # <name>.json stays: `rebut train --weights-from` reads it
cat "$OUT/report.txt"
ls -la "$OUT"
