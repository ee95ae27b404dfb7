"""driftguard's embedded AWS emulator: moto's server mode plus the AWS behaviours driftguard relies on.

Usage: python driftguard_moto.py --host 127.0.0.1 --port 5055 [--parent-pid PID]

Each patch below is a small, named function that monkeypatches one moto class at import time and says
which AWS behaviour it reproduces. Patched calls were checked against the running server with the
AWS SDK for JavaScript v3 and awscli, before and after the patch (see test/integration/emulator.test.ts).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

try:
    import moto
    from moto.cloudtrail import exceptions as cloudtrail_exceptions
    from moto.cloudtrail import models as cloudtrail_models
    from moto.cloudtrail import responses as cloudtrail_responses
    from moto.cloudtrail.exceptions import TrailNotFoundException
    from moto.core.exceptions import JsonRESTError
    from moto.core.utils import utcnow
    from moto.events import models as events_models
    from moto.events import responses as events_responses
    from moto.events.exceptions import InvalidEventPatternException
    from moto.events.exceptions import ValidationException as EventsValidationException
    from moto.kms import models as kms_models
    from moto.kms import responses as kms_responses
    from moto.kms.exceptions import NotFoundException as KmsNotFoundException
    from moto.kms.exceptions import ValidationException as KmsValidationException
    from moto.logs import models as logs_models
    from moto.logs import responses as logs_responses
    from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple
except ImportError as import_error:  # pragma: no cover - exercised by the launcher's availability check
    print(f"moto is not installed: run pip install 'moto[server]' ({import_error})", file=sys.stderr)
    sys.exit(3)


# --------------------------------------------------------------------------------------------------
# a. CloudWatch Logs AssociateKmsKey / DisassociateKmsKey, and key validation on CreateLogGroup
# --------------------------------------------------------------------------------------------------

_KMS_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/(?P<key_id>[A-Za-z0-9-]+)$"
)
_LOG_KMS_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>key|alias)/(?P<key_id>[A-Za-z0-9/_-]+)$"
)
_LOG_GROUP_ARN = re.compile(
    r"^arn:aws[a-z-]*:logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+)(:\*)?$"
)
_QUERY_RESULT_ARN = re.compile(r"^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:query-result:\*$")


def _log_kms_key_error(account_id: str, region: str, kms_key_id: str) -> InvalidParameterException | None:
    """AWS: CloudWatch Logs takes a key ARN (or alias ARN) of its own Region and account, not a bare key id; a missing
    or disabled key is an InvalidParameterException (AssociateKmsKey and CreateLogGroup alike)."""
    not_found = InvalidParameterException(msg=f"The specified KMS Key Id could not be found. '{kms_key_id}'")
    match = _LOG_KMS_KEY_ARN.match(kms_key_id or "")
    if not match or match["region"] != region or match["account"] != account_id:
        return not_found
    kms = kms_models.kms_backends[account_id][region]
    key_id = match["key_id"] if match["kind"] == "key" else kms.get_key_id_from_alias(f"alias/{match['key_id']}")
    key = kms.keys.get(key_id or "")
    if key is None:
        return not_found
    if key.key_state == "PendingDeletion":
        return InvalidParameterException(msg=f"The specified KMS key '{kms_key_id}' is pending deletion.")
    if key.key_state != "Enabled":
        return InvalidParameterException(msg=f"The specified KMS key '{kms_key_id}' is disabled.")
    return None


def _kms_target_log_group(response: Any) -> logs_models.LogGroup | None:
    """AWS: the target is logGroupName or resourceIdentifier (a log-group or query-result ARN), never both.
    Returns None for the account-wide query-result target, which has no log group."""
    name = response._get_param("logGroupName")
    resource_identifier = response._get_param("resourceIdentifier")
    if bool(name) == bool(resource_identifier):
        raise InvalidParameterException(msg="Specify either logGroupName or resourceIdentifier, but not both.")
    if resource_identifier:
        if _QUERY_RESULT_ARN.match(resource_identifier):
            return None
        arn = _LOG_GROUP_ARN.match(resource_identifier)
        if not arn:
            raise InvalidParameterException(msg=f"Invalid resourceIdentifier: {resource_identifier}")
        name = arn["name"]
    group = response.logs_backend.groups.get(name)
    if group is None:
        raise ResourceNotFoundException()
    return group


def patch_logs_kms_key_association() -> None:
    """moto 5.2.1 has no AssociateKmsKey/DisassociateKmsKey and stores any kmsKeyId on CreateLogGroup."""

    def associate_kms_key(self: Any) -> str:
        group = _kms_target_log_group(self)
        kms_key_id = self._get_param("kmsKeyId")
        error = _log_kms_key_error(self.current_account, self.region, kms_key_id)
        if error:
            raise error
        if group is not None:
            # AWS: a new association overrides any existing one; DescribeLogGroups then shows kmsKeyId.
            group.kms_key_id = kms_key_id
        return ""

    def disassociate_kms_key(self: Any) -> str:
        group = _kms_target_log_group(self)
        if group is not None:
            group.kms_key_id = None
        return ""

    original_create_log_group = logs_responses.LogsResponse.create_log_group

    def create_log_group(self: Any) -> str:
        kms_key_id = self._get_param("kmsKeyId")
        if kms_key_id:
            error = _log_kms_key_error(self.current_account, self.region, kms_key_id)
            if error:
                raise error
        return original_create_log_group(self)

    logs_responses.LogsResponse.associate_kms_key = associate_kms_key
    logs_responses.LogsResponse.disassociate_kms_key = disassociate_kms_key
    logs_responses.LogsResponse.create_log_group = create_log_group


# --------------------------------------------------------------------------------------------------
# b. EventBridge TestEventPattern, on top of moto's own EventPattern class (also used by PutEvents)
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# c. CloudTrail: every trail call takes a trail name or a trail ARN
# --------------------------------------------------------------------------------------------------

_TRAIL_ARN = re.compile(r"^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/.+$")


class CloudTrailARNInvalidException(JsonRESTError):
    code = 400

    def __init__(self, value: str) -> None:
        super().__init__(
            "CloudTrailARNInvalidException",
            f"Invalid trail ARN: {value}. The following is the format of a trail ARN: "
            "arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail",
        )


class CloudTrailResourceNotFoundException(JsonRESTError):
    code = 400

    def __init__(self, arn: str) -> None:
        super().__init__("ResourceNotFoundException", f"Resource {arn} not found.")


def _visible_trails(backend: Any) -> list[Any]:
    return list(backend.describe_trails(include_shadow_trails=True))


def _trail_for_tags(backend: Any, resource_id: str) -> Any:
    """AWS: tag calls take the trail ARN only; a name is CloudTrailARNInvalidException, an unknown ARN
    ResourceNotFoundException."""
    if not _TRAIL_ARN.match(resource_id or ""):
        raise CloudTrailARNInvalidException(resource_id)
    trail = next((t for t in _visible_trails(backend) if t.arn == resource_id), None)
    if trail is None:
        raise CloudTrailResourceNotFoundException(resource_id)
    return trail


def _describe_trails_by_name_or_arn(backend: Any, names: list[str], include_shadow: bool) -> list[Any]:
    """AWS: trailNameList filters DescribeTrails; a name matches a trail of this Region, an ARN any visible trail;
    unknown entries are skipped."""
    trails = list(backend.describe_trails(include_shadow))
    if not names:
        return trails
    wanted = set(names)
    return [
        t
        for t in _visible_trails(backend)
        if t.arn in wanted or (t.trail_name in wanted and t.region_name == backend.region_name)
    ]


def patch_cloudtrail_trail_arns() -> None:
    """moto 5.2.1: DeleteTrail silently ignores an ARN or unknown trail; StartLogging/StopLogging answer 500 for an
    ARN or unknown trail; DescribeTrails ignores trailNameList; tag calls accept any string."""
    backend_cls = cloudtrail_models.CloudTrailBackend

    def start_logging(self: Any, name: str) -> None:
        self.get_trail(name).start_logging()

    def stop_logging(self: Any, name: str) -> None:
        self.get_trail(name).stop_logging()

    def delete_trail(self: Any, name: str) -> None:
        trail = self.get_trail(name)
        del self.trails[trail.trail_name]
        self.tagging_service.delete_all_tags_for_resource(trail.arn)

    original_get_trail_status = backend_cls.get_trail_status

    def get_trail_status(self: Any, name: str) -> Any:
        try:
            return original_get_trail_status(self, name)
        except TrailNotFoundException:
            if _TRAIL_ARN.match(name):
                # moto built "trail/<the ARN>" into the message; AWS quotes the ARN as given.
                raise TrailNotFoundException(account_id=self.account_id, name=name) from None
            raise

    def add_tags(self: Any, resource_id: str, tags_list: list[dict[str, str]]) -> None:
        self.tagging_service.tag_resource(_trail_for_tags(self, resource_id).arn, tags_list)

    def remove_tags(self: Any, resource_id: str, tags_list: list[dict[str, str]]) -> None:
        self.tagging_service.untag_resource_using_tags(_trail_for_tags(self, resource_id).arn, tags_list)

    original_list_tags = backend_cls.list_tags

    def list_tags(self: Any, resource_id_list: list[str]) -> list[dict[str, Any]]:
        for resource_id in resource_id_list:
            _trail_for_tags(self, resource_id)
        return original_list_tags(self, resource_id_list)

    def describe_trails(self: Any) -> str:
        include_shadow = self._get_bool_param("includeShadowTrails", True)
        names = self._get_param("trailNameList") or []
        trails = _describe_trails_by_name_or_arn(self.cloudtrail_backend, names, include_shadow)
        return json.dumps({"trailList": [t.description(include_region=True) for t in trails]})

    backend_cls.start_logging = start_logging
    backend_cls.stop_logging = stop_logging
    backend_cls.delete_trail = delete_trail
    backend_cls.get_trail_status = get_trail_status
    backend_cls.add_tags = add_tags
    backend_cls.remove_tags = remove_tags
    backend_cls.list_tags = list_tags
    cloudtrail_responses.CloudTrailResponse.describe_trails = describe_trails


# --------------------------------------------------------------------------------------------------
# d. KMS: key id and key ARN alike, and the key-state rules of the deletion lifecycle
# --------------------------------------------------------------------------------------------------


class KMSInvalidStateException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("KMSInvalidStateException", message)


class DisabledException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("DisabledException", message)


def _kms_key(backend: Any, key_id: str) -> Any:
    """Key id or key ARN to the moto key (the response layer has already checked that it exists)."""
    return backend.keys[backend.get_key_id(key_id)]


def _refuse_pending_deletion(key: Any) -> None:
    if key.key_state == "PendingDeletion":
        raise KMSInvalidStateException(f"{key.arn} is pending deletion.")


def patch_kms_key_arns() -> None:
    """moto 5.2.1: DisableKey/EnableKey/ScheduleKeyDeletion/CancelKeyDeletion answer 500 for a key ARN, ignore the
    key state, echo KeyId as given; GetKeyPolicy rejects the (optional) missing PolicyName."""
    backend_cls = kms_models.KmsBackend
    response_cls = kms_responses.KmsResponse

    def disable_key(self: Any, key_id: str) -> None:
        key = _kms_key(self, key_id)
        _refuse_pending_deletion(key)
        key.enabled = False
        key.key_state = "Disabled"

    def enable_key(self: Any, key_id: str) -> None:
        key = _kms_key(self, key_id)
        _refuse_pending_deletion(key)
        key.enabled = True
        key.key_state = "Enabled"

    def cancel_key_deletion(self: Any, key_id: str) -> None:
        key = _kms_key(self, key_id)
        if key.key_state != "PendingDeletion":
            raise KMSInvalidStateException(f"{key.arn} is not pending deletion.")
        # AWS: a key whose deletion is cancelled comes back Disabled, not Enabled.
        key.key_state = "Disabled"
        key.enabled = False
        key.deletion_date = None

    def schedule_key_deletion(self: Any, key_id: str, pending_window_in_days: int) -> float:
        key = _kms_key(self, key_id)
        _refuse_pending_deletion(key)
        key.enabled = False
        key.key_state = "PendingDeletion"
        key.deletion_date = utcnow() + timedelta(days=pending_window_in_days)
        key.pending_window_in_days = pending_window_in_days
        return kms_models.unix_time(key.deletion_date)

    def _rotation_guard(key: Any) -> None:
        _refuse_pending_deletion(key)
        if key.key_state == "Disabled":
            raise DisabledException(f"{key.arn} is disabled.")

    def enable_key_rotation(self: Any, key_id: str) -> None:
        key = _kms_key(self, key_id)
        _rotation_guard(key)
        key.key_rotation_status = True

    def disable_key_rotation(self: Any, key_id: str) -> None:
        key = _kms_key(self, key_id)
        _rotation_guard(key)
        key.key_rotation_status = False

    def get_key_rotation_status(self: Any, key_id: str) -> bool:
        key = _kms_key(self, key_id)
        # AWS: while a key is pending deletion its rotation status reads false.
        return bool(key.key_rotation_status) and key.key_state != "PendingDeletion"

    def schedule_key_deletion_response(self: Any) -> str:
        key_id = self._get_param("KeyId")
        window = self._get_param("PendingWindowInDays")
        window = 30 if window is None else window
        if not 7 <= window <= 30:
            raise KmsValidationException(
                f"1 validation error detected: Value '{window}' at 'pendingWindowInDays' failed to satisfy "
                "constraint: Member must have value between 7 and 30"
            )
        self._validate_cmk_id(key_id)
        deletion_date = self.kms_backend.schedule_key_deletion(key_id, window)
        key = _kms_key(self.kms_backend, key_id)
        return json.dumps(
            {"KeyId": key.arn, "DeletionDate": deletion_date, "KeyState": key.key_state, "PendingWindowInDays": window}
        )

    def cancel_key_deletion_response(self: Any) -> str:
        key_id = self._get_param("KeyId")
        self._validate_cmk_id(key_id)
        self.kms_backend.cancel_key_deletion(key_id)
        # AWS answers with the key ARN whatever form was sent.
        return json.dumps({"KeyId": _kms_key(self.kms_backend, key_id).arn})

    def get_key_policy_response(self: Any) -> str:
        key_id = self._get_param("KeyId")
        # AWS: PolicyName is optional and defaults to "default", the only policy name there is.
        if (self._get_param("PolicyName") or "default") != "default":
            raise KmsNotFoundException("No such policy exists")
        self._validate_cmk_id(key_id)
        return json.dumps({"Policy": self.kms_backend.get_key_policy(key_id) or "{}", "PolicyName": "default"})

    original_validate_cmk_id = response_cls._validate_cmk_id

    def validate_cmk_id(self: Any, key_id: str) -> None:
        arn = _KMS_KEY_ARN.match(key_id or "")
        if arn and (arn["region"] != self.region or arn["account"] != self.current_account):
            # AWS: a key ARN names one Region and account; moto only looked at the id part.
            raise KmsNotFoundException(f"Key '{key_id}' does not exist")
        original_validate_cmk_id(self, key_id)

    original_to_dict = kms_models.Key.to_dict

    def key_to_dict(self: Any) -> dict[str, Any]:
        described = original_to_dict(self)
        if self.key_state == "PendingDeletion" and getattr(self, "pending_window_in_days", None):
            described["KeyMetadata"]["PendingDeletionWindowInDays"] = self.pending_window_in_days
        return described

    backend_cls.disable_key = disable_key
    backend_cls.enable_key = enable_key
    backend_cls.cancel_key_deletion = cancel_key_deletion
    backend_cls.schedule_key_deletion = schedule_key_deletion
    backend_cls.enable_key_rotation = enable_key_rotation
    backend_cls.disable_key_rotation = disable_key_rotation
    backend_cls.get_key_rotation_status = get_key_rotation_status
    response_cls.schedule_key_deletion = schedule_key_deletion_response
    response_cls.cancel_key_deletion = cancel_key_deletion_response
    response_cls.get_key_policy = get_key_policy_response
    response_cls._validate_cmk_id = validate_cmk_id
    kms_models.Key.to_dict = key_to_dict


# --------------------------------------------------------------------------------------------------
# e. CloudTrail checks the trail's bucket on CreateTrail and UpdateTrail: it must exist and its policy
#    must let cloudtrail.amazonaws.com write (moto checked existence on create only, and no policy)
# --------------------------------------------------------------------------------------------------


class InsufficientS3BucketPolicyException(JsonRESTError):
    code = 400

    def __init__(self, bucket: str) -> None:
        super().__init__("InsufficientS3BucketPolicyException", f"Incorrect S3 bucket policy is detected for bucket: {bucket}")


def _check_trail_bucket(account_id: str, partition: str, bucket_name: str) -> None:
    from moto.s3.models import s3_backends

    try:
        bucket = s3_backends[account_id][partition].get_bucket(bucket_name)
    except Exception:
        raise cloudtrail_exceptions.S3BucketDoesNotExistException(f"S3 bucket {bucket_name} does not exist!")
    policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else (bucket.policy or "")
    # AWS: CloudTrail refuses a bucket whose policy does not let cloudtrail.amazonaws.com write to it.
    if "cloudtrail.amazonaws.com" not in policy or "s3:PutObject" not in policy:
        raise InsufficientS3BucketPolicyException(bucket_name)


def patch_cloudtrail_bucket_checks() -> None:
    trail_cls = cloudtrail_models.Trail
    original_update = trail_cls.update

    def check_bucket_exists(self: Any) -> None:
        _check_trail_bucket(self.account_id, self.partition, self.bucket_name)

    def update(self: Any, s3_bucket_name: str | None, *args: Any, **kwargs: Any) -> None:
        if s3_bucket_name is not None:
            _check_trail_bucket(self.account_id, self.partition, s3_bucket_name)
        original_update(self, s3_bucket_name, *args, **kwargs)

    trail_cls.check_bucket_exists = check_bucket_exists
    trail_cls.update = update


# --------------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------------


def apply_patches() -> None:
    patch_logs_kms_key_association()
    patch_events_pattern_matching()
    patch_cloudtrail_trail_arns()
    patch_kms_key_arns()
    patch_cloudtrail_bucket_checks()


def _exit_cleanly(signum: int, frame: Any) -> None:
    sys.exit(0)


def _exit_with_parent(parent_pid: int) -> None:
    """A launcher that dies without stopping us (SIGKILL, crash) must not leave an orphan server behind."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="driftguard's embedded AWS emulator (moto server mode, patched)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, help="exit when this process is no longer our parent")
    args = parser.parse_args(argv)

    # moto builds some URLs (SQS queue URLs, presigned links) from MOTO_PORT.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    apply_patches()
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    if args.parent_pid:
        _exit_with_parent(args.parent_pid)
    # One line per request on stderr would drown the launcher's error tail.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = DomainDispatcherApplication(create_backend_app)
    print(f"driftguard moto {moto.__version__} serving on http://{args.host}:{args.port}", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
