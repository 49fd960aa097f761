#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 whose answers share one link of a given bandwidth, with a
round-trip delay per connection: an S3 server on the same machine made to look like one
across a network, for bench/s3.sh.

    bench/throttle.py LISTEN_PORT UPSTREAM_PORT MBYTES_PER_S [DELAY_MS]

Prints "ready" once listening."""

import asyncio
import sys
import time


class Link:
    """A token bucket shared by every connection's answers."""

    def __init__(self, rate):
        self.rate = rate
        self.at = time.monotonic()
        self.lock = asyncio.Lock()

    async def send(self, n):
        async with self.lock:
            now = time.monotonic()
            self.at = max(self.at, now) + n / self.rate
            wait = self.at - now
        if wait > 0:
            await asyncio.sleep(wait)


async def pipe(reader, writer, link=None):
    try:
        while True:
            data = await reader.read(64 * 1024)
            if not data:
                break
            if link is not None:
                await link.send(len(data))
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    listen, upstream, mbytes = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    delay = float(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0.0
    link = Link(mbytes * 1e6)

    async def serve(client_r, client_w):
        await asyncio.sleep(delay)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w, link))

    server = await asyncio.start_server(serve, "127.0.0.1", listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
