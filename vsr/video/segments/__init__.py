"""The resumable run: cutting the input on keyframes (cutting), the work folder's manifest
(manifest), joining segment files by stream copy (join), `upscale_in_segments` (segmented)
and segment workers on a Ray cluster (distributed).

May import `vsr.video.io`, `vsr.video.stages` and vsr's modules outside video/.
Imports nothing itself.
"""
