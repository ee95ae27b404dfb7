"""
Lambda Invoke runs Node.js functions with node, not docker (AWS Lambda API Reference, Invoke; Lambda Developer Guide,
"Lambda function handler in Node.js", "Using Lambda environment variables", "Lambda function scaling").

moto 5.2.1 runs a function's code only in docker, which these machines and CI do not have (its Invoke answers "error
running docker"). For a function whose Runtime starts with `nodejs`, Invoke now extracts the function's zip (once per
CodeSha256) and runs its handler in a fresh node process (scripts/emulator/lambda_runner.mjs), one per invocation:

- RequestResponse: 200, the handler's return value as JSON (`null` for undefined), X-Amz-Executed-Version (the version
  run: `$LATEST` or the published version a qualifier or alias names). LogType=Tail: X-Amz-Log-Result, the last 4 KB
  of the run's output, base64 (START/END/REPORT lines around the function's own stdout and stderr). The output is not
  written anywhere else (no /aws/lambda/<name> log group is created: a guard sweeping log groups would see it).
- The handler throws or rejects: 200, X-Amz-Function-Error: Unhandled, body {"errorType": error.name, "errorMessage":
  error.message, "trace": error.stack's lines}, as the Node.js runtime formats it (aws-lambda-nodejs-runtime-interface-
  client, Errors.js toRapidResponse: a thrown non-Error gives its typeof, its string and an empty trace). The handler
  or its module not found: Runtime.HandlerNotFound / Runtime.ImportModuleError; the process exiting without an
  answer: Runtime.ExitError, "RequestId: <id> Error: Runtime exited with error: exit status N".
- The run passes the function's Timeout: the process is killed; 200, X-Amz-Function-Error: Unhandled, body
  {"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: <id> Error: Task timed out after N.NN seconds"}.
  The timeout counts from the handler's call (the runner's timer), as AWS counts the invoke phase apart from the init
  phase; a handler that blocks node's event loop (the runner's timer cannot fire) is killed by the emulator a second
  later, and a module whose loading never ends at Timeout + 10 s (AWS's init limit), with the same answer.
- Reserved concurrency 0 (PutFunctionConcurrency ReservedConcurrentExecutions=0): 429 TooManyRequestsException,
  {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}
  (ThrottleReason in the API reference; botocore's TooManyRequestsException shape). A reserved concurrency above 0 is
  not enforced: every invocation runs.
- Event: 202 with an empty body; the handler runs in the background (its answer is dropped; no retries, no
  destinations). A function with reserved concurrency 0 accepts the event (202) and never runs it, as AWS throttles
  it until it is discarded. DryRun: 204, nothing runs (AWS checks the parameters and permissions only).
- The function name in the path: a name, a full ARN or a partial ARN (`123456789012:function:name`), each with or
  without a qualifier (`:$LATEST`, a version, an alias), as the API reference's pattern allows. moto fails the partial
  ARN (its name split expects one colon) and reads the Qualifier from the payload's "qualifier" key; here the name is
  parsed with AWS's pattern, and a qualifier in the name that differs from ?Qualifier= is refused as AWS refuses it
  (InvalidParameterValueException). An ARN of another region or account is not found here (ResourceNotFoundException).
- A payload that is not JSON: 400 InvalidRequestContentException, "Could not parse request body into json: ...".
- The run's environment: the function's Environment.Variables, then AWS's reserved variables over them (AWS_REGION,
  AWS_DEFAULT_REGION, AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_VERSION,
  AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, AWS_LAMBDA_INITIALIZATION_TYPE, AWS_EXECUTION_ENV,
  LAMBDA_TASK_ROOT, _HANDLER, TZ), test
  credentials (testing/testing/testing) and AWS_ENDPOINT_URL = this emulator (the host and port the Invoke reached), so
  the function's SDK calls come back here. Nothing of the emulator's own environment (no PATH either: node is started
  by its absolute path, DRIFTGUARD_EMULATOR_NODE or `node` found on the emulator's PATH at start-up).
"""

from __future__ import annotations

import atexit
import base64
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from moto.awslambda.exceptions import LambdaClientError, UnknownFunctionException
from moto.awslambda.models import LambdaFunction
from moto.awslambda.responses import LambdaResponse

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lambda_runner.mjs")

# AWS's pattern for FunctionName in Invoke's path (API reference, Invoke, URI Request Parameters).
_FUNCTION_NAME = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1}):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)

# AWS's init phase may take 10 s apart from the function's Timeout: a run whose handler is never called is killed at
# Timeout + this. One whose handler blocks the event loop (the runner's own timer cannot fire) is killed a grace
# after its Timeout, counted from the handler's call (the runner marks it).
_INIT_ALLOWANCE_SECONDS = 10
_BACKSTOP_GRACE_SECONDS = 1
_POLL_SECONDS = 0.05
_LOG_TAIL_BYTES = 4096
_MAX_RESPONSE_BYTES = 6291556

