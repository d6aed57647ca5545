"""The threaded pipeline and what runs in it: bounded channels and the stop event
(pipeline), the model stage (engine), drop-or-block for live inputs (realtime), why a run
stopped (ending: RunEnding), the single run `upscale_video` and `run_single` with the
stages wired by `run_stages` (upscale) and `upscale_frames` for your own frames (frames_api).

May import `vsr.video.io` and vsr's modules outside video/, never `vsr.video.segments`.
Imports nothing itself.
"""
