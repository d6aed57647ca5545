"""The video path behind `vsr upscale`, in three rooms and one module above them.

- `io/`: decoding, encoding and describing video; no threads.
- `stages/`: the threaded pipeline, the model stage, realtime and the single run.
- `segments/`: cutting on keyframes, the manifest, joining, the resumable run and Ray.
- `batch.py`: several inputs and folders, each run by a single or segmented run.

A room imports only the rooms before it (io <- stages <- segments) and vsr's own modules
outside video/. This file imports nothing, so that no room imports its package back.
"""
