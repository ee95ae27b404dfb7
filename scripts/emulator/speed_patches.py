"""
moto's work per request, made cheaper where driftguard's calls spend it (the answers are the same). Profiled with
cProfile on the server while the log-group guard replayed events; each patch names what it makes cheaper and why no
answer changes.

1. SQS queue attributes (SNS Publish to a topic with a queue subscribed, SendMessage, GetQueueAttributes).
   moto's `Queue.attributes` computes ApproximateNumberOfMessages, -Delayed and -NotVisible by walking every message
   of the queue three times, reading the clock twice per message; `send_message` (SNS delivers through it) reads that
   property three times only to learn the ContentBasedDeduplication flag. A publish cost grew with the queue (the
   engine's notice queue is never drained in a replay). Now: while a message is sent, the property leaves the three
   counts out (no code on that path reads them: it reads ContentBasedDeduplication only, which stays as it was);
   otherwise the counts come from one walk with one clock reading (a message's visibility and delay are compared to
   the same instant, instead of instants a few microseconds apart), and GetQueueAttributes builds the attributes once
   instead of twice per name asked. The message list moto receives from (`Queue.messages`) is filtered the same way,
   with one clock reading.

2. DynamoDB update expressions (UpdateItem, and the updates of TransactWriteItems).
   - `UpdateExpressionParser.make` tokenises and parses the same expression strings on every request, twice (the
     response layer to check the names and values used, the backend to validate): the tree of each string is kept
     (at most 512 strings). moto never changes a parsed tree: the validator works on a deep copy of it, and the
     response layer only reads it. A string that does not parse raises its error every time, as before.
   - The validator deep-copies the tree through pickle's reduce protocol, per node: `Node.__deepcopy__` copies a
     node's attributes directly (children, parent, type; anything else through `copy.deepcopy`), with the same memo,
     so parents and shared values are the same objects in the copy as before.
   - Each of the ten traversers rebuilt its processing map (a new dict of bound methods) twice per node visited, and
     visited every name and value under a node: which method processes a node of a given type is found once per
     traverser class (each map is a literal dict of the class's own methods, whatever the traverser's state), and
     children that are not nodes are skipped (moto's visit returns them unchanged). The order of the walk, the
     pre-processing hook, the processors called and the errors raised are moto's own.
   - ActionCountValidator and OverlappingPathsValidator ask every node of the tree for all its clauses (a walk of the
     subtree each, so a walk of the tree costs the square of its size): while one of them walks a tree, which it does
     not change, a node's clauses of given types are found once.
   - Those two and UpdateHashRangeKeyValidator read nothing but the tree, the ExpressionAttributeNames and the
     table's key attributes: once they passed on a parsed expression with the same names and key attributes (and
     the whole validation succeeded), they are not run on it again; every other validator (values, the item's paths,
     functions, operations, types, empty keys) runs on every request.

   - ConditionExpressionParser lexes each condition expression (ConditionExpression of UpdateItem, PutItem, DeleteItem
     and of each transaction item) into tokens with regular expressions compiled per token: the tokens of each string
     are kept (at most 512 strings) and handed out in a new deque each time. Lexing reads nothing but the string;
     the tokens are immutable tuples whose child lists moto never changes; the parse that follows (names, values,
     functions, comparisons) runs on every request. A string that does not lex raises its error every time.

3. moto's dispatch.
   - `call_action` lists the response class's methods with `inspect.getmembers` on every request, to check that the
     action is one of them: the list is kept per class (the classes do not change once the server serves; every
     patch is applied before).
   - `DomainDispatcherApplication.get_backend_for_host` matches the host against every service's URL patterns (a few
     hundred regular expressions) on every request: the backend found for a host is kept (the patterns do not
     change; a host no backend matches is looked up each time, as before).

4. HTTP/1.1 keep-alive. werkzeug's development server answers HTTP/1.1 but sends "Connection: close" on every
   response, so each request paid a new TCP connection and a new thread on both sides (about half of the server's
   CPU per request, and a share of the SDK's). `KeepAliveRequestHandler` keeps the connection open unless the client
   asked to close it (HTTP/1.0, "Connection: close") or the request's body has no declared length (chunked). Every
   response still carries a Content-Length or is sent chunked (werkzeug chunks a response without a length on
   HTTP/1.1); a response whose body does not match the length it declares closes its connection. The request body is
   read to its declared end after each response (werkzeug's own drain would read into the client's next request), and
   the server never closes an idle kept-alive connection: it is closed by the client (the SDK's agent) or when the
   server stops, so a client reusing it is never answered by a reset. TCP_NODELAY: the headers and the body are two
   writes, and the body must not wait for the client's delayed ACK.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from moto.core import responses as core_responses
from moto.core import utils as core_utils
from moto.core.utils import camelcase_to_underscores, unix_time_millis
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing import ast_nodes
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import (
    ActionCountValidator,
    OverlappingPathsValidator,
    UpdateExpressionValidator,
    UpdateHashRangeKeyValidator,
    Validator,
)
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sqs.exceptions import InvalidAttributeName
from moto.sqs.models import Queue, SQSBackend
from werkzeug import serving
from werkzeug.wsgi import LimitedStream

# --------------------------------------------------------------------------------------------------
# 1. SQS queue attributes
# --------------------------------------------------------------------------------------------------

_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
)
_sending = threading.local()


def _message_counts(queue: Queue) -> tuple[int, int, int]:
    """Visible (neither delayed nor in flight), delayed, and not visible: one walk, one clock reading."""
    now = unix_time_millis()
    visible = delayed = not_visible = 0
    for message in list(queue._messages):
        is_visible = now > message.visible_at
        is_delayed = now < message.delayed_until
        if is_visible and not is_delayed:
            visible += 1
        if is_delayed:
            delayed += 1
        if not is_visible:
            not_visible += 1
    return visible, delayed, not_visible


def _queue_attributes(self: Queue) -> dict[str, Any]:
    """moto's Queue.attributes, key for key and in the same order, with the counts taken in one walk."""
    counting = not getattr(_sending, "depth", 0)
    counts = dict(zip(_COUNTS, _message_counts(self), strict=True)) if counting else {}
    result: dict[str, Any] = {}
    for attribute in self.BASE_ATTRIBUTES:
        if attribute in counts:
            result[attribute] = counts[attribute]
        elif attribute not in _COUNTS:
            result[attribute] = getattr(self, camelcase_to_underscores(attribute))
    if self.fifo_queue:
        for attribute in self.FIFO_ATTRIBUTES:
            result[attribute] = getattr(self, camelcase_to_underscores(attribute))
    if self.kms_master_key_id:  # type: ignore[attr-defined]
        for attribute in self.KMS_ATTRIBUTES:
            result[attribute] = getattr(self, camelcase_to_underscores(attribute))
    if self.policy:
        result["Policy"] = self.policy
    if self.redrive_policy:  # type: ignore[attr-defined]
        result["RedrivePolicy"] = json.dumps(self.redrive_policy)  # type: ignore[attr-defined]
    for key, value in result.items():
        if isinstance(value, bool):
            result[key] = str(value).lower()
    return result


