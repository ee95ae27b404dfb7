"""
DynamoDB TransactWriteItems without copying whole tables.

AWS: TransactWriteItems is all or nothing; when a condition fails, the transaction is cancelled
(TransactionCanceledException, one CancellationReason per item, "ConditionalCheckFailed" for the failing one) and no
item is written. moto 5.2.1 gives that rollback by deep-copying every table an item names, once per item, before each
transaction: a cost that grows with the table, so that a run of n events costs n squared (the engine settles each
remediated event with a transaction: its record and the key usage it saw). This patch keeps moto's checks and its
answers and rolls back the same way, from copies of the items the transaction names only (their state before it).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

_in_transaction = threading.local()


def _table_deepcopy(self: Table, memo: dict[int, Any]) -> Table:
    """Inside a transaction the table is not copied (its items are, below); elsewhere a plain deep copy."""
    if getattr(_in_transaction, "active", False):
        return self
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        setattr(clone, name, copy.deepcopy(value, memo))
    return clone


def _item_key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any] | None:
    if op_type != "Put":
        return op.get("Key")
    table = backend.tables.get(op.get("TableName", ""))
    attrs = op.get("Item") or {}
    if table is None or table.hash_key_attr not in attrs:
        return None
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None and table.range_key_attr in attrs:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def apply() -> None:
    original = DynamoDBBackend.transact_write_items
    Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        before: list[tuple[str, dict[str, Any], Any]] = []
        for item in transact_items[:100]:
            op_type, op = next(iter(item.items()))
            table_name, key = op.get("TableName"), _item_key(self, op_type, op)
            if op_type == "ConditionCheck" or table_name not in self.tables or key is None:
                continue
            try:
                current = self.get_item(table_name, key)
            except Exception:  # noqa: BLE001 - an invalid key: moto's own checks answer it, before any write
                continue
            before.append((table_name, key, copy.deepcopy(current)))
        _in_transaction.active = True
        try:
            original(self, transact_items)
        except Exception:
            # moto restored the (uncopied) tables; the items the transaction wrote go back to their state before it.
            _in_transaction.active = False
            for table_name, key, item in reversed(before):
                if item is None:
                    try:
                        self.delete_item(table_name, key)
                    except Exception:  # noqa: BLE001,S110 - nothing was written under this key
                        pass
                else:
                    self.put_item(table_name, item.to_json()["Attributes"])
            raise
        finally:
            _in_transaction.active = False

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
