"""Validates the exports of `compliance scan --format asff,ocsf` with the ecosystem's own models,
not with schemas of ours (SPEC §12):

- ASFF: every finding, in calls of at most 100, against the `BatchImportFindings` request shape
  of botocore's Security Hub service model (botocore's own parameter validation: required members,
  types, unknown members; botocore does not check lengths or patterns, the exporter's own limit
  checks in hosts/runtime/src/asff.rs do);
- OCSF: every line against py-ocsf-models' `ComplianceFinding` (OCSF 1.5.0, class_uid 2003) and,
  for the cloud profile the package does not put on that class, its `Cloud` object. pydantic
  ignores unknown members by default, so every member is also looked up in the model it belongs
  to: a misspelt attribute fails here instead of vanishing in a SIEM.

Both exports must name the same findings in the same order.

Usage: validate.py DIR...   (each DIR holds findings.asff.json and findings.ocsf.jsonl)
       validate.py --self-test   (proves each check fails on a broken record)
"""

import json
import sys
from pathlib import Path

import botocore.session
from botocore.validate import ParamValidator
from pydantic import BaseModel, ValidationError
from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud

IMPORT_SHAPE = botocore.session.get_session().get_service_model("securityhub").operation_model("BatchImportFindings").input_shape


def asff_errors(findings):
    if not isinstance(findings, list):
        return ["the ASFF export is not a JSON array"]
    errors = []
    for start in range(0, len(findings), 100):
        report = ParamValidator().validate({"Findings": findings[start : start + 100]}, IMPORT_SHAPE)
        if report.has_errors():
            errors.append(f"findings {start + 1}–{start + 100}: {report.generate_report()}")
    ids = [f.get("Id") for f in findings if isinstance(f, dict)]
    if len(set(ids)) != len(ids):
        errors.append("two findings share an Id")
    return errors


def unknown_members(data, model, path):
    """Members of `data` that `model`'s class does not declare, recursively."""
    found = []
    fields = type(model).model_fields
    for key, value in data.items():
        if key not in fields:
            found.append(f"{path}.{key}")
            continue
        attribute = getattr(model, key)
        if isinstance(attribute, BaseModel) and isinstance(value, dict):
            found += unknown_members(value, attribute, f"{path}.{key}")
        elif isinstance(attribute, list) and isinstance(value, list):
            for i, (a, v) in enumerate(zip(attribute, value)):
                if isinstance(a, BaseModel) and isinstance(v, dict):
                    found += unknown_members(v, a, f"{path}.{key}[{i}]")
    return found


def ocsf_errors(record, where):
    record = dict(record)
    cloud = record.pop("cloud", None)
    try:
        finding = ComplianceFinding.model_validate(record)
        cloud_model = Cloud.model_validate(cloud) if cloud is not None else None
    except ValidationError as error:
        return [f"{where}: {error}"]
    errors = [f"{where}: `{m}` is not an OCSF {OCSF_VERSION} Compliance Finding attribute" for m in unknown_members(record, finding, "")]
    if cloud_model is None:
        errors.append(f"{where}: no `cloud` (the cloud profile is declared)")
    else:
        errors += [f"{where}: `cloud{m}` is not an OCSF cloud attribute" for m in unknown_members(cloud, cloud_model, "")]
    expected = {"class_uid": 2003, "category_uid": 2, "type_uid": 200301}
    errors += [f"{where}: `{k}` is {record.get(k)!r}, not {v}" for k, v in expected.items() if record.get(k) != v]
    if record.get("metadata", {}).get("version") != OCSF_VERSION:
        errors.append(f"{where}: metadata.version is not {OCSF_VERSION}")
    if "cloud" not in record.get("metadata", {}).get("profiles", []):
        errors.append(f"{where}: metadata.profiles does not declare the cloud profile")
    return errors


def validate(directory):
    directory = Path(directory)
    findings = json.loads((directory / "findings.asff.json").read_text())
    errors = asff_errors(findings)
    lines = (directory / "findings.ocsf.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    for number, record in enumerate(records, 1):
        errors += ocsf_errors(record, f"findings.ocsf.jsonl line {number}")
    if [r.get("finding_info", {}).get("uid") for r in records] != [f.get("Id") for f in findings]:
        errors.append("the OCSF lines and the ASFF findings do not name the same findings in the same order")
    return len(findings), errors


def self_test(directory):
    """Each check must catch a broken copy of a real record."""
    directory = Path(directory)
    finding = json.loads((directory / "findings.asff.json").read_text())[0]
    record = json.loads((directory / "findings.ocsf.jsonl").read_text().splitlines()[0])
    broken_asff = {
        "missing Title": {k: v for k, v in finding.items() if k != "Title"},
        "misspelt member": {**finding, "Remediaton": finding.get("Remediation")},
        "wrong type": {**finding, "Types": "Software and Configuration Checks"},
        "Severity not a structure": {**finding, "Severity": "HIGH"},
    }
    broken_ocsf = {
        "missing finding_info": {k: v for k, v in record.items() if k != "finding_info"},
        "misspelt member": {**record, "compliance": {**record["compliance"], "requirement": []}},
        "bad type_uid": {**record, "type_uid": 200399 + 1},
        "unknown cloud member": {**record, "cloud": {**record["cloud"], "acount": {}}},
    }
    failures = [f"ASFF check missed: {name}" for name, f in broken_asff.items() if not asff_errors([f])]
    failures += [f"OCSF check missed: {name}" for name, r in broken_ocsf.items() if not ocsf_errors(r, name)]
    if asff_errors([finding]) or ocsf_errors(record, "original"):
        failures.append("the unbroken records do not pass")
    return failures


def main(arguments):
    if arguments[:1] == ["--self-test"]:
        failures = self_test(arguments[1])
        for failure in failures:
            print(f"validate: {failure}", file=sys.stderr)
        print(f"validator self-test: {len(failures)} missed of 8 broken records")
        return 1 if failures else 0
    status = 0
    for directory in arguments:
        count, errors = validate(directory)
        for error in errors[:20]:
            print(f"validate: {directory}: {error}", file=sys.stderr)
        if errors:
            status = 1
        print(f"{directory}: {count} ASFF findings valid for BatchImportFindings (botocore {botocore.__version__}) and "
              f"{count} OCSF {OCSF_VERSION} Compliance Findings (py-ocsf-models)" if not errors else f"{directory}: {len(errors)} errors")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
