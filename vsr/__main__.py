try:
    from .cli import entry
except KeyboardInterrupt:  # Ctrl-C before vsr could handle it: nothing was started
    import os

    os._exit(130)

entry()
