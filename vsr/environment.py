"""The process environment that makes vsr's CPU pipeline faster, set by the `vsr` command
before it imports torch. Imports nothing heavy (the CLI calls it first thing)."""

import os

CPU_ENVIRONMENT = {
    # Let PyTorch's CPU allocator back large tensors with transparent huge pages. Without it
    # a model call on the CPU spends about half its time faulting in freshly mapped 4 KiB
    # pages for its activations (measured: docs/BENCHMARKS.md, the CPU section).
    "THP_MEM_ALLOC_ENABLE": "1",
    # OpenMP threads that wait by sleeping, not spinning: the model shares the CPU with the
    # decoder's and encoder's threads, and spinning workers steal their cores (measured:
    # docs/BENCHMARKS.md, the CPU section).
    "OMP_WAIT_POLICY": "PASSIVE",
}
"""Environment variables that make the CPU pipeline faster. torch reads them once (at its
first allocation, when OpenMP starts), so they only apply if set before torch is imported."""


def tune_cpu_environment() -> None:
    """Set CPU_ENVIRONMENT's variables where the environment does not already set them.
    The `vsr` command calls this before it imports torch; a program using vsr as a library
    may call it first thing (importing vsr no longer does: it changed the process's
    environment for a caller who had not asked)."""
    for name, value in CPU_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
