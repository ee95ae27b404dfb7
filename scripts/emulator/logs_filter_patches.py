"""CloudWatch Logs FilterLogEvents as AWS answers it, for driftguard's embedded emulator (see driftguard_moto.py).

moto 5.2.1's FilterLogEvents understands only plain-text terms: a JSON filter pattern (`{ $.eventName = "X" }`)
matches every event. It also orders events stream by stream unless `interleaved` is set, ignores
`logGroupIdentifier` and `logStreamNamePrefix`, and accepts both `logStreamNames` and `logStreamNamePrefix`.

AWS (API reference, FilterLogEvents, and "Filter pattern syntax for metric filters, subscription filters, filter log
events"):
- exactly one of `logGroupName` / `logGroupIdentifier` (a name or an ARN), else InvalidParameterException;
- `logStreamNames` and `logStreamNamePrefix` together: InvalidParameterException;
- events whose timestamp is before `startTime` or after `endTime` (epoch milliseconds) are not returned;
- `limit` 1 to 10,000 (the default); pages carry a `nextToken` while more events remain;
- `interleaved` is ignored since 2019: events are always sorted by timestamp, then ingestion time, across streams;
- a JSON pattern selects values of JSON log events; a pattern that does not parse is an InvalidParameterException.

The JSON evaluator here follows lib/filter-pattern.ts clause by clause (its header states the semantics);
test/integration/filter-pattern-parity.test.ts runs one table through both. Plain-text patterns stay moto's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.logs import responses as logs_responses
from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.logs.models import logs_backends
from moto.logs.utils import EventMessageFilter

FILTER_PATTERN_MAX_LENGTH = 1024
_MAX_LIMIT = 10000
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_-]")
_UNQUOTED_END = re.compile(r"[\s(){}&|\"=!<>]")
_KEYWORD = re.compile(r"[A-Za-z]+")
_KEYWORDS = ("IS", "NOT", "EXISTS", "NULL", "TRUE", "FALSE")
_LOG_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+)(:\*)?$")


class FilterPatternError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


class _Parser:
    """{ expr } where expr := and ('||' and)*, and := unary ('&&' unary)*, unary := '(' expr ')' | condition."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def parse(self) -> Any:
        self._space()
        if self._char() != "{":
            if self.text.strip() == "":
                raise self._error('an empty pattern is not a JSON filter pattern: expected "{"')
            raise self._error('not a JSON filter pattern: expected "{" (text and space-delimited patterns are not evaluated here)')
        self.at += 1
        expression = self._or()
        self._space()
        self._expect("}", 'expected "&&", "||" or the closing "}"')
        self._space()
        if self.at < len(self.text):
            raise self._error('unexpected text after the closing "}"')
        return expression

    def _or(self) -> Any:
        terms = [self._and()]
        while self._take("||"):
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else ("or", terms)

    def _and(self) -> Any:
        terms = [self._unary()]
        while self._take("&&"):
            terms.append(self._unary())
        return terms[0] if len(terms) == 1 else ("and", terms)

    def _unary(self) -> Any:
        self._space()
        if self._take("("):
            inner = self._or()
            self._space()
            self._expect(")", 'expected "&&", "||" or the closing ")"')
            return inner
        return self._condition()

    def _condition(self) -> Any:
        self._space()
        if self._char() != "$":
            raise self._error('expected a selector starting with "$" (like $.eventName)')
        selector = self._selector()
        self._space()
        keyword_at = self.at
        keyword = self._keyword()
        if keyword is not None:
            if keyword == "EXISTS":
                return ("exists", selector, True)
            self._space()
            next_at = self.at
            following = self._keyword()
            if keyword == "NOT":
                if following == "EXISTS":
                    return ("exists", selector, False)
                raise self._error("expected EXISTS after NOT", next_at)
            if keyword == "IS":
                if following in ("NULL", "TRUE", "FALSE"):
                    return ("is", selector, {"NULL": None, "TRUE": True, "FALSE": False}[following])
                raise self._error("expected NULL, TRUE or FALSE after IS", next_at)
            raise self._error(
                f"unexpected {keyword}: expected an operator (= != < > <= >=), IS, EXISTS or NOT EXISTS", keyword_at
            )
        operator = self._operator()
        self._space()
        value_at = self.at
        value = self._literal()
        if operator not in ("=", "!=") and value[0] != "number":
            raise self._error(f"the operator {operator} compares numbers: expected a number", value_at)
        return ("compare", selector, operator, value)

    def _selector(self) -> list[Any]:
        self.at += 1
        steps: list[Any] = []
        while True:
            char = self._char()
            if char == ".":
                self.at += 1
                start = self.at
                while self.at < len(self.text) and _NAME_CHAR.match(self.text[self.at]):
                    self.at += 1
                if self.at == start:
                    raise self._error('expected a property name after "."')
                steps.append(("property", self.text[start : self.at]))
            elif char == "[":
                if not steps:
                    raise self._error("an array index must follow a property (like $.items[0])")
                self.at += 1
                start = self.at
                while self.at < len(self.text) and self.text[self.at] in "0123456789":
                    self.at += 1
                if self.at == start:
                    raise self._error('expected an array index (digits) after "["')
                index = int(self.text[start : self.at])
                self._expect("]", 'expected "]" after the array index')
                steps.append(("index", index))
            else:
                break
        if not steps:
            raise self._error('expected "." and a property name after "$"')
        return steps

    def _operator(self) -> str:
        for operator in ("!=", "<=", ">=", "=", "<", ">"):
            if self._take(operator, skip_space=False):
                return operator
        raise self._error("expected an operator (= != < > <= >=), IS, EXISTS or NOT EXISTS")

    def _literal(self) -> tuple[str, Any, str]:
        if self._char() == '"':
            text = self._quoted()
            return ("string", text, text)
        start = self.at
        while self.at < len(self.text) and not _UNQUOTED_END.match(self.text[self.at]):
            self.at += 1
        if self.at == start:
            raise self._error("expected a value (a number, a quoted string or a word)")
        text = self.text[start : self.at]
        if _NUMBER.match(text):
            return ("number", float(text), text)
        return ("string", text, text)

    def _quoted(self) -> str:
        start = self.at
        self.at += 1
        value = ""
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == '"':
                self.at += 1
                return value
            if char == "\\":
                if self.at + 1 >= len(self.text):
                    break
                value += self.text[self.at + 1]
                self.at += 2
                continue
            value += char
            self.at += 1
        raise self._error("unterminated quoted string", start)

    def _keyword(self) -> str | None:
        match = _KEYWORD.match(self.text, self.at)
        word = match.group(0).upper() if match else None
        if word is None or word not in _KEYWORDS:
            return None
        self.at += len(word)
        return word

    def _take(self, token: str, skip_space: bool = True) -> bool:
        if skip_space:
            self._space()
        if not self.text.startswith(token, self.at):
            return False
        self.at += len(token)
        return True

    def _expect(self, token: str, message: str) -> None:
        if not self._take(token, skip_space=False):
            raise self._error(message)

    def _space(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def _char(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def _error(self, message: str, position: int | None = None) -> FilterPatternError:
        position = self.at if position is None else position
        near = self.text[position : position + 20]
        where = "at the end" if position >= len(self.text) else f"at position {position} (near {json.dumps(near)})"
        return FilterPatternError(f"filter pattern: {message} {where}", position)


def parse_filter_pattern(source: str) -> Any:
    if len(source) > FILTER_PATTERN_MAX_LENGTH:
        raise FilterPatternError(
            f"filter pattern: {len(source)} characters, more than the {FILTER_PATTERN_MAX_LENGTH} AWS allows",
            FILTER_PATTERN_MAX_LENGTH,
        )
    return _Parser(source).parse()


_NOT_FOUND = object()


def _resolve(selector: list[Any], record: Any) -> Any:
    current = record
    for kind, key in selector:
        if kind == "property":
            if not isinstance(current, dict) or key not in current:
                return _NOT_FOUND
            current = current[key]
        else:
            if not isinstance(current, list) or key >= len(current):
                return _NOT_FOUND
            current = current[key]
    return current


def matches_wildcard(text: str, pattern: str) -> bool:
    if pattern == "*":
        return True
    leading = pattern.startswith("*")
    trailing = len(pattern) > 1 and pattern.endswith("*")
    core = pattern[1 if leading else 0 : -1 if trailing else None]
    if leading and trailing:
        return core in text
    if leading:
        return text.endswith(core)
    if trailing:
        return text.startswith(core)
    return text == pattern


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _value_text(value: Any) -> str | None:
    """A value node's text as JSON writes it (JavaScript's JSON.stringify for numbers: 50, not 50.0)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return json.dumps(value)
    return None


def _compare(operator: str, value: Any, literal: tuple[str, Any, str]) -> bool:
    kind, number, text = literal
    if kind == "number" and _is_number(value):
        return {
            "=": value == number,
            "!=": value != number,
            "<": value < number,
            ">": value > number,
            "<=": value <= number,
            ">=": value >= number,
        }[operator]
    if operator not in ("=", "!="):
        return False
    value_text = _value_text(value)
    if value_text is None:
        return False
    matched = value_text == text if kind == "number" else matches_wildcard(value_text, text)
    return matched if operator == "=" else not matched


def _evaluate(expression: Any, record: Any) -> bool:
    kind = expression[0]
    if kind == "or":
        return any(_evaluate(term, record) for term in expression[1])
    if kind == "and":
        return all(_evaluate(term, record) for term in expression[1])
    resolved = _resolve(expression[1], record)
    if kind == "exists":
        return (resolved is not _NOT_FOUND) == expression[2]
    if resolved is _NOT_FOUND:
        return False
    if kind == "is":
        return resolved is expression[2]
    return _compare(expression[2], resolved, expression[3])


def matches_message(expression: Any, message: str) -> bool:
    """A message that is not a JSON object matches no JSON pattern."""
    try:
        record = json.loads(message)
    except ValueError:
        return False
    return isinstance(record, dict) and _evaluate(expression, record)


def _message_filter(filter_pattern: str | None) -> Any:
    """What selects a message: the JSON evaluator for `{ ... }`, moto's own terms otherwise (all when empty)."""
    if filter_pattern and filter_pattern.strip().startswith("{"):
        try:
            expression = parse_filter_pattern(filter_pattern)
        except FilterPatternError as error:
            raise InvalidParameterException(msg=f"Invalid filter pattern: {error}") from error
        return lambda message: matches_message(expression, message)
    if filter_pattern and len(filter_pattern) > FILTER_PATTERN_MAX_LENGTH:
        raise InvalidParameterException(
            constraint=f"Member must have length less than or equal to {FILTER_PATTERN_MAX_LENGTH}",
            parameter="filterPattern",
            value=filter_pattern,
        )
    text_filter = EventMessageFilter(filter_pattern or "")
    return text_filter.matches


def _log_group(backend: Any, account_id: str, region: str, name: str | None, identifier: str | None) -> Any:
    if (name is None) == (identifier is None):
        raise InvalidParameterException(msg="Exactly one of logGroupName or logGroupIdentifier must be specified.")
    if identifier is not None:
        match = _LOG_GROUP_ARN.match(identifier)
        if match:
            if match["account"] != account_id or match["region"] != region:
                raise ResourceNotFoundException()
            name = match["name"]
        else:
            name = identifier
    group = backend.groups.get(name)
    if group is None:
        raise ResourceNotFoundException()
    return group


def filter_log_events(self: Any) -> str:
    """AWS's FilterLogEvents (module docstring), in place of moto's."""
    stream_names = self._get_param("logStreamNames")
    prefix = self._get_param("logStreamNamePrefix")
    if stream_names and prefix is not None:
        raise InvalidParameterException(msg="logStreamNames and logStreamNamePrefix are mutually exclusive.")
    limit = self._get_param("limit")
    if limit is not None and not 1 <= int(limit) <= _MAX_LIMIT:
        raise InvalidParameterException(
            constraint=f"Member must have value between 1 and {_MAX_LIMIT}", parameter="limit", value=limit
        )
    start_time = self._get_param("startTime")
    end_time = self._get_param("endTime")
    matches = _message_filter(self._get_param("filterPattern"))
    backend = logs_backends[self.current_account][self.region]
    group = _log_group(
        backend, self.current_account, self.region, self._get_param("logGroupName"), self._get_param("logGroupIdentifier")
    )
    streams = [
        stream
        for name, stream in group.streams.items()
        if (not stream_names or name in stream_names) and (prefix is None or name.startswith(prefix))
    ]
    found = [
        (event, stream.log_stream_name)
        for stream in streams
        for event in stream.events
        if (start_time is None or event.timestamp >= start_time)
        and (end_time is None or event.timestamp <= end_time)
        and matches(event.message)
    ]
    found.sort(key=lambda pair: (pair[0].timestamp, pair[0].ingestion_time, pair[0].event_id))
    first = 0
    next_token = self._get_param("nextToken")
    if next_token:
        position = next(
            (index for index, (event, stream) in enumerate(found) if f"{group.name}@{stream}@{event.event_id}" == next_token),
            None,
        )
        if position is None:
            # moto's answer to a token it did not give: an empty page (AWS's tokens are opaque).
            found, first = [], 0
        else:
            first = position + 1
    page = found[first : first + int(limit or _MAX_LIMIT)]
    more = first + len(page) < len(found)
    events = [{**event.to_filter_dict(), "logStreamName": stream} for event, stream in page]
    answer: dict[str, Any] = {
        "events": events,
        "searchedLogStreams": [{"logStreamName": stream.log_stream_name, "searchedCompletely": True} for stream in streams],
    }
    if more and page:
        last_event, last_stream = page[-1]
        answer["nextToken"] = f"{group.name}@{last_stream}@{last_event.event_id}"
    return json.dumps(answer)


def apply() -> None:
    """moto 5.2.1: FilterLogEvents ignores JSON filter patterns (all events match), logGroupIdentifier and
    logStreamNamePrefix, and interleaves streams only when asked."""
    logs_responses.LogsResponse.filter_log_events = filter_log_events
