"""The subcommands of `reader`: each module has `register(subparsers)`."""
