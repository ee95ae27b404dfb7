"""
S3 behaviour moto 5.2.1 lacks and the engine relies on (Amazon S3 API Reference, HeadBucket; User Guide, "Verifying
bucket ownership with bucket owner condition").

- HeadBucket with x-amz-expected-bucket-owner: moto ignores the header. AWS answers 403 Forbidden (access denied) when
  the account named is not the bucket's owner; a HEAD answer has no body. The log backup exports only to a bucket this
  check passes (lib/backup/aws.ts), so a bucket re-created under the name by another account must fail it here too.
  moto's server has one account (123456789012): a request naming any other owner is another account's view.
"""

from __future__ import annotations

from typing import Any

from moto.s3.exceptions import MissingBucket
from moto.s3.responses import S3Response


def apply() -> None:
    original = S3Response.head_bucket

    def head_bucket(self: Any) -> Any:
        expected = self.headers.get("x-amz-expected-bucket-owner")
        if expected is not None:
            try:
                bucket = self.backend.head_bucket(self.bucket_name)
            except MissingBucket:
                return original(self)
            if expected != bucket.account_id:
                return 403, {}, ""
        return original(self)

    S3Response.head_bucket = head_bucket
