"""One fine-tuned encoder, several task heads: train, calibrate, export to ONNX.

    # where the GPU is (reads only what training/task_inputs.py wrote, and a packed base)
    python -m training.multitask pack-base --out .gpu/base
    python -m training.multitask fit --inputs .gpu/inputs.jsonl.xz --base .gpu/base \\
        --name text --tasks moderation,checkworthy --out runs/gpu
    # back here: ONNX (fp32 + int8) with calibration inside the graph
    python -m training.multitask export --weights runs/gpu/text.safetensors --out runs/text
    # only the committed ONNX left? weights to go on from (`fit --init`), read back from it
    python -m training.multitask from-onnx --model-dir model/artifacts/text --base .gpu/base \\
        --out runs/text.safetensors
"""

from training.multitask.cli import main

if __name__ == "__main__":
    main()
