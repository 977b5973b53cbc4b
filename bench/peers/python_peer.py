"""What every Python peer of the benchmark shares: its command line and how it starts its loop.

Every peer takes --host, --port, --broadcast, --deflate / --deflate-takeover (as the C++ and
Node peers do) and --uvloop, which runs the same code on uvloop (Debian's python3-uvloop)
instead of asyncio's default loop. Nothing else differs between the two rows of a library in
the Python table, so the pair shows what the loop alone buys.
"""
import argparse
import asyncio


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--broadcast", action="store_true",
                        help="send every message to every open connection, the sender included")
    parser.add_argument("--deflate", action="store_true")
    # Every Python library follows the client's offer, so with context takeover this is
    # --deflate too.
    parser.add_argument("--deflate-takeover", dest="deflate", action="store_true")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    return parser.parse_args()


def run(main, args):
    """Runs main(args) to completion on asyncio's default loop, or on uvloop with --uvloop."""
    if args.uvloop:
        import uvloop  # only when asked for: the asyncio rows must not load it
        uvloop.install()
    asyncio.run(main(args))


def say_listening(name, args, port):
    mode = "broadcast" if args.broadcast else "echo"
    loop = "uvloop" if args.uvloop else "asyncio"
    print(f"{name} listening on ws://{args.host}:{port} ({mode}, {loop})", flush=True)


def run_duplex(name, description, echo, broadcast):
    """Runs a peer of duplex's Python package, either API: `echo` or (with --broadcast)
    `broadcast` is the handler, a coroutine (API 1) or a WebSocketHandler class (API 2), served
    with compression off unless --deflate and the package's defaults otherwise."""
    import duplex  # from PYTHONPATH (bench/run sets it); only the duplex peers need it

    async def main(args):
        handler = broadcast if args.broadcast else echo
        async with duplex.serve(handler, args.host, args.port,
                                compression="deflate" if args.deflate else None) as server:
            say_listening(name, args, server.port)
            await server.serve_forever()

    run(main, parse_args(description))
