"""A TCP proxy that puts a far-away server behind a loopback port: every byte is delayed in each direction.

Real mail servers are 20–100 ms away; the test Dovecot is on loopback, where a sync costs no round trip. The
benchmark (bin/benchmark-scale) puts each box behind this proxy so that the TLS handshake, LOGIN, SELECT,
SEARCH and FETCH all pay a round trip, as in production. TLS passes through untouched (bytes are relayed,
not decrypted): the client still checks Dovecot's certificate.

``blackhole=True`` gives an *unreachable* server instead: connections are accepted and never answered, as
with a host that drops packets; the client waits for its own timeout.

Standard library only (asyncio in a background thread), like the rest of comunik_support.
"""

import asyncio
import contextlib
import threading

HOST = "127.0.0.1"
#: Read size per relay step: large enough that a FETCH of big emails is not slowed by the proxy itself.
CHUNK = 256 * 1024


class LatencyProxy:
    """Relays ``HOST:port`` to ``target_host:target_port`` with ``delay`` seconds added each way.

    The connection itself also costs a round trip (a TCP handshake to a distant host): the client's first
    bytes leave ``2 * delay`` after it connected.
    """

    def __init__(self, target_port=None, target_host=HOST, delay=0.05, blackhole=False):
        self.target = (target_host, target_port)
        self.delay = delay
        self.blackhole = blackhole
        self.port = None
        self.connections = 0
        self._loop = None
        self._server = None
        self._thread = None
        self._ready = threading.Event()
        self._tasks = set()

    def start(self):
        self._thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self.port is None:
            raise RuntimeError("The latency proxy did not start.")
        return self

    def stop(self):
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, HOST, 0, backlog=4096, limit=CHUNK)
            )
            self.port = self._server.sockets[0].getsockname()[1]
        finally:
            self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _handle(self, client_reader, client_writer):
        self.connections += 1
        task = asyncio.current_task()
        self._tasks.add(task)
        upstream_writer = None
        try:
            if self.blackhole:
                await client_reader.read()  # never answer; the client gives up on its own timeout
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target, limit=CHUNK)
            await asyncio.sleep(2 * self.delay)  # the TCP handshake with a distant host
            await asyncio.gather(
                self._relay(client_reader, upstream_writer), self._relay(upstream_reader, client_writer)
            )
        except (ConnectionError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    writer.close()

    async def _relay(self, reader, writer):
        """Copy ``reader`` to ``writer``, each chunk ``delay`` after it arrived, in order (latency, not a
        bandwidth cap: chunks in flight overlap)."""
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        async def receive():
            while True:
                data = await reader.read(CHUNK)
                queue.put_nowait((loop.time() + self.delay, data))
                if not data:
                    return

        receiver = asyncio.ensure_future(receive())
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        finally:
            receiver.cancel()
