"""The resumable run: cutting the input on keyframes (cutting), the work folder's manifest
(manifest), joining segment files by stream copy (join), one segment into its own file
(encode: SegmentWork, encode_segment), `upscale_in_segments` and `run_job` (segmented) and
segment workers on a Ray cluster (distributed).

May import `vsr.video.io`, `vsr.video.stages` and vsr's modules outside video/.
Imports nothing itself.
"""