def _queue_messages(self: Queue) -> list[Any]:
    """moto's Queue.messages (visible and not delayed), compared to one clock reading."""
    now = unix_time_millis()
    return [message for message in self._messages if now > message.visible_at and not now < message.delayed_until]


def _while_sending(method: Callable[..., Any]) -> Callable[..., Any]:
    def sending(*args: Any, **kwargs: Any) -> Any:
        _sending.depth = getattr(_sending, "depth", 0) + 1
        try:
            return method(*args, **kwargs)
        finally:
            _sending.depth -= 1

    sending.__name__ = method.__name__
    sending.__doc__ = method.__doc__
    return sending


def _get_queue_attributes(self: SQSBackend, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
    """moto's SQSBackend.get_queue_attributes (same checks, same errors), the attributes built once."""
    queue = self.get_queue(queue_name)
    if not attribute_names:
        return {}
    valid_names = ["All"] + queue.BASE_ATTRIBUTES + queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES
    invalid_name = next((name for name in attribute_names if name not in valid_names), None)
    if invalid_name or invalid_name == "":
        raise InvalidAttributeName(invalid_name)
    attributes = queue.attributes
    if "All" in attribute_names:
        return attributes
    return {name: attributes[name] for name in attribute_names if attributes.get(name) is not None}


def _patch_sqs() -> None:
    Queue.attributes = property(_queue_attributes)  # type: ignore[assignment,method-assign]
    Queue.messages = property(_queue_messages)  # type: ignore[assignment,method-assign]
    SQSBackend.send_message = _while_sending(SQSBackend.send_message)  # type: ignore[method-assign]
    SQSBackend._validate_message = _while_sending(SQSBackend._validate_message)  # type: ignore[method-assign]
    SQSBackend.get_queue_attributes = _get_queue_attributes  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------------
# 2. DynamoDB update and condition expressions
# --------------------------------------------------------------------------------------------------

_PARSED_LIMIT = 512
_parsed: OrderedDict[str, Any] = OrderedDict()
_parsed_lock = threading.Lock()
_ATOMIC = (str, int, float, bool, type(None))


def _node_deepcopy(self: ast_nodes.Node, memo: dict[int, Any]) -> ast_nodes.Node:
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    attributes = clone.__dict__
    for name, value in self.__dict__.items():
        if type(value) in _ATOMIC:
            attributes[name] = value
        elif type(value) is list:
            children: list[Any] = []
            memo[id(value)] = children
            for child in value:
                children.append(child if type(child) in _ATOMIC else copy.deepcopy(child, memo))
            attributes[name] = children
        else:
            attributes[name] = copy.deepcopy(value, memo)
    return clone


# A traverser class's processing map names the same methods for the same node classes whatever the traverser's state
# (each of moto's maps is a literal dict of its own bound methods): which method processes a node of a given type is
# found once per traverser class, then called unbound.
_class_processors: dict[type, dict[type, Callable[..., Any] | None]] = {}


def _processor_for(self: ast_nodes.DepthFirstTraverser, node_type: type) -> Callable[..., Any] | None:
    """The function moto's `process` calls for a node of this type (the first class of the map the node is an instance
    of; called with the traverser and the node), or None where `nodes_to_be_processed` skips the node."""
    processors = _class_processors.setdefault(type(self), {})
    if node_type not in processors:
        mapping = self._processing_map()
        processor = next((value for key, value in mapping.items() if issubclass(node_type, key)), None)
        if processor is not None and getattr(processor, "__self__", None) is not self:
            raise TypeError(f"{type(self).__name__}: a processor that is not its own method ({processor!r})")
        processors[node_type] = getattr(processor, "__func__", None)
    return processors[node_type]


def _nodes_to_be_processed(self: ast_nodes.DepthFirstTraverser) -> tuple[type, ...]:
    return tuple(self._processing_map())


def _process(self: ast_nodes.DepthFirstTraverser, node: Any) -> Any:
    processor = _processor_for(self, type(node))
    return processor(self, node) if processor is not None else None


_node_types: dict[type, bool] = {}


def _is_node(value_type: type) -> bool:
    known = _node_types.get(value_type)
    if known is None:
        known = _node_types[value_type] = issubclass(value_type, ast_nodes.Node)
    return known


def _traverse(self: ast_nodes.DepthFirstTraverser, root: Any) -> Any:
    """moto's DepthFirstTraverser.traverse: children first, then the node, each node replaced by what its processor
    returns; the pre-processing hook called before each child as before. The processor of a node type is looked up
    once, and children that are not nodes (names, values) are not visited (moto's visit returns them unchanged)."""
    processors = _class_processors.setdefault(type(self), {})
    pre = self.pre_processing_of_child
    if getattr(pre, "__func__", None) is _default_pre_processing:
        pre = None
    memo = _clause_memo if isinstance(self, _READ_ONLY_TRAVERSERS) else None
    if memo is not None:
        memo.active = {}

    node_types = _node_types

    def visit(node: Any, child_id: int) -> Any:
        node_type = type(node)
        parent_node = node.parent
        children = node.children
        if children is not None:
            for index, child_node in enumerate(children):
                if pre is not None:
                    pre(node, index)
                is_node = node_types.get(type(child_node))
                if is_node is None:
                    is_node = _is_node(type(child_node))
                if is_node:
                    visit(child_node, index)
        try:
            processor = processors[node_type]
        except KeyError:
            processor = _processor_for(self, node_type)
        return node if processor is None else _processed(self, processor, node, parent_node, child_id)

    try:
        return visit(root, -1) if _is_node(type(root)) else root
    finally:
        if memo is not None:
            memo.active = None


def _traverse_node_recursively(self: ast_nodes.DepthFirstTraverser, node: Any, child_id: int = -1) -> Any:
    """moto's traverse_node_recursively, for callers other than traverse (moto has none): the same walk."""
    if isinstance(node, ast_nodes.Node):
        parent_node = node.parent
        if node.children is not None:
            for index, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, index)
                self.traverse_node_recursively(child_node, index)
        processor = _processor_for(self, type(node))
        if processor is not None:
            node = _processed(self, processor, node, parent_node, child_id)
    return node


