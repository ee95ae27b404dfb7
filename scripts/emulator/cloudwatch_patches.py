"""CloudWatch metric filters and alarm actions as AWS has them (the activity-alarms rule relies on each).

Checked against AWS's API references (CloudWatch Logs PutMetricFilter, DeleteMetricFilter, DeleteLogGroup; CloudWatch
DisableAlarmActions, EnableAlarmActions) and probed against moto 5.2.1:

- PutMetricFilter: "Creates or updates a metric filter": a filter of the same name on the same group is replaced in
  place (moto appended a duplicate). A log group that does not exist gives ResourceNotFoundException "The specified
  log group does not exist." (moto accepted the filter).
- DeleteMetricFilter of a filter that does not exist gives ResourceNotFoundException "The specified metric filter does
  not exist." (moto answered 200).
- DeleteLogGroup "permanently deletes the specified log group ... and all metric filters" (moto kept the filters, which
  then reappeared on a group re-created under the same name).
- DisableAlarmActions / EnableAlarmActions set ActionsEnabled of the named alarms (moto answered 500); names of no alarm
  are passed over, as AWS does (the API lists no not-found error).
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch import responses as cloudwatch_responses
from moto.core.responses import EmptyResult
from moto.logs import models as logs_models
from moto.logs.exceptions import ResourceNotFoundException
from moto.logs.metric_filters import MetricFilters


def _patch_put_metric_filter() -> None:
    def put_metric_filter(
        self: Any, filter_name: str, filter_pattern: str, log_group_name: str, metric_transformations: Any
    ) -> None:
        if log_group_name not in self.groups:
            raise ResourceNotFoundException("The specified log group does not exist.")
        entry = {
            "filterName": filter_name,
            "filterPattern": filter_pattern,
            "logGroupName": log_group_name,
            "metricTransformations": metric_transformations,
        }
        filters = self.filters.metric_filters
        for index, existing in enumerate(filters):
            if existing["filterName"] == filter_name and existing["logGroupName"] == log_group_name:
                filters[index] = entry
                return
        filters.append(entry)

    logs_models.LogsBackend.put_metric_filter = put_metric_filter


def _patch_delete_metric_filter() -> None:
    def delete_filter(
        self: MetricFilters, filter_name: str | None = None, log_group_name: str | None = None
    ) -> list[dict[str, Any]]:
        kept = [f for f in self.metric_filters if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)]
        if len(kept) == len(self.metric_filters):
            raise ResourceNotFoundException("The specified metric filter does not exist.")
        self.metric_filters[:] = kept
        return self.metric_filters

    MetricFilters.delete_filter = delete_filter


def _patch_delete_log_group() -> None:
    original = logs_models.LogsBackend.delete_log_group

    def delete_log_group(self: Any, log_group_name: str) -> None:
        original(self, log_group_name)
        filters = self.filters.metric_filters
        filters[:] = [f for f in filters if f["logGroupName"] != log_group_name]

    logs_models.LogsBackend.delete_log_group = delete_log_group


def _patch_alarm_actions() -> None:
    def set_actions(enabled: bool):
        def handler(self: Any) -> EmptyResult:
            names = self._get_param("AlarmNames", [])
            for name in names:
                alarm = self.cloudwatch_backend.alarms.get(name)
                if alarm is not None:
                    alarm.actions_enabled = enabled
            return EmptyResult()

        return handler

    cloudwatch_responses.CloudWatchResponse.disable_alarm_actions = set_actions(False)
    cloudwatch_responses.CloudWatchResponse.enable_alarm_actions = set_actions(True)


def apply() -> None:
    _patch_put_metric_filter()
    _patch_delete_metric_filter()
    _patch_delete_log_group()
    _patch_alarm_actions()
