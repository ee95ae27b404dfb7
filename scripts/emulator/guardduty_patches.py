"""GuardDuty behaviours driftguard's guardduty-enabled rule relies on, which moto 5.2.1 lacks or gets wrong.

Each patch names the AWS behaviour it reproduces (GuardDuty API reference, 2017-11-28; error shapes as AWS answers
them: HTTP 400, X-Amzn-ErrorType BadRequestException, body Type InvalidInputException):
- CreateDetector: one detector per account and region; a second one fails with "The request is rejected because a
  detector already exists for the current account." Features not named are enabled, except RUNTIME_MONITORING
  (API_CreateDetector: "features not specified are enabled by default", runtime monitoring is opt-in).
- UpdateDetector: the features named are merged into the detector's (AWS changes only the features in the request).
- GetDetector also lists the foundational sources CLOUD_TRAIL, DNS_LOGS and FLOW_LOGS, always ENABLED
  (API_DetectorFeatureConfigurationResult's name: FLOW_LOGS | CLOUD_TRAIL | DNS_LOGS | S3_DATA_EVENTS | ...); the
  write calls take the narrower DetectorFeatureConfiguration name (S3_DATA_EVENTS | EKS_AUDIT_LOGS |
  EBS_MALWARE_PROTECTION | RDS_LOGIN_EVENTS | EKS_RUNTIME_MONITORING | LAMBDA_NETWORK_LOGS | RUNTIME_MONITORING, and
  the SDK's AI_ANALYST | AI_PROTECTION): CreateDetector and UpdateDetector reject any other name, and a request naming
  both EKS_RUNTIME_MONITORING and RUNTIME_MONITORING ("Specifying both ... will cause an error"), with
  BadRequestException "The request is rejected because an invalid or out-of-range value is specified as an input
  parameter."
- DeleteDetector of an unknown id fails like GetDetector does (the detectorId is not owned by the current account).
- GetAdministratorAccount answers AWS's camel-case shape ({"administrator": {"accountId", "relationshipStatus"}}).
- ListFilters, IP sets (Create/List/Get/UpdateIPSet), publishing destinations (Create/List/Describe/Delete), and
  DisassociateFromAdministratorAccount / DisassociateFromMasterAccount, which moto does not implement.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from moto.guardduty import models as gd_models
from moto.guardduty import responses as gd_responses
from moto.guardduty import urls as gd_urls
from moto.guardduty.exceptions import GuardDutyException
from moto.moto_api._internal import mock_random

# Features a detector has, in AWS's order; all enabled by default except RUNTIME_MONITORING. The first three are
# GetDetector's only: foundational sources, always on, never named by a write call.
DEFAULT_FEATURES = [
    ("CLOUD_TRAIL", "ENABLED"),
    ("DNS_LOGS", "ENABLED"),
    ("FLOW_LOGS", "ENABLED"),
    ("S3_DATA_EVENTS", "ENABLED"),
    ("EKS_AUDIT_LOGS", "ENABLED"),
    ("EBS_MALWARE_PROTECTION", "ENABLED"),
    ("RDS_LOGIN_EVENTS", "ENABLED"),
    ("LAMBDA_NETWORK_LOGS", "ENABLED"),
    ("RUNTIME_MONITORING", "DISABLED"),
]


class BadRequest(GuardDutyException):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidInputException", message)

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("X-Amzn-ErrorType", "BadRequestException")]


# The names CreateDetector and UpdateDetector accept (DetectorFeatureConfiguration.name; the SDK's DetectorFeature).
WRITABLE_FEATURES = {
    "S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "EKS_RUNTIME_MONITORING",
    "LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING", "AI_ANALYST", "AI_PROTECTION",
}
INVALID_VALUE = "The request is rejected because an invalid or out-of-range value is specified as an input parameter."


def _check_named(named: list[dict[str, Any]] | None) -> None:
    names = [feature.get("name") for feature in named or []]
    if any(name not in WRITABLE_FEATURES for name in names):
        raise BadRequest(INVALID_VALUE)
    if "EKS_RUNTIME_MONITORING" in names and "RUNTIME_MONITORING" in names:
        raise BadRequest(INVALID_VALUE)


def _merge_features(current: list[dict[str, Any]], named: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    _check_named(named)
    by_name = {f["name"]: dict(f) for f in current}
    for feature in named or []:
        name = feature.get("name")
        merged = by_name.get(name, {"name": name})
        if "status" in feature:
            merged["status"] = feature["status"]
        if "additionalConfiguration" in feature:
            merged["additionalConfiguration"] = feature["additionalConfiguration"]
        by_name[name] = merged
    return list(by_name.values())


def _detector_extras(detector: Any) -> None:
    if not hasattr(detector, "ip_sets"):
        detector.ip_sets = {}
        detector.destinations = {}


def apply() -> None:
    original_create = gd_models.GuardDutyBackend.create_detector

    def create_detector(self: Any, enable: bool, finding_publishing_frequency: str, data_sources: Any, tags: Any,
                        features: Any) -> str:
        if self.detectors:
            raise BadRequest("The request is rejected because a detector already exists for the current account.")
        defaults = [{"name": name, "status": status} for name, status in DEFAULT_FEATURES]
        detector_id = original_create(self, enable, finding_publishing_frequency, data_sources, tags,
                                      _merge_features(defaults, features))
        return detector_id

    def update(self: Any, enable: Any, finding_publishing_frequency: Any, data_sources: Any, features: Any) -> None:
        if enable is not None:
            self.enabled = enable
        if finding_publishing_frequency is not None:
            self.finding_publish_freq = finding_publishing_frequency
        if data_sources is not None:
            self.datasources = data_sources
        if features is not None:
            self.features = _merge_features(self.features, features)

    def delete_detector(self: Any, detector_id: str) -> None:
        self.get_detector(detector_id)
        self.detectors.pop(detector_id)
        self.admin_account_ids.clear()

    def disassociate(self: Any, detector_id: str) -> None:
        self.get_detector(detector_id)
        self.admin_account_ids.clear()

    gd_models.GuardDutyBackend.create_detector = create_detector
    gd_models.GuardDutyBackend.delete_detector = delete_detector
    gd_models.GuardDutyBackend.disassociate_from_administrator = disassociate
    gd_models.Detector.update = update

    def _detector(response: Any, index: int) -> Any:
        detector = response.guardduty_backend.get_detector(response.path.split("/")[index])
        _detector_extras(detector)
        return detector

    def list_filters(self: Any) -> str:
        detector = _detector(self, -2)
        return json.dumps({"filterNames": sorted(detector.filters)})

    def create_ip_set(self: Any) -> str:
        detector = _detector(self, -2)
        ip_set_id = mock_random.get_random_hex(length=32)
        detector.ip_sets[ip_set_id] = {
            "name": self._get_param("name"),
            "format": self._get_param("format"),
            "location": self._get_param("location"),
            "status": "ACTIVE" if self._get_param("activate") else "INACTIVE",
            "tags": self._get_param("tags") or {},
        }
        return json.dumps({"ipSetId": ip_set_id})

    def list_ip_sets(self: Any) -> str:
        return json.dumps({"ipSetIds": list(_detector(self, -2).ip_sets)})

    def _ip_set(response: Any) -> dict[str, Any]:
        detector = _detector(response, -3)
        ip_set = detector.ip_sets.get(response.path.split("/")[-1])
        if ip_set is None:
            raise BadRequest("The request is rejected since no such resource found.")
        return ip_set

    def get_ip_set(self: Any) -> str:
        return json.dumps(_ip_set(self))

    def update_ip_set(self: Any) -> str:
        ip_set = _ip_set(self)
        for key in ("name", "location"):
            if self._get_param(key) is not None:
                ip_set[key] = self._get_param(key)
        if self._get_param("activate") is not None:
            ip_set["status"] = "ACTIVE" if self._get_param("activate") else "INACTIVE"
        return "{}"

    def create_publishing_destination(self: Any) -> str:
        detector = _detector(self, -2)
        destination_type = self._get_param("destinationType")
        properties = self._get_param("destinationProperties") or {}
        if destination_type != "S3" or not properties.get("destinationArn") or not properties.get("kmsKeyArn"):
            raise BadRequest(INVALID_VALUE)
        destination_id = mock_random.get_random_hex(length=32)
        detector.destinations[destination_id] = {
            "destinationId": destination_id,
            "destinationType": destination_type,
            "status": "PUBLISHING",
            "publishingFailureStartTimestamp": 0,
            "destinationProperties": properties,
        }
        return json.dumps({"destinationId": destination_id})

    def list_publishing_destinations(self: Any) -> str:
        destinations = _detector(self, -2).destinations.values()
        return json.dumps({"destinations": [
            {k: d[k] for k in ("destinationId", "destinationType", "status")} for d in destinations
        ]})

    def _destination(response: Any) -> tuple[Any, str]:
        detector = _detector(response, -3)
        destination_id = unquote(response.path.split("/")[-1])
        if destination_id not in detector.destinations:
            raise BadRequest("The request is rejected since no such resource found.")
        return detector, destination_id

    def describe_publishing_destination(self: Any) -> str:
        detector, destination_id = _destination(self)
        return json.dumps(detector.destinations[destination_id])

    def delete_publishing_destination(self: Any) -> str:
        detector, destination_id = _destination(self)
        detector.destinations.pop(destination_id)
        return "{}"

    def get_administrator_account(self: Any) -> str:
        # AWS answers {"administrator": {"accountId", "relationshipStatus", ...}} (moto: Pascal-case keys the SDK drops).
        answer = self.guardduty_backend.get_administrator_account(self.path.split("/")[-2]).get("Administrator")
        if not answer:
            return "{}"
        return json.dumps({"administrator": {
            "accountId": answer["AccountId"],
            "relationshipStatus": answer["RelationshipStatus"],
        }})

    def disassociate_from_administrator_account(self: Any) -> str:
        self.guardduty_backend.disassociate_from_administrator(self.path.split("/")[-3])
        return "{}"

    for name, method in {
        "list_filters": list_filters,
        "get_administrator_account": get_administrator_account,
        "create_ip_set": create_ip_set,
        "list_ip_sets": list_ip_sets,
        "get_ip_set": get_ip_set,
        "update_ip_set": update_ip_set,
        "create_publishing_destination": create_publishing_destination,
        "list_publishing_destinations": list_publishing_destinations,
        "describe_publishing_destination": describe_publishing_destination,
        "delete_publishing_destination": delete_publishing_destination,
        "disassociate_from_administrator_account": disassociate_from_administrator_account,
        "disassociate_from_master_account": disassociate_from_administrator_account,
    }.items():
        setattr(gd_responses.GuardDutyResponse, name, method)

    dispatch = gd_responses.GuardDutyResponse.dispatch
    gd_urls.url_paths.update({
        "{0}/detector/(?P<detector_id>[^/]+)/ipset$": dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/ipset/(?P<ip_set_id>[^/]+)$": dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/publishingDestination$": dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/publishingDestination/(?P<destination_id>[^/]+)$": dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/administrator/disassociate$": dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/master/disassociate$": dispatch,
    })
