"""EventBridge event patterns as AWS matches them, for driftguard's embedded emulator (see driftguard_moto.py).

moto 5.2.1's TestEventPattern returns an empty body, and its EventPattern (also used by PutEvents) ignores arrays of
objects, treats true as 1, accepts unknown operators as matching everything, and barely validates patterns.
patch_events_pattern_matching() replaces those parts of moto's own EventPattern class; the rules' patterns are
checked against it in test/integration/emulator.test.ts.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

from moto.events import models as events_models
from moto.events import responses as events_responses
from moto.events.exceptions import InvalidEventPatternException
from moto.events.exceptions import ValidationException as EventsValidationException

_MISSING = events_models.UNDEFINED
_STRING_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_NUMERIC_OPERATORS = ("<", "<=", "=", ">=", ">")
_EVENT_REQUIRED_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_equal(left: Any, right: Any) -> bool:
    """JSON equality: unlike Python, true is not 1 and 1 is 1.0."""
    if _is_number(left) and _is_number(right):
        return float(left) == float(right)
    return type(left) is type(right) and left == right


def _leaf_values(node: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """AWS flattens an event to its leaf values: arrays (also arrays of objects) give several values for one
    path, and empty arrays or objects give none, so the field counts as absent. moto kept lists of objects whole,
    so `{"detail": {"resources": {"ARN": [...]}}}` never matched."""
    out = {} if out is None else out
    if isinstance(node, dict):
        for key, value in node.items():
            _leaf_values(value, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(node, list):
        for item in node:
            _leaf_values(item, prefix, out)
    else:
        out.setdefault(prefix, []).append(node)
    return out


def _numeric_matches(bounds: list[Any], value: Any) -> bool:
    compare: dict[str, Callable[[float, float], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        "=": lambda a, b: a == b,
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
    }
    if not _is_number(value):
        return False
    return all(compare[op](float(value), float(bound)) for op, bound in zip(bounds[::2], bounds[1::2], strict=True))


def _cidr_matches(cidr: str, value: Any) -> bool:
    try:
        return isinstance(value, str) and ipaddress.ip_address(value) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _string_operator_matches(operator: str, argument: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict):
        # prefix/suffix take {"equals-ignore-case": "x"} to compare without case.
        argument, value = argument["equals-ignore-case"].lower(), value.lower()
    if operator == "prefix":
        return value.startswith(argument)
    if operator == "suffix":
        return value.endswith(argument)
    if operator == "equals-ignore-case":
        return value.lower() == argument.lower()
    return events_models.EventPattern._wildcard_match(value, argument)


def _anything_but_matches(argument: Any, value: Any) -> bool:
    """AWS: anything-but matches every present value (null included) that the inner test does not match."""
    if isinstance(argument, dict):
        operator, inner = next(iter(argument.items()))
        inner_values = inner if isinstance(inner, list) else [inner]
        return not any(_string_operator_matches(operator, v, value) for v in inner_values)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_json_equal(value, v) for v in excluded)


def _operator_matches(operator: str, argument: Any, value: Any) -> bool:
    if operator in _STRING_OPERATORS:
        return _string_operator_matches(operator, argument, value)
    if operator == "anything-but":
        return _anything_but_matches(argument, value)
    if operator == "numeric":
        return _numeric_matches(argument, value)
    if operator == "cidr":
        return _cidr_matches(argument, value)
    return False


def _filters_match(values: Any, filters: list[Any]) -> bool:
    """AWS: the entries of a pattern array are ORed; a field with several values matches if any value does.
    `exists` looks at presence only; every other test needs the field present (so anything-but does NOT
    match an absent field)."""
    for matcher in filters:
        if isinstance(matcher, dict):
            operator, argument = next(iter(matcher.items()))
            if operator == "exists":
                if (values is not _MISSING) == argument:
                    return True
            elif values is not _MISSING and any(_operator_matches(operator, argument, v) for v in values):
                return True
        elif values is not _MISSING and any(_json_equal(v, matcher) for v in values):
            return True
    return False


class _PatternValidator:
    """AWS's InvalidEventPatternException checks, for the operators driftguard's rules use."""

    def pattern(self, pattern: Any) -> None:
        if not isinstance(pattern, dict):
            raise InvalidEventPatternException(reason="Filter is not an object")
        self._object(pattern)

    def _object(self, node: dict[str, Any]) -> None:
        for key, value in node.items():
            if key == "$or":
                self._or(value)
            elif isinstance(value, dict):
                self._object(value)
            elif isinstance(value, list):
                if not value:
                    raise InvalidEventPatternException(reason="Empty arrays are not allowed")
                for matcher in value:
                    self._matcher(matcher)
            else:
                raise InvalidEventPatternException(reason=f'"{key}" must be an object or an array')

    def _or(self, branches: Any) -> None:
        if not isinstance(branches, list) or len(branches) < 2 or not all(isinstance(b, dict) for b in branches):
            raise InvalidEventPatternException(reason="Value of $or must be an array of at least two objects")
        for branch in branches:
            self._object(branch)

    def _matcher(self, matcher: Any) -> None:
        if matcher is None or isinstance(matcher, (str, bool, int, float)):
            return
        if not isinstance(matcher, dict):
            raise InvalidEventPatternException(reason="Match value must be String, number, true, false, or null")
        if len(matcher) != 1:
            raise InvalidEventPatternException(reason="Only one key allowed in match expression")
        operator, argument = next(iter(matcher.items()))
        check = {
            "prefix": self._prefix_or_suffix,
            "suffix": self._prefix_or_suffix,
            "equals-ignore-case": self._string,
            "wildcard": self._wildcard,
            "anything-but": self._anything_but,
            "exists": self._exists,
            "numeric": self._numeric,
            "cidr": self._cidr,
        }.get(operator)
        if check is None:
            raise InvalidEventPatternException(reason=f"Unrecognized match type {operator}")
        check(operator, argument)

    @staticmethod
    def _string(operator: str, argument: Any) -> None:
        if not isinstance(argument, str):
            raise InvalidEventPatternException(reason=f"{operator} match pattern must be a string")

    def _prefix_or_suffix(self, operator: str, argument: Any) -> None:
        if isinstance(argument, dict):
            if list(argument) != ["equals-ignore-case"] or not isinstance(argument["equals-ignore-case"], str):
                raise InvalidEventPatternException(reason=f"Unsupported {operator} pattern: {json.dumps(argument)}")
            return
        self._string(operator, argument)

    def _wildcard(self, operator: str, argument: Any) -> None:
        self._string(operator, argument)
        if "**" in argument:
            position = argument.index("**") + 1
            raise InvalidEventPatternException(reason=f"Consecutive wildcard characters at pos {position}")

    def _anything_but(self, operator: str, argument: Any) -> None:
        if isinstance(argument, list):
            if not argument or not all(v is None or isinstance(v, (str, int, float, bool)) for v in argument):
                reason = "Inside anything but list, start|null|boolean is not supported."
                raise InvalidEventPatternException(reason=reason)
            return
        if isinstance(argument, dict):
            if len(argument) != 1:
                raise InvalidEventPatternException(reason="Only one key allowed in match expression")
            inner_operator, inner = next(iter(argument.items()))
            if inner_operator not in _STRING_OPERATORS:
                raise InvalidEventPatternException(reason=f"Unsupported anything-but pattern: {inner_operator}")
            inner_values = inner if isinstance(inner, list) else [inner]
            if not inner_values or not all(isinstance(v, str) for v in inner_values):
                raise InvalidEventPatternException(reason=f"{inner_operator} match pattern must be a string")
            return
        if not (argument is None or isinstance(argument, (str, int, float, bool))):
            reason = "Value of anything-but must be an array or single string/number value."
            raise InvalidEventPatternException(reason=reason)

    @staticmethod
    def _exists(operator: str, argument: Any) -> None:
        if not isinstance(argument, bool):
            raise InvalidEventPatternException(reason="exists match pattern must be either true or false.")

    @staticmethod
    def _numeric(operator: str, argument: Any) -> None:
        if not isinstance(argument, list) or not argument or len(argument) % 2 or len(argument) > 4:
            raise InvalidEventPatternException(reason="Value of numeric must be an array of operator/value pairs.")
        for op, bound in zip(argument[::2], argument[1::2], strict=True):
            if op not in _NUMERIC_OPERATORS:
                raise InvalidEventPatternException(reason=f"Unrecognized numeric range operator: {op}")
            if not _is_number(bound):
                raise InvalidEventPatternException(reason=f"Value of {op} must be numeric")

    @staticmethod
    def _cidr(operator: str, argument: Any) -> None:
        try:
            if not isinstance(argument, str) or "/" not in argument:
                raise ValueError(argument)
            ipaddress.ip_network(argument, strict=False)
        except ValueError:
            raise InvalidEventPatternException(reason=f"Malformed CIDR: {argument}") from None


def _parse_test_event(raw_event: Any) -> dict[str, Any]:
    """AWS: TestEventPattern needs a JSON event with id, account, source, time, region, resources, detail-type."""
    invalid = EventsValidationException("Parameter Event is not valid.")
    try:
        event = json.loads(raw_event or "")
    except ValueError:
        raise invalid from None
    if not isinstance(event, dict) or any(field not in event for field in _EVENT_REQUIRED_FIELDS):
        raise invalid
    return event


def patch_events_pattern_matching() -> None:
    """moto 5.2.1: TestEventPattern returns an empty body; its EventPattern ignores arrays of objects, treats
    true as 1, accepts unknown operators as matching everything, and barely validates patterns."""

    def validate_event_pattern(self: Any, pattern: dict[str, Any]) -> None:
        _PatternValidator().pattern(pattern)

    def does_item_match_filters(self: Any, item: Any, filters: list[Any]) -> bool:
        return _filters_match(item, filters)

    def test_event_pattern(self: Any) -> str:
        pattern = events_models.EventPattern.load(self._get_param("EventPattern"))
        event = _parse_test_event(self._get_param("Event"))
        return json.dumps({"Result": pattern.matches_event(event)})

    events_models.EventPatternParser._validate_event_pattern = validate_event_pattern
    events_models.EventPattern._flatten_dict = staticmethod(lambda node, *_: _leaf_values(node))
    events_models.EventPattern._does_item_match_filters = does_item_match_filters
    events_responses.EventsHandler.test_event_pattern = test_event_pattern