def _processed(self: Any, processor: Callable[..., Any], node: Any, parent_node: Any, child_id: int) -> Any:
    """The node as its processor returns it, put in its place under its parent (as moto's walk does)."""
    node = processor(self, node)
    node.parent = parent_node
    if parent_node:
        parent_node.children[child_id] = node
    return node


# The validators that only read the tree (their processors return the node they are given, unchanged) and ask each
# node for its clauses: while one of them walks a tree, a node's clauses of given types are found once.
_READ_ONLY_TRAVERSERS = (ActionCountValidator, OverlappingPathsValidator)
_clause_memo = threading.local()
_default_pre_processing = ast_nodes.DepthFirstTraverser.pre_processing_of_child


def _patch_find_clauses() -> None:
    original = ast_nodes.Node.find_clauses

    def find_clauses(self: ast_nodes.Node, clause_types: Any) -> list[Any]:
        memo: dict[tuple[int, tuple[type, ...]], list[Any]] | None = getattr(_clause_memo, "active", None)
        if memo is None:
            return original(self, clause_types)
        key = (id(self), tuple(clause_types))
        found = memo.get(key)
        if found is None:
            found = memo[key] = original(self, clause_types)
        return list(found)

    ast_nodes.Node.find_clauses = find_clauses  # type: ignore[method-assign]


