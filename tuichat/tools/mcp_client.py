"""One MCP server, spoken to through the ``mcp`` package's ``ClientSession``.

The ``mcp`` package's transports and sessions are context managers bound to the
task that enters them, so each server gets a task of its own that opens the
transport and the session, answers "ready", and holds them until asked to stop.
Calls from any other task go through the session meanwhile.

- **stdio**: the command runs on the leash (:mod:`tuichat.tools.leash`) so that it
  dies with tuichat, even after ``kill -9``; its environment is the ``mcp`` package's
  safe set plus the table's ``env``; its stderr goes to ``mcp/NAME.log`` in the data
  directory, never to the screen.
- **http**: streamable HTTP with the table's ``headers``.

A server that stops in the middle of a call gives that call one sentence; the next
call starts it again, once per process (a second stop leaves it failed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tuichat.sanitize import one_line, strip_controls
from tuichat.tool_settings import Approve, McpServerSettings
from tuichat.tools import leash
from tuichat.tools.naming import valid_name
from tuichat.tools.results import error_sentence, result_text
from tuichat.tools.servers import Answer, ListedTool, ServerUnavailable, State, Transport

if TYPE_CHECKING:
    import anyio
    from mcp import ClientSession

#: Pages of ``tools/list`` read at most (a server that pages forever must not hang us).
MAX_PAGES = 100

#: A server's log is set aside (``NAME.log.old``) when it grows past this at a start.
LOG_LIMIT = 1024 * 1024

#: How many times a server that stopped mid-call is started again in one process.
RESTARTS = 1

#: Seconds ``close`` waits for a server to wind down (the ``mcp`` package's own
#: shutdown is bounded: stdin closed, 2 s, SIGTERM, 2 s, SIGKILL).
CLOSE_WAIT = 8.0


class McpServer:
    """One ``[mcp.NAME]`` server: started on first use, held until :meth:`close`."""

    def __init__(
        self,
        name: str,
        settings: McpServerSettings,
        *,
        timeout: float,
        start_timeout: float,
        log_dir: Path,
    ) -> None:
        self.name = name
        self.settings = settings
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.transport: Transport = settings.transport
        self.log_path = log_dir / f"{valid_name(name)}.log"
        self._state: State = "stopped"
        self._why: str | None = None
        self._session: ClientSession | None = None
        self._tools: list[ListedTool] = []
        self._task: asyncio.Task[None] | None = None
        self._scope: anyio.CancelScope | None = None
        self._lock = asyncio.Lock()
        self._restarts_left = RESTARTS
        self._crashed = False

    @property
    def state(self) -> State:
        return self._state

    @property
    def why(self) -> str | None:
        return self._why

    async def start(self) -> list[ListedTool]:
        async with self._lock:
            if self._state == "running" and self._session is not None:
                return self._tools
            if self._state == "failed":
                if not (self._crashed and self._restarts_left > 0):
                    raise ServerUnavailable(self._why or f"The MCP server {self.name!r} failed.")
                self._restarts_left -= 1
            await self._stop_task()  # what is left of an earlier run, if anything
            try:
                self._tools = await self._open()
            except ServerUnavailable as exc:
                self._state, self._why, self._crashed = "failed", str(exc), False
                raise
            self._state, self._why, self._crashed = "running", None, False
            return self._tools

    async def call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        from mcp import MCPError
        from mcp.types import CONNECTION_CLOSED

        await self.start()
        session = self._session
        if session is None:  # it broke between its start and this call
            await self._lost()
            raise ServerUnavailable(self._stopped())
        try:
            result = await session.call_tool(tool, arguments)
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED:
                await self._lost()
                raise ServerUnavailable(self._stopped()) from None
            return Answer(error_sentence(exc.message, fallback=f"The tool {tool!r} failed."), True)
        except Exception as exc:  # the promise is one sentence, whatever the package raises
            # A transport that broke (HTTP), a result of a shape the package refuses...
            return Answer(
                error_sentence(
                    f"The MCP server {self.name!r} could not run {tool!r}: {exc}",
                    fallback=f"The MCP server {self.name!r} could not run {tool!r}.",
                ),
                True,
            )
        content = result_text(result.content, result.structured_content)
        if result.is_error:
            content = content or f"The tool {tool!r} failed and said nothing more."
        return Answer(content, bool(result.is_error))

    async def close(self) -> None:
        async with self._lock:
            await self._stop_task()
            if self._state == "running":
                self._state = "stopped"

    async def _lost(self) -> None:
        """The connection closed under a call: the server stopped (or was stopped)."""
        async with self._lock:
            if self._state != "running":
                return
            await self._stop_task()
            self._mark_lost()

    def _stopped(self) -> str:
        return self._why or f"The MCP server {self.name!r} has stopped."

    def _mark_lost(self) -> None:
        more = "; it will be started again at the next call" if self._restarts_left > 0 else ""
        self._state, self._crashed = "failed", True
        self._why = f"The MCP server {self.name!r} has stopped{more}; its log is {self.log_path}."

    async def _open(self) -> list[ListedTool]:
        """Start the server's task and wait until its tools are listed."""
        self._check_can_start()
        ready: asyncio.Future[list[ListedTool]] = asyncio.get_running_loop().create_future()
        self._scope = None
        self._task = asyncio.create_task(self._hold(ready), name=f"mcp server {self.name}")
        try:
            async with asyncio.timeout(self.start_timeout):
                return await asyncio.shield(ready)
        except TimeoutError:
            await self._stop_task()
            raise ServerUnavailable(
                f"The MCP server {self.name!r} did not answer within {self.start_timeout:g} seconds"
                f"{self._log_hint()}."
            ) from None
        except BaseException:
            await self._stop_task()
            raise

    async def _hold(self, ready: asyncio.Future[list[ListedTool]]) -> None:
        """Open the transport and session, report the tools, hold them until stopped."""
        import anyio
        from mcp import ClientSession

        errlog: TextIO | None = None
        # Stopped through an anyio scope, not Task.cancel(): the mcp package shields its
        # shutdown (stdin closed, SIGTERM, SIGKILL) from anyio's cancellation only.
        with anyio.CancelScope() as self._scope:
            try:
                async with AsyncExitStack() as stack:
                    if self.settings.command is not None:
                        errlog = self._open_log()
                        streams = await stack.enter_async_context(self._stdio(errlog))
                    else:
                        streams = await stack.enter_async_context(await self._http(stack))
                    read, write = streams[0], streams[1]
                    session = await stack.enter_async_context(ClientSession(read, write))
                    await session.initialize()
                    tools = await _list_tools(session, self.settings.approve)
                    self._session = session
                    if not ready.done():
                        ready.set_result(tools)
                    await anyio.sleep_forever()
            except Exception as exc:
                if not ready.done():
                    ready.set_exception(ServerUnavailable(self._start_failure(exc)))
                elif self._state == "running":
                    self._mark_lost()  # the transport broke while no call was waiting
            finally:
                self._session = None
                if errlog is not None:
                    errlog.close()

    async def _stop_task(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        if self._scope is not None:
            self._scope.cancel()
        else:
            task.cancel()  # it has not run yet: nothing was started that could leak
        done, _ = await asyncio.wait({task}, timeout=CLOSE_WAIT)
        if not done:
            task.cancel()
        elif not task.cancelled():
            task.exception()  # the task reports through ``ready``: nothing is left to tell

    def _stdio(self, errlog: TextIO) -> Any:
        from mcp import StdioServerParameters, stdio_client

        command = self.settings.command
        assert command is not None
        if sys.platform == "win32":  # pragma: no cover - the mcp package's job object holds it
            program, args = command, list(self.settings.args)
        else:
            program = sys.executable
            args = ["-I", leash.__file__, str(os.getpid()), "--", command, *self.settings.args]
        params = StdioServerParameters(
            command=program,
            args=args,
            env=dict(self.settings.env),
            cwd=self.settings.cwd,
        )
        return stdio_client(params, errlog=errlog)

    async def _http(self, stack: AsyncExitStack) -> Any:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        assert self.settings.url is not None
        client = await stack.enter_async_context(
            httpx2.AsyncClient(
                headers=dict(self.settings.headers),
                timeout=httpx2.Timeout(30.0, read=300.0),
            )
        )
        return streamable_http_client(self.settings.url, http_client=client)

    def _check_can_start(self) -> None:
        """Refuse, in one sentence, what would only fail obscurely once spawned."""
        command, cwd = self.settings.command, self.settings.cwd
        if command is None:
            return
        if cwd is not None and not cwd.is_dir():
            raise ServerUnavailable(
                f"The MCP server {self.name!r} cannot start: its cwd {str(cwd)!r} is no "
                f"folder; fix cwd in [mcp.{self.name}]."
            )
        from mcp.client.stdio import get_default_environment

        path = {**get_default_environment(), **self.settings.env}.get("PATH")
        program = command
        if os.sep in command and not os.path.isabs(command) and cwd is not None:
            program = str(cwd / command)
        if shutil.which(program, path=path) is None:
            raise ServerUnavailable(
                f"The MCP server {self.name!r} cannot start: the command {command!r} was not "
                f"found; fix command in [mcp.{self.name}] (or PATH in its env)."
            )

    def _open_log(self) -> TextIO:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if self.log_path.stat().st_size > LOG_LIMIT:
                self.log_path.replace(self.log_path.with_suffix(".log.old"))
        except FileNotFoundError:
            pass
        log = open(self.log_path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"--- {started} tuichat starts {self.settings.command} (pid {os.getpid()})\n")
        log.flush()
        return log

    def _log_hint(self) -> str:
        return f"; its log is {self.log_path}" if self.settings.command is not None else ""

    def _start_failure(self, exc: BaseException) -> str:
        """One sentence for a start that failed with ``exc``."""
        from mcp import MCPError
        from mcp.types import CONNECTION_CLOSED

        found = _first_leaf(exc)
        if isinstance(found, MCPError) and found.code == CONNECTION_CLOSED:
            return f"The MCP server {self.name!r} stopped before it answered{self._log_hint()}."
        where = f" at {self.settings.url}" if self.settings.url else ""
        detail = one_line(str(found)) or type(found).__name__
        return f"The MCP server {self.name!r}{where} could not start: {detail}{self._log_hint()}."


def _first_leaf(exc: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups: the one that says why."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def _list_tools(session: ClientSession, approve: Approve) -> list[ListedTool]:
    from mcp.types import PaginatedRequestParams

    tools: list[ListedTool] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools += [
            ListedTool(tool.name, tool.description or "", tool.input_schema, approve)
            for tool in page.tools
            # A name is printed as it is (``ask``'s stderr line): one holding control
            # characters is hostile, and the spec allows none.
            if tool.name and strip_controls(tool.name) == tool.name
        ]
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def quiet_mcp_logging(log_path: Path) -> None:
    """Send the ``mcp`` package's own log records to ``log_path``, never to the screen.

    Without a handler, Python writes warnings to stderr, which would draw over the app.
    The latest host's path wins (there is one host per process; tests make many).
    """
    global _log_handler
    logger = logging.getLogger("mcp")
    logger.propagate = False
    if isinstance(_log_handler, logging.FileHandler) and _log_handler.baseFilename == str(
        log_path.absolute()
    ):
        return
    handler: logging.Handler
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    except OSError:
        handler = logging.NullHandler()
    handler.setLevel(logging.WARNING)
    if _log_handler is not None:
        logger.removeHandler(_log_handler)
        _log_handler.close()
    logger.addHandler(handler)
    _log_handler = handler


_log_handler: logging.Handler | None = None
