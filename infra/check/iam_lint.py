#!/usr/bin/env python3
"""IAM lint for infra/Pulumi.yaml.

Extracts every policy document of the program (role policies, trust policies, bucket, queue and
key policies), substitutes Pulumi interpolations with concrete ARNs of the right shape, and runs
parliament (PyPI) on each. Also enforces our own rule: no Allow statement may use a wildcard in
an action. Findings are allowed only when `iam-lint-justifications.yaml` explains them.

Exit 0 when clean, 1 with the findings otherwise.  Usage: iam_lint.py [Pulumi.yaml]
"""
import json
import re
import sys
from pathlib import Path

import yaml
import parliament

ACCOUNT = "111122223333"
ORG_ID = "o-a1b2c3d4e5"
CENTRAL_ACCOUNT = "444455556666"
HERE = Path(__file__).resolve().parent

# Shapes of the ARNs a `${resource.arn}` stands for, by resource type.
ARN_SHAPES = {
    "aws:s3:Bucket": "arn:aws:s3:::compliance-{name}-dev",
    "aws:dynamodb:Table": "arn:aws:dynamodb:us-east-1:{account}:table/compliance-{name}-dev",
    "aws:sns:Topic": "arn:aws:sns:us-east-1:{account}:compliance-{name}-dev",
    "aws:sqs:Queue": "arn:aws:sqs:us-east-1:{account}:compliance-{name}-dev",
    "aws:kms:Key": "arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "aws:cloudwatch:LogGroup": "arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/compliance-{name}-dev",
    "aws:cloudwatch:EventRule": "arn:aws:events:us-east-1:{account}:rule/compliance-{name}-dev",
    "aws:lambda:Function": "arn:aws:lambda:us-east-1:{account}:function:compliance-{name}-dev",
    "aws:iam:Role": "arn:aws:iam::{account}:role/compliance-{name}-dev",
}


# Config values a policy interpolates, where the program gives no default of that shape.
CONFIG_SAMPLES = {
    "analyzerRoleArn": f"arn:aws:iam::{CENTRAL_ACCOUNT}:role/compliance-analyzer-role-dev",
}


def substitute(value, resources, literals=None):
    """Replaces ${...} interpolations with concrete values of the right shape: resources by
    type, config values by their default (or a sample), literal variables by their value."""
    literals = literals or {}

    def one(match):
        body = match.group(1)
        head, _, prop = body.partition(".")
        if head == "accountId":
            return ACCOUNT
        if head == "environmentSuffix":
            return "dev"
        if head == "organizationId":
            return ORG_ID
        if head in CONFIG_SAMPLES:
            return CONFIG_SAMPLES[head]
        if head in literals:
            return literals[head]
        resource = resources.get(head)
        if resource is None:
            raise SystemExit(f"iam_lint: unknown reference ${{{body}}}")
        if prop in ("arn", ""):
            shape = ARN_SHAPES.get(resource.get("type"))
            if shape is None:
                raise SystemExit(f"iam_lint: no ARN shape for {resource.get('type')} (${{{body}}})")
            return shape.format(account=ACCOUNT, name=head.lower())
        return f"compliance-{head.lower()}-dev"
    if isinstance(value, str):
        return re.sub(r"\$\{([^}]+)\}", one, value)
    if isinstance(value, list):
        return [substitute(v, resources, literals) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, resources, literals) for k, v in value.items()}
    return value


def literals_of(program):
    """String config defaults and string variables of the program, by name."""
    found = {k: str(v["default"]) for k, v in (program.get("config") or {}).items() if isinstance(v, dict) and isinstance(v.get("default"), str)}
    found.update({k: v for k, v in (program.get("variables") or {}).items() if isinstance(v, str)})
    return found


def policy_documents(program):
    """Yields (label, kind, document) for every policy document in the program."""
    resources = program.get("resources", {})
    literals = literals_of(program)
    for name, resource in resources.items():
        for prop, value in (resource.get("properties") or {}).items():
            doc = value.get("fn::toJSON") if isinstance(value, dict) else None
            if isinstance(doc, dict) and "Statement" in doc:
                kind = {
                    "assumeRolePolicy": "trust",
                    "policy": "identity" if resource.get("type") == "aws:iam:RolePolicy" else "resource",
                }.get(prop, "resource")
                yield f"{name}.{prop}", kind, substitute(doc, resources, literals)


def wildcard_actions(document):
    """Allow statements whose actions contain a wildcard."""
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    found = []
    for i, statement in enumerate(statements):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        found += [f"Statement[{i}] allows wildcard action {a}" for a in actions if "*" in a]
        if "NotAction" in statement:
            found.append(f"Statement[{i}] allows with NotAction")
    return found


def load_justifications():
    path = HERE / "iam-lint-justifications.yaml"
    entries = yaml.safe_load(path.read_text()) if path.exists() else []
    for entry in entries or []:
        if not entry.get("why", "").strip():
            raise SystemExit(f"iam_lint: justification for {entry} has no `why`")
    return entries or []


def justified(label, finding, justifications):
    """A finding is accepted when an entry names its policy and issue and, where the entry lists
    actions, every action the finding is about is among them."""
    for j in justifications:
        if j["policy"] != label or j["issue"] != finding.issue:
            continue
        conditions = j.get("conditions")
        if conditions is not None:
            # Only the named condition keys are accepted (a misspelt key still fails).
            named = re.findall(r"Unknown condition (\S+)", str(finding.title) + " " + str(finding.location) + " " + str(finding.detail))
            return bool(named) and set(named) <= set(conditions)
        allowed = j.get("actions")
        if allowed is None:
            return True
        if isinstance(finding.detail, list) and set(finding.detail) <= set(allowed):
            return True
    return False


def lint(program):
    """Returns the list of unjustified findings as strings."""
    justifications = load_justifications()
    problems = []
    for label, kind, document in policy_documents(program):
        for finding in wildcard_actions(document):
            problems.append(f"{label}: {finding}")
        # parliament's identity-policy checks (resource/action matching, unknown actions and
        # conditions, malformed statements) apply to every statement; trust and resource
        # policies carry a Principal, which its identity analyzer does not expect, so it sees
        # them without it (and a trust policy with its role as the resource).
        checked = json.loads(json.dumps(document))
        statements = checked["Statement"] if isinstance(checked["Statement"], list) else [checked["Statement"]]
        for statement in statements:
            statement.pop("Principal", None)
            if kind == "trust":
                # A trust policy's resource is the role it is attached to.
                statement["Resource"] = ARN_SHAPES["aws:iam:Role"].format(account=ACCOUNT, name=label.split(".")[0].lower())
        analyzed = parliament.analyze_policy_string(json.dumps(checked), include_community_auditors=False)
        for finding in analyzed.findings:
            if justified(label, finding, justifications):
                continue
            problems.append(f"{label}: {finding.issue} ({finding.severity}) {finding.detail} {finding.location}")
    return problems


def main(argv):
    path = Path(argv[1]) if len(argv) > 1 else HERE.parent / "Pulumi.yaml"
    program = yaml.safe_load(path.read_text())
    documents = list(policy_documents(program))
    problems = lint(program)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"iam_lint: {len(problems)} finding(s) in {len(documents)} policy documents", file=sys.stderr)
        return 1
    print(f"iam_lint: {len(documents)} policy documents pass parliament and the no-wildcard-action rule")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