# The checks that read the tree and nothing of the item (each returns the node it is given): ActionCountValidator (the
# tree), OverlappingPathsValidator (the tree and the ExpressionAttributeNames) and UpdateHashRangeKeyValidator (those and
# the table's key attributes). Once they passed for a parsed expression with the same names and key attributes, they
# pass again: they are not run again on it. Every other validator (values, the item's paths, functions, operations,
# types) runs on every request.
_PURE_CHECKS = (ActionCountValidator, OverlappingPathsValidator, UpdateHashRangeKeyValidator)
_passed_checks: weakref.WeakKeyDictionary[Any, set[Any]] = weakref.WeakKeyDictionary()
_passed_lock = threading.Lock()


def _patch_update_validator() -> None:
    original_init = Validator.__init__

    def __init__(self: Validator, expression: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - moto's name
        self._dg_source = expression  # type: ignore[attr-defined]
        original_init(self, expression, *args, **kwargs)

    def validate(self: UpdateExpressionValidator) -> Any:
        source = getattr(self, "_dg_source", None)
        names = self.expression_attribute_names or {}
        key = (tuple(sorted(names.items())), tuple(self.table.table_key_attrs))
        with _passed_lock:
            passed = source is not None and key in _passed_checks.get(source, ())
        node = self.node_to_validate
        for processor in self.processors:
            if passed and isinstance(processor, _PURE_CHECKS):
                continue
            node = processor.traverse(node)
        if source is not None and not passed:
            with _passed_lock:
                _passed_checks.setdefault(source, set()).add(key)
        return node

    Validator.__init__ = __init__  # type: ignore[method-assign]
    UpdateExpressionValidator.validate = validate  # type: ignore[method-assign]


_lexed: OrderedDict[str, tuple[Any, ...]] = OrderedDict()


def _patch_condition_lexer() -> None:
    lex = ConditionExpressionParser._lex_condition_expression

    def _lex_condition_expression(self: ConditionExpressionParser) -> deque[Any]:
        expression = self.condition_expression
        if not isinstance(expression, str):
            return lex(self)
        with _parsed_lock:
            nodes = _lexed.get(expression)
            if nodes is not None:
                _lexed.move_to_end(expression)
        if nodes is None:
            nodes = tuple(lex(self))
            with _parsed_lock:
                _lexed[expression] = nodes
                while len(_lexed) > _PARSED_LIMIT:
                    _lexed.popitem(last=False)
        return deque(nodes)

    ConditionExpressionParser._lex_condition_expression = _lex_condition_expression  # type: ignore[method-assign]


def _patch_dynamodb() -> None:
    make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]

    def cached_make(cls: type, expression_str: str) -> Any:
        if cls is not UpdateExpressionParser or not isinstance(expression_str, str):
            return make(cls, expression_str)
        with _parsed_lock:
            tree = _parsed.get(expression_str)
            if tree is not None:
                _parsed.move_to_end(expression_str)
                return tree
        tree = make(cls, expression_str)
        with _parsed_lock:
            _parsed[expression_str] = tree
            while len(_parsed) > _PARSED_LIMIT:
                _parsed.popitem(last=False)
        return tree

    UpdateExpressionParser.make = classmethod(cached_make)  # type: ignore[method-assign,assignment]
    ast_nodes.Node.__deepcopy__ = _node_deepcopy  # type: ignore[attr-defined]
    traverser = ast_nodes.DepthFirstTraverser
    traverser.nodes_to_be_processed = _nodes_to_be_processed  # type: ignore[method-assign]
    traverser.process = _process  # type: ignore[method-assign]
    traverser.traverse_node_recursively = _traverse_node_recursively  # type: ignore[method-assign]
    traverser.traverse = _traverse  # type: ignore[method-assign]
    _patch_find_clauses()
    _patch_update_validator()
    _patch_condition_lexer()


