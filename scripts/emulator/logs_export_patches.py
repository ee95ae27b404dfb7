"""CloudWatch Logs export tasks as AWS runs them, for driftguard's embedded emulator (see driftguard_moto.py).

moto 5.2.1 exports synchronously to any bucket that exists, and DescribeExportTasks ignores its statusCode filter. AWS
(CreateExportTask and DescribeExportTasks API reference; "Export log data to Amazon S3", CloudWatch Logs user guide):
- CloudWatch Logs writes as the service principal logs.<region>.amazonaws.com: it reads the bucket's ACL
  (s3:GetBucketAcl on the bucket) and writes a test object (s3:PutObject under the destination prefix, with the
  x-amz-acl bucket-owner-full-control) before it accepts the task. A bucket whose policy does not allow these is an
  InvalidParameterException: "GetBucketAcl call on the given bucket failed. Please check if CloudWatch Logs has been
  granted permission to perform this operation." (and the same words for PutObject).
- DescribeExportTasks with statusCode lists only the tasks in that status.

The bucket policy is evaluated as IAM does for the statements such policies hold: an explicit Deny wins, then an
Allow; each statement's Principal, Action, Resource and Condition (String*, Arn*, Bool, Null operators, with IfExists
and ForAllValues/ForAnyValue) must match. The request context is what AWS sends for the service: aws:SourceAccount
(the log group's account), aws:SourceArn (the log group's ARN), aws:SecureTransport true, s3:x-amz-acl on PutObject.
A condition operator it does not know matches nothing in an Allow and everything in a Deny (fail closed).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from moto.logs import responses as logs_responses
from moto.logs.exceptions import InvalidParameterException
from moto.s3 import models as s3_models
from moto.s3.exceptions import MissingBucket

_PERMISSION_MESSAGE = "{call} call on the given bucket failed. Please check if CloudWatch Logs has been granted permission to perform this operation."


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_matches(statement: dict[str, Any], service: str) -> bool:
    if "NotPrincipal" in statement:
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        if "*" in _values(principal.get("AWS")):
            return True
        return service in _values(principal.get("Service"))
    return False


def _matches_any(patterns: list[Any], value: str, ignore_case: bool) -> bool:
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue
        if ignore_case:
            if fnmatch.fnmatchcase(value.lower(), pattern.lower()):
                return True
        elif fnmatch.fnmatchcase(value, pattern):
            return True
    return False


def _action_matches(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not _matches_any(_values(statement["NotAction"]), action, ignore_case=True)
    return _matches_any(_values(statement.get("Action")), action, ignore_case=True)


def _resource_matches(statement: dict[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not _matches_any(_values(statement["NotResource"]), resource, ignore_case=False)
    return _matches_any(_values(statement.get("Resource")), resource, ignore_case=False)


_POSITIVE = {
    "StringEquals": lambda v, p: v == p,
    "StringEqualsIgnoreCase": lambda v, p: v.lower() == p.lower(),
    "StringLike": lambda v, p: fnmatch.fnmatchcase(v, p),
    "ArnEquals": lambda v, p: v == p,
    "ArnLike": lambda v, p: fnmatch.fnmatchcase(v, p),
    "Bool": lambda v, p: v.lower() == p.lower(),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}


def _condition_holds(operator: str, key: str, wanted: list[Any], context: dict[str, str]) -> bool | None:
    """Whether one operator's test on one key holds; None when the operator is unknown."""
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    for qualifier in ("ForAllValues:", "ForAnyValue:"):
        if base.startswith(qualifier):
            base = base[len(qualifier) :]
    present = key in context
    value = context.get(key, "")
    expected = [str(item).lower() if isinstance(item, bool) else str(item) for item in wanted]
    if base == "Null":
        return (not present) == (expected[0].lower() == "true") if expected else None
    if base in _POSITIVE:
        if not present:
            return if_exists
        return any(_POSITIVE[base](value, item) for item in expected)
    if base in _NEGATED:
        if not present:
            return True
        return not any(_POSITIVE[_NEGATED[base]](value, item) for item in expected)
    return None


def _conditions_hold(statement: dict[str, Any], context: dict[str, str]) -> bool:
    deny = statement.get("Effect") == "Deny"
    for operator, entries in (statement.get("Condition") or {}).items():
        for key, wanted in (entries or {}).items():
            holds = _condition_holds(operator, key, _values(wanted), context)
            if holds is None:
                return deny
            if not holds:
                return False
    return True


def bucket_policy_allows(policy: str | bytes | None, service: str, action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether the bucket policy lets the service principal make the call: no Deny applies and an Allow does."""
    if not policy:
        return False
    document = json.loads(policy.decode() if isinstance(policy, bytes) else policy)
    allowed = False
    for statement in _values(document.get("Statement")):
        if not isinstance(statement, dict):
            continue
        if not (
            _principal_matches(statement, service)
            and _action_matches(statement, action)
            and _resource_matches(statement, resource)
            and _conditions_hold(statement, context)
        ):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _check_export_bucket(response: Any) -> None:
    """AWS: CloudWatch Logs checks the bucket's ACL and writes a test object as logs.<region> before taking the task."""
    bucket_name = response._get_param("destination")
    prefix = response._get_param("destinationPrefix", "exportedlogs")
    group = response._get_param("logGroupName")
    account, region = response.current_account, response.region
    backend = s3_models.s3_backends[account][response.partition]
    try:
        bucket = backend.get_bucket(bucket_name)
    except MissingBucket:
        # moto's own answer for a missing bucket stands.
        return
    service = f"logs.{region}.amazonaws.com"
    bucket_arn = f"arn:{response.partition}:s3:::{bucket_name}"
    context = {
        "aws:SourceAccount": account,
        "aws:SourceArn": f"arn:{response.partition}:logs:{region}:{account}:log-group:{group}",
        "aws:SecureTransport": "true",
        "aws:PrincipalServiceName": service,
    }
    if not bucket_policy_allows(bucket.policy, service, "s3:GetBucketAcl", bucket_arn, context):
        raise InvalidParameterException(msg=_PERMISSION_MESSAGE.format(call="GetBucketAcl"))
    write_test = f"{bucket_arn}/{prefix}/aws-logs-write-test" if prefix else f"{bucket_arn}/aws-logs-write-test"
    put_context = {**context, "s3:x-amz-acl": "bucket-owner-full-control"}
    if not bucket_policy_allows(bucket.policy, service, "s3:PutObject", write_test, put_context):
        raise InvalidParameterException(msg=_PERMISSION_MESSAGE.format(call="PutObject"))


def patch_export_bucket_policy_check() -> None:
    original = logs_responses.LogsResponse.create_export_task

    def create_export_task(self: Any) -> str:
        _check_export_bucket(self)
        return original(self)

    logs_responses.LogsResponse.create_export_task = create_export_task


def patch_describe_export_tasks_status_filter() -> None:
    """AWS: DescribeExportTasks with statusCode lists only the tasks in that status (moto 5.2.1 lists every task)."""
    original = logs_responses.LogsResponse.describe_export_tasks

    def describe_export_tasks(self: Any) -> str:
        answer = json.loads(original(self))
        status_code = self._get_param("statusCode")
        if status_code:
            answer["exportTasks"] = [
                task for task in answer.get("exportTasks", []) if (task.get("status") or {}).get("code") == status_code
            ]
        return json.dumps(answer)

    logs_responses.LogsResponse.describe_export_tasks = describe_export_tasks


def apply() -> None:
    patch_export_bucket_policy_check()
    patch_describe_export_tasks_status_filter()
