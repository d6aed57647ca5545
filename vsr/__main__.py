try:
    from .cli import entry
except KeyboardInterrupt:  # Ctrl-C before vsr could handle it: nothing was started
    import os

    from .interrupt import EXIT_CODE

    os._exit(EXIT_CODE)

entry()
