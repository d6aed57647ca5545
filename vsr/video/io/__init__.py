"""Video in and out: containers, endpoints (file, pipe, URL, device), pixel planes,
colour, codecs, the output plan and the sink, the source with its timing and tail (and how
its frames are read: deinterlacing, mid-stream size changes, HDR metadata), a
decoded frame described and packed (frames), and the frozen job a whole run carries out
(job: UpscaleJob, Hooks, and run_kind, which says how an input runs).

No threads live here. May import vsr's modules outside video/ (errors, constants), never
`vsr.video.stages` or `vsr.video.segments`. Imports nothing itself.
"""
