"""driftguard's embedded AWS emulator: moto's server mode plus the AWS behaviours driftguard relies on.

Usage: python driftguard_moto.py --host 127.0.0.1 --port 5055 [--parent-pid PID]

Each patch below (and EventBridge's event patterns, in event_pattern.py beside it) is a small, named function that
monkeypatches one moto class at import time and says which AWS behaviour it reproduces. Patched calls were checked
against the running server with the AWS SDK for JavaScript v3 and awscli, before and after the patch (see
test/integration/emulator.test.ts).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
import time
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

# The patch modules live beside this script, wherever the repository is; not every Python puts the script's folder on
# sys.path (PYTHONSAFEPATH, -P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from event_pattern import patch_events_pattern_matching  # noqa: E402 - needs moto, checked above
import dynamodb_patches  # noqa: E402 - needs moto, checked above
import logs_filter_patches  # noqa: E402 - needs moto, checked above
import cloudwatch_patches  # noqa: E402 - needs moto, checked above
import config_patches  # noqa: E402 - needs moto, checked above
import guardduty_patches  # noqa: E402 - needs moto, checked above
import logs_export_patches  # noqa: E402 - needs moto, checked above
import server_patches  # noqa: E402 - needs moto, checked above
import s3_patches  # noqa: E402 - needs moto, checked above
import lambda_patches  # noqa: E402 - needs moto, checked above
import speed_patches  # noqa: E402 - needs moto, checked above
from request_counter import with_request_counter  # noqa: E402 - the benchmark counts calls where they arrive


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
# b. CloudTrail: every trail call takes a trail name or a trail ARN
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
# c. KMS: key id and key ARN alike, and the key-state rules of the deletion lifecycle
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


# A multi-Region primary key scheduled for deletion while it has replicas waits for theirs: PendingReplicaDeletion.
_PENDING_DELETION_STATES = ("PendingDeletion", "PendingReplicaDeletion")


def _refuse_pending_deletion(key: Any) -> None:
    if key.key_state in _PENDING_DELETION_STATES:
        raise KMSInvalidStateException(f"{key.arn} is pending deletion.")


def _existing_replicas(key: Any) -> list[Any]:
    """The replicas of a multi-Region primary key that are not deleted yet (scheduled ones still count)."""
    config = getattr(key, "multi_region_configuration", None) if key.multi_region else None
    if not config or config["MultiRegionKeyType"] != "PRIMARY":
        return []
    backends = [kms_models.kms_backends[key.account_id][replica["Region"]] for replica in config["ReplicaKeys"]]
    return [backend.keys[key.id] for backend in backends if key.id in backend.keys]


def patch_kms_key_arns() -> None:
    """moto 5.2.1: DisableKey/EnableKey/ScheduleKeyDeletion/CancelKeyDeletion answer 500 for a key ARN, ignore the
    key state, echo KeyId as given; GetKeyPolicy rejects the (optional) missing PolicyName; a multi-Region primary key
    with replicas is scheduled PendingDeletion at once (AWS: PendingReplicaDeletion, no date, until they are deleted)."""
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
        if key.key_state not in _PENDING_DELETION_STATES:
            raise KMSInvalidStateException(f"{key.arn} is not pending deletion.")
        # AWS: a key whose deletion is cancelled comes back Disabled, not Enabled.
        key.key_state = "Disabled"
        key.enabled = False
        key.deletion_date = None

    def schedule_key_deletion(self: Any, key_id: str, pending_window_in_days: int) -> float | None:
        key = _kms_key(self, key_id)
        _refuse_pending_deletion(key)
        key.enabled = False
        key.pending_window_in_days = pending_window_in_days
        if _existing_replicas(key):
            # AWS: the primary's waiting period starts when its last replica is deleted, so it has no date yet.
            key.key_state = "PendingReplicaDeletion"
            key.deletion_date = None
            return None
        key.key_state = "PendingDeletion"
        key.deletion_date = utcnow() + timedelta(days=pending_window_in_days)
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
        return bool(key.key_rotation_status) and key.key_state not in _PENDING_DELETION_STATES

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
        scheduled = {"KeyId": key.arn, "KeyState": key.key_state, "PendingWindowInDays": window}
        return json.dumps(scheduled if deletion_date is None else {**scheduled, "DeletionDate": deletion_date})

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
        if self.key_state in _PENDING_DELETION_STATES and getattr(self, "pending_window_in_days", None):
            described["KeyMetadata"]["PendingDeletionWindowInDays"] = self.pending_window_in_days
        return described

    original_replicate_key = backend_cls.replicate_key

    def replicate_key(self: Any, key_id: str, replica_region: str) -> Any:
        """moto shares one configuration between the primary and its replicas: describing a replica turned the primary
        into a REPLICA. Each key gets its own, the primary listing its replicas."""
        replica = original_replicate_key(self, key_id, replica_region)
        if replica.multi_region:
            primary = self.keys[self.get_key_id(key_id)]
            shared = primary.multi_region_configuration
            replicas = [dict(entry) for entry in shared["ReplicaKeys"]]
            primary.multi_region_configuration = {**shared, "MultiRegionKeyType": "PRIMARY", "ReplicaKeys": replicas}
            replica.multi_region_configuration = {
                **shared,
                "MultiRegionKeyType": "REPLICA",
                "ReplicaKeys": [dict(entry) for entry in replicas],
            }
        return replica

    backend_cls.replicate_key = replicate_key
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
# d. CloudTrail checks the trail's bucket on CreateTrail and UpdateTrail: it must exist and its policy
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
# e. Account ListRegions (moto has no Account service): the regions moto's EC2 enables by default, so that the sweep
#    and the forwarders' custom resource find "every enabled region" as they do in an account
# --------------------------------------------------------------------------------------------------

_ACCOUNT_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[a-z0-9-]+/account/aws4_request")


def _list_regions_answer(body: bytes) -> dict[str, Any]:
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    wanted = (json.loads(body or b"{}") or {}).get("RegionOptStatusContains")
    regions = [
        {"RegionName": name, "RegionOptStatus": "ENABLED_BY_DEFAULT"}
        for name in sorted(RegionsAndZonesBackend.regions_opt_in_not_required)
    ]
    return {"Regions": [r for r in regions if not wanted or r["RegionOptStatus"] in wanted]}


def with_account_list_regions(app: Any) -> Any:
    """A WSGI layer in front of moto: answers account:ListRegions (POST /listRegions), passes everything else on."""

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        if not _ACCOUNT_SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")):
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if environ.get("PATH_INFO") == "/listRegions":
            status, answer = "200 OK", _list_regions_answer(body)
        else:
            status, answer = "400 Bad Request", {"message": f"{environ.get('PATH_INFO')} is not emulated"}
        payload = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    return serve


# --------------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------------


def apply_patches() -> None:
    patch_logs_kms_key_association()
    patch_events_pattern_matching()
    patch_cloudtrail_trail_arns()
    patch_kms_key_arns()
    patch_cloudtrail_bucket_checks()
    dynamodb_patches.apply()
    logs_filter_patches.apply()
    cloudwatch_patches.apply()
    config_patches.apply()
    guardduty_patches.apply()
    logs_export_patches.apply()
    server_patches.apply()
    s3_patches.apply()
    lambda_patches.apply()
    speed_patches.apply()


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

    app = with_request_counter(with_account_list_regions(DomainDispatcherApplication(create_backend_app)))
    print(f"driftguard moto {moto.__version__} serving on http://{args.host}:{args.port}", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