# --------------------------------------------------------------------------------------------------
# 3. moto's dispatch
# --------------------------------------------------------------------------------------------------

_method_names: dict[type, frozenset[str]] = {}
_backends_by_host: dict[str, Any] = {}
_HOSTS_LIMIT = 4096


def _patch_dispatch() -> None:
    original = core_utils.method_names_from_class

    def method_names_from_class(clazz: Any) -> frozenset[str]:
        names = _method_names.get(clazz)
        if names is None:
            names = frozenset(original(clazz))
            _method_names[clazz] = names
        return names

    core_responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]

    find_backend = DomainDispatcherApplication.get_backend_for_host

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host is None:
            return None
        backend = _backends_by_host.get(host)
        if backend is None:
            backend = find_backend(self, host)
            if backend is not None and len(_backends_by_host) < _HOSTS_LIMIT:
                _backends_by_host[host] = backend
        return backend

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------------
# 4. HTTP/1.1 keep-alive
# --------------------------------------------------------------------------------------------------

_keeping_alive = threading.local()
_wrap_lock = threading.Lock()
_real_selectors = serving.selectors
_BODILESS = {204, 304}


class _NoDrainSelector:
    """What werkzeug's drain after a response sees on a kept-alive connection: nothing to read (the request's body was
    read to its end already; the bytes that follow are the client's next request)."""

    def register(self, *args: Any, **kwargs: Any) -> None:
        return None

    def select(self, timeout: float | None = None) -> list[Any]:
        return []

    def close(self) -> None:
        return None


