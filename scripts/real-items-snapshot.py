#!/usr/bin/env python3
"""Writes a Config snapshot delivery file of real items, for instruction counts on real data.

The eight items of AWS's rdk example data in tests/fixtures/aws-config (an EC2 instance,
security group and volume, an IAM policy, role and user, an S3 bucket and the account public
access block; see tests/fixtures/aws-config/SOURCES.md) are each repeated COPIES times with
distinct resource ids, in the wrapper Config delivers snapshots in, pretty-printed as Python's
json.dump(indent=2) writes it (real deliveries are compact; pretty-printing makes the splitter
and the parser read whitespace too).

    scripts/real-items-snapshot.py OUT [COPIES]    (COPIES defaults to 400: 3,200 items, 7.8 MB)
    target/release/scan-once file OUT              (under callgrind: see BENCHMARKS.md)
"""

import json
import pathlib
import sys

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "aws-config"


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    copies = int(sys.argv[2]) if len(sys.argv) == 3 else 400
    sources = sorted(FIXTURES.glob("*-ci-from-aws-config-rdk-example_ci.json"))
    if len(sources) != 8:
        sys.exit(f"expected the eight rdk example items in {FIXTURES}, found {len(sources)}")
    originals = [json.loads(path.read_text()) for path in sources]
    items = []
    for copy in range(copies):
        for original in originals:
            item = json.loads(json.dumps(original))
            item["resourceId"] = f"{original['resourceId']}-{copy:05d}"
            items.append(item)
    snapshot = {"fileVersion": "1.0", "configSnapshotId": "real-items-benchmark", "configurationItems": items}
    with out.open("w") as f:
        json.dump(snapshot, f, indent=2)
    print(f"{out}: {len(items)} items, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
