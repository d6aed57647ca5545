"""One module per `vsr` sub-command: `add_parser(subparsers)` and `run(args)`.
Keep heavy imports (torch, av, cv2) inside `run`."""
