"""`vsr live`: a live source upscaled in real time, beside the original.

    capture thread --newest frame only--> inference thread --newest result only--> display
                                                     \\--bounded queue--> recorder (--record)

- sources.py: cameras (OpenCV), files paced at their own rate, URLs and lavfi graphs (PyAV).
- latest.py:  the one-slot hand-over that keeps only the newest frame and counts the rest.
- session.py: the threads, model switching, recording, and the numbers shown.
- window.py:  the OpenCV window (split/side/SR views, overlay, keys) and the headless report.
"""

import sys

AV_LOADED_FIRST = "av" in sys.modules and "cv2" not in sys.modules
"""OpenCV's Qt window hangs on its first call when PyAV (whose wheel bundles its own libxcb)
was loaded into the process before OpenCV; measured with opencv-python 5.0 and av 18.1.
So this package loads OpenCV first, and LiveWindow refuses, with one line, to open a
window in a process where that order was already lost."""

import cv2  # noqa: E402, F401  (before anything here imports av)