_work_dir: str | None = None
_work_lock = threading.Lock()
_node: str | None = None


def _work_root() -> str:
    """One temporary directory per emulator process, removed when it exits."""
    global _work_dir
    with _work_lock:
        if _work_dir is None:
            _work_dir = tempfile.mkdtemp(prefix="driftguard-lambda-")
            atexit.register(shutil.rmtree, _work_dir, True)
        return _work_dir


def _node_path() -> str:
    global _node
    if _node is None:
        found = os.environ.get("DRIFTGUARD_EMULATOR_NODE") or shutil.which("node")
        if not found:
            error = LambdaClientError(
                "ServiceException",
                "the emulator runs Node.js functions with node: set DRIFTGUARD_EMULATOR_NODE or put node on PATH",
            )
            error.code = 500
            raise error
        _node = os.path.abspath(found)
    return _node


def _code_dir(fn: LambdaFunction) -> str:
    """The function's zip, extracted once per CodeSha256 (zipfile drops absolute and '..' parts of member names)."""
    key = (fn.code_sha_256 or "").replace("/", "_").replace("+", "-").rstrip("=") or uuid.uuid4().hex
    target = os.path.join(_work_root(), "code", key)
    if os.path.isdir(target):
        return target
    staging = tempfile.mkdtemp(prefix="extract-", dir=_work_root())
    try:
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
            archive.extractall(staging)
    except zipfile.BadZipFile as error:
        shutil.rmtree(staging, True)
        raise LambdaClientError("InvalidZipFileException", f"Could not unzip uploaded file: {error}") from error
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        os.rename(staging, target)
    except OSError:  # another request extracted the same code first
        shutil.rmtree(staging, True)
    return target


def _resolve(response: Any) -> tuple[LambdaFunction, LambdaFunction, str]:
    """The function (version) an Invoke path names, its $LATEST (which carries the reserved concurrency), and the ARN
    the caller invoked (qualified when the caller named a version or alias: the context's invokedFunctionArn)."""
    raw = unquote(response.path.rsplit("/", 2)[-2])
    backend = response.backend
    match = _FUNCTION_NAME.match(raw)
    if match is None:
        raise LambdaClientError(
            "ValidationException",
            f"1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
            "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
        )
    name = match["name"]
    in_name = match["qualifier"]
    param = (response.querystring.get("Qualifier") or [None])[0]
    if in_name and param and in_name != param:
        raise LambdaClientError(
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    qualifier = in_name or param
    region = match["region"] or backend.region_name
    account = match["account"] or backend.account_id
    if region != backend.region_name or account != backend.account_id:
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}" + (f":{qualifier}" if qualifier else "")
        raise UnknownFunctionException(arn)
    invoked_arn = f"arn:aws:lambda:{region}:{account}:function:{name}" + (f":{qualifier}" if qualifier else "")
    return backend.get_function(name, qualifier), backend.get_function(name), invoked_arn


def _run(fn: LambdaFunction, invoked_arn: str, payload: str, endpoint: str) -> dict[str, Any]:
    """Runs the handler once in a fresh node process. Returns the outcome: result (JSON text) or error (body), and the
    log tail."""
    request_id = str(uuid.uuid4())
    code_dir = _code_dir(fn)
    now = datetime.now(timezone.utc)
    log_stream = f"{now:%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}"
    timeout = float(fn.timeout or 3)
    result_file = os.path.join(_work_root(), f"result-{request_id}.json")
    environment = {str(k): str(v) for k, v in (fn.environment_vars or {}).items()}
    environment.update(
        {
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "LAMBDA_TASK_ROOT": code_dir,
            "_HANDLER": fn.handler or "",
            "TZ": ":UTC",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ENDPOINT_URL": endpoint,
        }
    )
    spec = {
        "codeDir": code_dir,
        "handler": fn.handler or "",
        "payload": payload,
        "resultFile": result_file,
        "timeoutMs": int(timeout * 1000),
        "context": {
            "functionName": fn.function_name,
            "functionVersion": str(fn.version),
            "invokedFunctionArn": invoked_arn,
            "memoryLimitInMB": str(fn.memory_size),
            "awsRequestId": request_id,
            "logGroupName": fn.logs_group_name,
            "logStreamName": log_stream,
        },
    }
    started = time.monotonic()
    process = subprocess.Popen(
        [_node_path(), RUNNER],
        cwd=code_dir,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the handler's own children die with it
    )
    output, killed = _wait(process, json.dumps(spec).encode("utf-8"), started, timeout, f"{result_file}.started")
    _kill_group(process)  # anything the handler left behind
    duration_ms = (time.monotonic() - started) * 1000
    outcome: dict[str, Any] | None = None
    try:
        with open(result_file, encoding="utf-8") as handle:
            outcome = json.load(handle)
    except (OSError, ValueError):
        outcome = None
    finally:
        for leftover in (result_file, f"{result_file}.started"):
            try:
                os.remove(leftover)
            except OSError:
                pass
    timed_out = killed or bool(outcome and outcome.get("timedOut"))
    if timed_out:
        error: dict[str, Any] | None = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
        }
        result = None
    elif outcome is None:
        error = {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status "
            f"{process.returncode}",
        }
        result = None
    else:
        error = outcome.get("error")
        result = outcome.get("result")
    log = (
        f"START RequestId: {request_id} Version: {fn.version}\n"
        + output.decode("utf-8", "replace")
        + (f"{now.isoformat()} {request_id} Task timed out after {timeout:.2f} seconds\n" if timed_out else "")
        + f"END RequestId: {request_id}\n"
        + f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tMemory Size: {fn.memory_size} MB\n"
    )
    return {"result": result, "error": error, "log": log}


