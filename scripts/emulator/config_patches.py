"""AWS Config behaviour moto 5.2.1 lacks and the config-recorder-on rule relies on (AWS Config API Reference).

- DescribeDeliveryChannelStatus: moto answers 500 (NotImplementedError). AWS answers DeliveryChannelsStatus, one entry
  per channel (name, configSnapshotDeliveryInfo, configHistoryDeliveryInfo, configStreamDeliveryInfo), and
  NoSuchDeliveryChannelException for a name it does not know.
- PutConfigurationRecorder's recordingMode: moto drops it. AWS keeps it (recordingFrequency CONTINUOUS or DAILY, and
  recordingModeOverrides) and DescribeConfigurationRecorders returns it; omitted, it is CONTINUOUS with no overrides.
  A frequency outside the enum is a ValidationException.
- PutConfigurationRecorder named with the prefix AWS reserves for service-linked recorders: moto accepts it. AWS
  answers InvalidConfigurationRecorderNameException ("The configuration recorder name is not valid. The prefix
  "AWSConfigurationRecorderFor" is reserved for service-linked configuration recorders.").
- PutDeliveryChannel to a bucket that does not exist: moto accepts it. AWS answers NoSuchBucketException ("The
  specified Amazon S3 bucket does not exist.").
"""

from __future__ import annotations

from typing import Any

from moto.config import exceptions as config_exceptions
from moto.config import models as config_models
from moto.config import responses as config_responses
from moto.core.exceptions import JsonRESTError

_FREQUENCIES = ("CONTINUOUS", "DAILY")


def _recording_mode(recorder: dict[str, Any]) -> dict[str, Any]:
    mode = recorder.get("recordingMode") or {}
    frequency = mode.get("recordingFrequency", "CONTINUOUS")
    if frequency not in _FREQUENCIES:
        raise config_exceptions.ValidationException(
            f"1 validation error detected: Value '{frequency}' at 'configurationRecorder.recordingMode.recordingFrequency'"
            " failed to satisfy constraint: Member must satisfy enum value set: [CONTINUOUS, DAILY]"
        )
    overrides = []
    for override in mode.get("recordingModeOverrides") or []:
        if override.get("recordingFrequency") not in _FREQUENCIES or not override.get("resourceTypes"):
            raise config_exceptions.ValidationException(
                "1 validation error detected: a recordingModeOverride needs resourceTypes and a recordingFrequency"
                " of CONTINUOUS or DAILY"
            )
        overrides.append(
            {k: override[k] for k in ("description", "resourceTypes", "recordingFrequency") if k in override}
        )
    return {"recordingFrequency": frequency, "recordingModeOverrides": overrides}


class NoSuchBucketException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__("NoSuchBucketException", "The specified Amazon S3 bucket does not exist.")


class InvalidConfigurationRecorderNameException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__(
            "InvalidConfigurationRecorderNameException",
            'The configuration recorder name is not valid. The prefix "AWSConfigurationRecorderFor" is reserved for'
            " service-linked configuration recorders.",
        )


_SERVICE_LINKED_PREFIX = "AWSConfigurationRecorderFor"


def _bucket_exists(account_id: str, bucket_name: str) -> bool:
    from moto.s3.models import s3_backends

    for partition in ("aws", "aws-cn", "aws-us-gov"):
        try:
            s3_backends[account_id][partition].get_bucket(bucket_name)
            return True
        except Exception:
            continue
    return False


def apply() -> None:
    backend_cls = config_models.ConfigBackend
    original_put_recorder = backend_cls.put_configuration_recorder
    original_put_channel = backend_cls.put_delivery_channel

    def put_configuration_recorder(self: Any, config_recorder: dict[str, Any]) -> None:
        if str(config_recorder.get("name", "")).startswith(_SERVICE_LINKED_PREFIX):
            raise InvalidConfigurationRecorderNameException()
        mode = _recording_mode(config_recorder)
        original_put_recorder(self, config_recorder)
        # to_dict() serialises every public attribute: recording_mode becomes recordingMode.
        self.recorders[config_recorder["name"]].recording_mode = mode

    def put_delivery_channel(self: Any, delivery_channel: dict[str, Any]) -> None:
        bucket = delivery_channel.get("s3BucketName")
        if bucket and self.recorders and not _bucket_exists(self.account_id, bucket):
            raise NoSuchBucketException()
        original_put_channel(self, delivery_channel)

    def describe_delivery_channel_status(self: Any) -> str:
        import json

        backend = self.config_backend
        names = self._get_param("DeliveryChannelNames") or list(backend.delivery_channels)
        statuses = []
        for name in names:
            if name not in backend.delivery_channels:
                raise config_exceptions.NoSuchDeliveryChannelException(name)
            statuses.append(
                {
                    "name": name,
                    "configSnapshotDeliveryInfo": {"lastStatus": "Not_Applicable"},
                    "configHistoryDeliveryInfo": {"lastStatus": "Not_Applicable"},
                    "configStreamDeliveryInfo": {"lastStatus": "Not_Applicable"},
                }
            )
        return json.dumps({"DeliveryChannelsStatus": statuses})

    backend_cls.put_configuration_recorder = put_configuration_recorder
    backend_cls.put_delivery_channel = put_delivery_channel
    config_responses.ConfigResponse.describe_delivery_channel_status = describe_delivery_channel_status
