"""The ASGI app (FastAPI): the page at `/`, the JSON API under `/api`, the OpenAPI schema
at `/openapi.json` (and its viewer at `/docs`).

    POST   /api/jobs                 multipart (field `file`) or JSON {"path"} / {"url"};
                                     options scale, preset, model, codec, crf -> 201 {"id"}
    GET    /api/jobs                 every job, oldest first
    GET    /api/jobs/{id}            state, progress, frames_done, fps, eta_s, error, warnings
    GET    /api/jobs/{id}/result     the output file (a finished job's only)
    DELETE /api/jobs/{id}            cancel; ?remove_files=true also removes its files and record
    GET    /api/jobs/{id}/frame      ?n=N&side=source|result[&enlarge=nearest|bicubic] -> PNG
    GET    /api/options              the choices and defaults for a new job

Every refusal is a 4xx with {"error": "one line"}; a bug is a 500 that says to read the
server's log, never a traceback.
"""

import contextlib
import logging
import shutil
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import VsrError, api_words
from .options import OPTION_NAMES, ServerDefaults, build_upscale, job_options
from .queue import JobRecord, JobState, JobStore, new_job_id
from .security import SESSION_COOKIE, Gate, Refused, allowed_path, safe_name, session_value
from .upload import UploadRefused, receive_upload
from .worker import Workers, check_url, job_folder, remove_job, url_name

log = logging.getLogger("vsr.serve")
DEFAULT_MAX_UPLOAD = 20 << 30  # 20 GiB
MAX_JSON = 64 * 1024


@dataclass(frozen=True)
class ServeConfig:
    state: Path  # the queue (jobs.sqlite) and each job's files (jobs/ID/)
    gate: Gate
    allow_dirs: tuple[Path, ...] = ()
    max_upload: int = DEFAULT_MAX_UPLOAD
    jobs: int = 1  # jobs run at once
    defaults: ServerDefaults = ServerDefaults()


def create_app(config: ServeConfig) -> FastAPI:
    (config.state / "jobs").mkdir(parents=True, exist_ok=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        store = JobStore(config.state)
        workers = Workers(store, config.defaults, config.jobs, config.max_upload)
        workers.start()
        app.state.store, app.state.workers = store, workers
        try:
            yield
        finally:
            await run_in_threadpool(workers.stop)
            store.close()

    app = FastAPI(title="vsr serve", summary="Queue video upscales and compare the results", lifespan=lifespan)
    _add_gate(app, config.gate)
    _add_error_handlers(app)
    _add_routes(app, config)
    return app


def _add_gate(app: FastAPI, gate: Gate) -> None:
    @app.middleware("http")
    async def check(request: Request, call_next):
        try:
            gate.check(request.method, request.headers, request.cookies)
        except Refused as refused:
            given = request.query_params.get("token")
            if refused.status == 401 and request.url.path == "/" and given is not None and gate.token_matches(given):
                response = RedirectResponse("/", status_code=303)
                response.set_cookie(SESSION_COOKIE, session_value(gate.token), httponly=True, samesite="strict")
                return response
            return JSONResponse({"error": refused.message}, status_code=refused.status)
        return await call_next(request)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VsrError)
    async def vsr_error(request: Request, exc: VsrError):
        return JSONResponse({"error": exc.worded(hint_words)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException too, and the router's 404 and 405
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        words = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": words}, status_code=422)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception):
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"error": "internal error; the server's log has the details"}, status_code=500)


SERVER_SETTINGS = ("allow_dir", "token")
"""Settings of the server itself: a hint names them as `vsr serve`'s flags (whoever runs it
changes them); a job's settings keep the API's words, its JSON fields."""


def hint_words(name: str, value: str | None) -> str:
    from ..commands.flags import flag_words

    return flag_words(name, value) if name in SERVER_SETTINGS else api_words(name, value)


JOB_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}, **{n: {"type": "string"} for n in OPTION_NAMES}},
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string"},
                        "url": {"type": "string"},
                        "scale": {"type": "integer"},
                        "crf": {"type": "integer"},
                        **{n: {"type": "string"} for n in ("preset", "model", "codec")},
                    },
                }  # fmt: skip
            },
        },
    }
}