def _wait(
    process: subprocess.Popen[bytes], spec: bytes, started: float, timeout: float, marker: str
) -> tuple[bytes, bool]:
    """The run's output, and whether it was killed: at Timeout + a second after the handler was called (the runner's
    own timer answers at Timeout unless the handler blocks the event loop), or Timeout + AWS's init allowance after
    the process started if the handler is never called."""
    deadline = started + timeout + _INIT_ALLOWANCE_SECONDS
    called = False
    data: bytes | None = spec
    while True:
        try:
            output, _ = process.communicate(data, timeout=_POLL_SECONDS)
            return output, False
        except subprocess.TimeoutExpired:
            data = None  # sent once; communicate goes on writing it
        now = time.monotonic()
        if not called and os.path.exists(marker):
            called = True
            deadline = min(deadline, now + timeout + _BACKSTOP_GRACE_SECONDS)
        if now >= deadline:
            _kill_group(process)
            output, _ = process.communicate()
            return output, True


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _endpoint(response: Any) -> str:
    """This emulator, as the caller reached it: the function runs on the same machine."""
    url = response.parsed_url
    return f"{url.scheme or 'http'}://{url.netloc}"


def apply() -> None:
    original_invoke = LambdaResponse.invoke

    def invoke(self: Any) -> Any:
        fn, latest, invoked_arn = _resolve(self)
        if not str(fn.run_time or "").startswith("nodejs"):
            return original_invoke(self)
        invocation_type = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise LambdaClientError(
                "ValidationException",
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            )
        try:
            raw = self.body.decode("utf-8") if isinstance(self.body, bytes) else (self.body or "")
            # The caller's own text goes to the handler: it parses exactly what was sent.
            payload = raw if raw.strip() else "{}"
            json.loads(payload)
        except ValueError as error:  # UnicodeDecodeError included
            raise LambdaClientError(
                "InvalidRequestContentException", f"Could not parse request body into json: {error}"
            ) from error
        if invocation_type == "DryRun":
            return 204, {"status": "204"}, ""
        throttled = latest.reserved_concurrency is not None and int(latest.reserved_concurrency) == 0
        endpoint = _endpoint(self)
        if invocation_type == "Event":
            if not throttled:
                args = (fn, invoked_arn, payload, endpoint)
                threading.Thread(target=_run, args=args, name="lambda-event", daemon=True).start()
            return 202, {"status": "202"}, ""
        if throttled:
            body = {
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                "Type": "User",
                "message": "Rate Exceeded.",
            }
            return 429, {"status": "429", "x-amzn-ErrorType": "TooManyRequestsException"}, json.dumps(body)
        outcome = _run(fn, invoked_arn, payload, endpoint)
        version = str(fn.version)
        headers: dict[str, str] = {"X-Amz-Executed-Version": version, "Content-Type": "application/json"}
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            tail = outcome["log"].encode("utf-8")[-_LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode("ascii")
        error = outcome["error"]
        if error is None and len(outcome["result"].encode("utf-8")) > _MAX_RESPONSE_BYTES:
            # moto's own answer for an oversized response (AWS: 6 MB synchronous response payload quota).
            error = {
                "errorMessage": f"Response payload size exceeded maximum allowed payload size ({_MAX_RESPONSE_BYTES} "
                "bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        if error is not None:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return 200, headers, json.dumps(error)
        return 200, headers, outcome["result"]

    # moto's dispatch takes the status from the headers' "status" (its own Invoke sets it so).
    LambdaResponse.invoke = invoke
