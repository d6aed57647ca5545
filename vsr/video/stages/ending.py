"""Why a run stopped, as a code to branch on (`UpscaleResult.ended`). The words for each
ending belong to whoever shows them (vsr.commands.progress_view)."""

import enum


class RunEnding(enum.Enum):
    INPUT_ENDED = "input_ended"  # every frame of the input was upscaled
    INPUT_LOST = "input_lost"  # a stream or device failed or fell silent (UpscaleResult.lost_because says how)
    INTERRUPTED = "interrupted"  # Ctrl-C; a stream output, or any output of a live input, is still finished
    READER_GONE = "reader_gone"  # the reader of a pipe output closed it
    OUTPUT_DROPPED = "output_dropped"  # an output URL's connection was dropped