def _add_routes(app: FastAPI, config: ServeConfig) -> None:
    page = files("vsr.serve").joinpath("static/index.html")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index():
        return HTMLResponse(page.read_text(encoding="utf-8"), headers={"Cache-Control": "no-store"})

    @app.get("/api/options")
    def options():
        from ..constants import ENCODERS, SCALES, VARIANT_NAMES
        from ..presets import preset_names
        from ..settings import AUTO_PRESET

        return {
            "presets": [AUTO_PRESET, *preset_names()], "models": list(VARIANT_NAMES), "scales": list(SCALES), "codecs": list(ENCODERS),
            "defaults": {"preset": AUTO_PRESET, "model": None, "scale": None, "codec": None, "crf": None},
            "allow_dirs": [str(d) for d in config.allow_dirs], "max_upload": config.max_upload,
        }  # fmt: skip

    @app.post("/api/jobs", status_code=201, openapi_extra=JOB_BODY)
    async def submit(request: Request):
        job_id = new_job_id()
        folder = job_folder(config.state, job_id)
        try:
            job = await _receive(request, job_id, folder)
            await run_in_threadpool(_check_job, job)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        request.app.state.store.add(job)
        request.app.state.workers.wake()
        return {"id": job_id}

    async def _receive(request: Request, job_id: str, folder: Path) -> JobRecord:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/"):
            declared = request.headers.get("content-length", "")
            declared = int(declared) if declared.isdigit() else 0
            if declared > config.max_upload:
                raise HTTPException(413, f"the upload is {declared} bytes, more than this server's limit of {config.max_upload}")

            def place(filename: str, fields: dict) -> Path:
                job_options(fields)  # the options sent before the file: refused before it comes
                folder.mkdir(parents=True)
                return folder / safe_name(filename)

            try:
                upload = await receive_upload(content_type, request.stream(), place, config.max_upload)
            except UploadRefused as refused:
                raise HTTPException(refused.status, refused.message) from None
            options = job_options(upload.fields)
            return JobRecord(id=job_id, name=upload.path.name, source=str(upload.path), output="", options=options)
        if content_type.split(";")[0].strip() != "application/json":
            raise HTTPException(415, 'send multipart/form-data (a file) or application/json ({"path": ...} or {"url": ...})')
        body = await _json_body(request)
        where = {key: body.pop(key) for key in ("path", "url") if key in body}
        if len(where) != 1 or not isinstance(next(iter(where.values())), str):
            raise HTTPException(400, "give exactly one of path or url, as a string")
        options = job_options(body)
        if "path" in where:
            source = await run_in_threadpool(allowed_path, where["path"], config.allow_dirs)
            return JobRecord(id=job_id, name=safe_name(source.name), source=str(source), output="", options=options)
        url = where["url"]
        check_url(url)
        folder.mkdir(parents=True)
        name = url_name(url)
        return JobRecord(id=job_id, name=name, source=str(folder / name), output="", options=options, url=url)

    def _check_job(job: JobRecord) -> None:
        """The options as a run would take them, and an input that opens as a video."""
        from ..video.io.source import VideoSource

        build_upscale(Path(job.source), job.options, config.defaults)
        if job.url is None:
            source = VideoSource(Path(job.source))
            try:
                job.frames_total = source.info.frames_estimated
            finally:
                source.close()

    @app.get("/api/jobs")
    def list_jobs(request: Request):
        return {"jobs": [job.public() for job in request.app.state.store.all()]}

    @app.get("/api/jobs/{job_id}")
    def get_job(job_id: str, request: Request):
        return _job(request, job_id).public()

    @app.get("/api/jobs/{job_id}/result")
    def result(job_id: str, request: Request):
        job = _job(request, job_id)
        output = Path(job.output) if job.output else None
        if job.state is not JobState.DONE or output is None or not output.is_file():
            raise HTTPException(409, f"job {job_id} has no result ({job.state.value})")
        return FileResponse(output, filename=output.name)

    @app.delete("/api/jobs/{job_id}")
    def cancel(job_id: str, request: Request, remove_files: bool = False):
        store, workers = request.app.state.store, request.app.state.workers
        state = store.cancel(job_id, remove_files)
        if state is None:
            raise HTTPException(404, f"no job {job_id}")
        if state is JobState.RUNNING:
            workers.cancel(job_id)
            return {"id": job_id, "state": "cancelling", "remove_files": remove_files}
        if remove_files:
            remove_job(store, job_id)
            return {"id": job_id, "state": "removed", "remove_files": True}
        return {"id": job_id, "state": state.value, "remove_files": False}

    @app.get("/api/jobs/{job_id}/frame", responses={200: {"content": {"image/png": {}}}})
    def frame(
        job_id: str,
        request: Request,
        n: int = Query(0, ge=0, description="frame number, from 0"),
        side: str = Query("result", pattern="^(source|result)$"),
        enlarge: str = Query("bicubic", pattern="^(nearest|bicubic)$", description="how the source is enlarged to the result's size"),
    ):
        from .frames import frame_png, frame_size

        job = _job(request, job_id)
        output = Path(job.output) if job.output else None
        done = job.state is JobState.DONE and output is not None and output.is_file()
        if side == "result" and not done:
            raise HTTPException(409, f"job {job_id} has no result yet ({job.state.value})")
        if side == "source" and not Path(job.source).is_file():
            raise HTTPException(409, f"job {job_id}'s input is not here (yet)")
        path = output if side == "result" else Path(job.source)
        size = frame_size(output) if side == "source" and done else None
        started = time.perf_counter()
        png = frame_png(path, n, size, enlarge)
        log.debug("frame %d of %s (%s) in %.2f s", n, job_id, side, time.perf_counter() - started)
        lasting = done or side == "result"  # a source frame is enlarged once the result exists
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600" if lasting else "no-store"})

    def _job(request: Request, job_id: str) -> JobRecord:
        job = request.app.state.store.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return job


async def _json_body(request: Request) -> dict:
    import json

    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON:
            raise HTTPException(413, f"a JSON body is at most {MAX_JSON} bytes")
    try:
        value = json.loads(body)
    except ValueError:
        raise HTTPException(400, "the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return value