class _Selectors:
    """werkzeug.serving's `selectors`: the real module's, but on a connection kept alive the drain reads nothing."""

    EVENT_READ = _real_selectors.EVENT_READ

    @staticmethod
    def DefaultSelector() -> Any:  # noqa: N802 - the name werkzeug calls
        handler = getattr(_keeping_alive, "handler", None)
        if handler is not None and getattr(handler, "_keep_alive", False):
            return _NoDrainSelector()
        return _real_selectors.DefaultSelector()


def _checked_app(app: Any) -> Any:
    """The WSGI app, with each response's length compared to its Content-Length: a response that does not carry the
    length it declares closes its connection (a client could not find where the next response starts)."""

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        declared: list[int | None] = [None]

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            code = int(status.split(None, 1)[0])
            declared[0] = None
            if environ.get("REQUEST_METHOD") != "HEAD" and code >= 200 and code not in _BODILESS:
                lengths = [value for key, value in headers if key.lower() == "content-length"]
                declared[0] = int(lengths[0]) if len(lengths) == 1 and lengths[0].strip().isdigit() else None
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = app(environ, start)
        sent = 0
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            if declared[0] is not None and sent != declared[0]:
                environ["driftguard.close_connection"] = True

    return serve


class KeepAliveRequestHandler(serving.WSGIRequestHandler):
    """werkzeug's request handler, keeping an HTTP/1.1 connection open between requests (werkzeug closes each one)."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # A response goes out in two writes (headers, then body): with Nagle's algorithm on, the body would wait for
        # the client's delayed ACK of the headers (40 ms) on a connection that stays open.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = self.server
        with _wrap_lock:
            if not getattr(server, "_driftguard_checked", False):
                server.app = _checked_app(server.app)
                server._driftguard_checked = True  # type: ignore[attr-defined]

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        length = environ.get("CONTENT_LENGTH", "")
        self._keep_alive = not self.close_connection and not environ.get("wsgi.input_terminated")
        if self._keep_alive and length:
            if length.strip().isdigit():
                environ["wsgi.input"] = LimitedStream(self.rfile, int(length))
            else:
                self._keep_alive = False
        elif self._keep_alive:
            environ["wsgi.input"] = LimitedStream(self.rfile, 0)
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and getattr(self, "_keep_alive", False):
            return
        super().send_header(keyword, value)

    def run_wsgi(self) -> None:
        self._keep_alive = False
        _keeping_alive.handler = self
        try:
            super().run_wsgi()
        finally:
            _keeping_alive.handler = None
        environ = getattr(self, "environ", {})
        if not self._keep_alive or environ.get("driftguard.close_connection"):
            self.close_connection = True
            return
        stream = environ.get("wsgi.input")
        try:
            if isinstance(stream, LimitedStream):
                stream.exhaust()
        except Exception:  # noqa: BLE001 - the client went away mid-body (ClientDisconnected, OSError): close
            self.close_connection = True


def _patch_keep_alive() -> None:
    serving.selectors = _Selectors  # type: ignore[assignment]
    serving.WSGIRequestHandler = KeepAliveRequestHandler  # type: ignore[misc]


def apply() -> None:
    _patch_sqs()
    _patch_dynamodb()
    _patch_dispatch()
    _patch_keep_alive()
