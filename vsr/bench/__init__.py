"""Frame-throughput benchmarks (`vsr bench`): every stage alone, the whole pipeline and the
naive loop, measured on the same frames with the same model and encoder in one run.

- clips.py:    the input: a video file, or a synthetic one made with FFmpeg's testsrc2.
- stages.py:   decode alone, the model stage alone, encode alone, the whole pipeline.
- naive.py:    the sequential per-frame loop the common scripts run.
- network.py:  the network alone per model, dtype, batch and compile, on tensors.
- machine.py:  what machine, device and versions produced the numbers.
- report.py:   the ratios, the tables, the JSON and the comparison with a baseline.
"""
