"""End-to-end tests of the four Lambda binaries under cargo-lambda's local runtime emulator.

Each binary runs as Lambda runs it: a separate process started by `cargo lambda watch` (the
Lambda runtime API emulator), configured only by environment variables, invoked with
`cargo lambda invoke`, and talking to the moto AWS emulator on 127.0.0.1 through the SDK's
standard `AWS_ENDPOINT_URL`. The state it leaves in moto is then read back with boto3.

Three modes, run by scripts/e2e-lambda.sh (`host` and `packaged` are part of scripts/test.sh):
- `watch` (default): `cargo lambda watch` builds and starts the host build of each function.
- `host` (E2E_MODE=host): the host binaries `cargo test --workspace` already built (in
  E2E_BIN_DIR), each started as Lambda starts it against the runtime API of
  `cargo lambda watch --only-lambda-apis`; one function process at a time. The same functions
  as `watch` without a second build of them (selecting one package changes cargo's feature
  unification, which on a cold machine costs a rebuild of wasmtime and the AWS SDK crates).
- `packaged` (E2E_MODE=packaged): the deployable arm64 artifacts from scripts/build-lambdas.sh,
  `target/lambda/<function>/bootstrap`, run the same way under qemu-aarch64.
It prints a table of init and invocation times. Needs the .venv-lambda virtualenv (moto, boto3,
cargo-lambda), and for `packaged` qemu-user and the arm64 C library (scripts/bootstrap-arm64.sh).
"""
import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import boto3

from moto_launcher import free_port  # same directory, first on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "aws-config"
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
CONFIG_BUCKET = "e2e-config-delivery"
REPORTS_BUCKET = "e2e-reports"
TABLE = "e2e-history"
VICTIM = "e2e-unencrypted-bucket"
OPTED_OUT = "e2e-opted-out-bucket"
SNAPSHOT_KEY = (f"AWSLogs/{ACCOUNT}/Config/{REGION}/2026/11/28/ConfigSnapshot/"
                f"{ACCOUNT}_Config_{REGION}_ConfigSnapshot_20261128T160000Z_e2e.json.gz")
INVOKE_TIMEOUT = 300  # seconds; the first invoke may still have to link a binary
MODE = os.environ.get("E2E_MODE", "watch")
ARM64_SYSROOT = "/usr/aarch64-linux-gnu"  # Debian's libc6-arm64-cross
ORG = "o-e2eorg0001"
FUNCTIONS = ("analyzer", "evaluator", "remediator", "rollup")

moto = None
moto_log = None
watch = None
watch_log = None
invoke_port = None
function_env = {}
running = None  # host and packaged modes: (function name, its process)
clients = {}
timings = {}  # function -> {"cold_ms", "warm_ms"}
temporary = []  # files removed when the tests end


def client(service):
    if service not in clients:
        clients[service] = boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=REGION,
                                        aws_access_key_id="testing", aws_secret_access_key="testing")
    return clients[service]


def start_moto() -> str:
    global moto, moto_log
    # moto prints a traceback for every call it does not implement (DeliverConfigSnapshot, which
    # the analyzer tolerates): kept in a file, shown when a test fails.
    moto_log = tempfile.NamedTemporaryFile("w+", suffix=".moto.log", delete=False)
    temporary.append(moto_log.name)
    moto = subprocess.Popen([sys.executable, str(ROOT / "hosts/lambda/tests/moto_launcher.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=moto_log, text=True)
    port = moto.stdout.readline().strip()
    if not port.isdigit():
        raise RuntimeError(f"moto did not start (printed {port!r})")
    return f"http://127.0.0.1:{port}"


def provision(topic_name="e2e-alerts"):
    s3 = client("s3")
    for bucket in (CONFIG_BUCKET, REPORTS_BUCKET, VICTIM, OPTED_OUT):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=OPTED_OUT, Tagging={"TagSet": [{"Key": "compliance:remediation", "Value": "skip"}]})
    snapshot = (ROOT / "hosts/cli/demo/config-snapshot-demo.json").read_bytes()
    s3.put_object(Bucket=CONFIG_BUCKET, Key=SNAPSHOT_KEY, Body=gzip.compress(snapshot, mtime=0))
    client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "ResourceId", "AttributeType": "S"},
                              {"AttributeName": "Timestamp", "AttributeType": "S"},
                              {"AttributeName": "HourBucket", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "ResourceId", "KeyType": "HASH"},
                   {"AttributeName": "Timestamp", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "ByHour", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "HourBucket", "KeyType": "HASH"},
                                               {"AttributeName": "Timestamp", "KeyType": "RANGE"}]}])
    topic = client("sns").create_topic(Name=topic_name)["TopicArn"]
    queue = client("sqs").create_queue(QueueName=f"{topic_name}-observer")["QueueUrl"]
    queue_arn = client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue


def start_watch(env: dict) -> None:
    """`cargo lambda watch` on loopback with the functions' environment in an env file."""
    global watch, watch_log, invoke_port
    invoke_port = free_port()
    env_file = tempfile.NamedTemporaryFile("w", suffix=".env", delete=False)
    env_file.write("".join(f"{k}={v}\n" for k, v in env.items()))
    env_file.close()
    temporary.append(env_file.name)
    watch_log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    temporary.append(watch_log.name)
    command = ["cargo", "lambda", "watch", "--quiet", "--ignore-changes", "--invoke-address", "127.0.0.1",
               "--invoke-port", str(invoke_port), "--env-file", env_file.name, "--package", "compliance-lambda"]
    if MODE != "watch":
        command.append("--only-lambda-apis")
    watch = subprocess.Popen(command, cwd=ROOT, stdout=watch_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if watch.poll() is not None:
            raise RuntimeError(f"cargo lambda watch exited with {watch.returncode}:\n{log_text()}")
        try:
            socket.create_connection(("127.0.0.1", invoke_port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"cargo lambda watch did not listen on 127.0.0.1:{invoke_port} within 120 s:\n{log_text()}")


def log_text() -> str:
    watch_log.flush()
    return Path(watch_log.name).read_text(errors="replace")


def logged(message: str) -> list:
    """The fields of every JSON log line the functions wrote with this message, in order."""
    found = []
    for line in log_text().splitlines():
        start = line.find("{")
        try:
            fields = json.loads(line[start:]).get("fields", {}) if start >= 0 else {}
        except json.JSONDecodeError:
            continue
        if fields.get("message") == message:
            found.append(fields)
    return found


def stop_function() -> None:
    global running
    if running is not None:
        running[1].terminate()
        running[1].wait(timeout=20)
        running = None


def start_function(function: str) -> None:
    """Host and packaged modes: the function's binary as the only function the runtime API
    serves (the emulator's default function `_`), as Lambda starts it: environment only, no
    arguments."""
    global running
    if running is not None and running[0] == function:
        return
    stop_function()
    if MODE == "packaged":
        binary = ROOT / "target" / "lambda" / function / "bootstrap"
        command, hint = ["qemu-aarch64", "-L", ARM64_SYSROOT, str(binary)], "run scripts/build-lambdas.sh"
    else:
        binary = Path(os.environ["E2E_BIN_DIR"]) / function
        command, hint = [str(binary)], "build it with `cargo test --workspace --no-run`"
    if not binary.exists():
        raise AssertionError(f"{binary} is missing: {hint}")
    env = dict(function_env, PATH=os.environ["PATH"], AWS_LAMBDA_FUNCTION_NAME="_", AWS_LAMBDA_FUNCTION_VERSION="1",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="3008", AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{invoke_port}/.rt")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=watch_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    running = (function, process)


def invoke(function: str, event: dict, expect_error: bool = False) -> dict:
    """`cargo lambda invoke`; records the wall time of the first (cold) and later (warm) calls."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as payload:
        json.dump(event, payload)
    started = time.monotonic()
    if MODE != "watch":
        start_function(function)
    done = subprocess.run(
        ["cargo", "lambda", "invoke", function if MODE == "watch" else "_", "--invoke-address", "127.0.0.1", "--invoke-port", str(invoke_port),
         "--data-file", payload.name, "--output-format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=INVOKE_TIMEOUT)
    elapsed_ms = round((time.monotonic() - started) * 1000)
    os.unlink(payload.name)
    slot = timings.setdefault(function, {})
    slot["cold_ms" if "cold_ms" not in slot else "warm_ms"] = elapsed_ms
    if expect_error:
        if done.returncode == 0:
            raise AssertionError(f"{function} succeeded but should have failed: {done.stdout}")
        return {"error": done.stdout + done.stderr}
    if done.returncode != 0:
        moto_tail = Path(moto_log.name).read_text(errors="replace")[-3000:]
        raise AssertionError(f"{function} failed ({done.returncode}): {done.stdout}{done.stderr}\n"
                             f"--- watch log ---\n{log_text()[-6000:]}\n--- moto log ---\n{moto_tail}")
    return json.loads(done.stdout)


def assert_loaded_precompiled(test: unittest.TestCase) -> None:
    """Every function process so far loaded a build-time precompiled artifact of the component
    (x86-64-v3 or x86-64-v2 on x86-64 hosts, the aarch64 one when packaged for arm64): a cold
    start never compiles WebAssembly. Without one, the log line has no `precompiled_for`."""
    loads = logged("scoring component loaded")
    test.assertTrue(loads, "no function logged loading the component")
    test.assertTrue(all(load.get("precompiled_for") in ("x86-64-v3", "x86-64-v2", "aarch64") for load in loads), loads)


def scheduled_event(time_: str) -> dict:
    return {"version": "0", "id": "e2e-scheduled", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT, "time": time_, "region": REGION, "resources": [], "detail": {}}


def compliance_change(bucket: str) -> dict:
    return {"version": "0", "id": f"e2e-change-{bucket}", "detail-type": "Config Rules Compliance Change",
            "source": "aws.config", "account": ACCOUNT, "region": REGION,
            "detail": {"resourceId": bucket, "resourceType": "AWS::S3::Bucket", "awsAccountId": ACCOUNT,
                       "awsRegion": REGION, "configRuleName": "compliance-s3-rule-e2e",
                       "newEvaluationResult": {"complianceType": "NON_COMPLIANT"}}}


def history_items():
    pages = client("dynamodb").get_paginator("scan").paginate(TableName=TABLE)
    return [item for page in pages for item in page["Items"]]


def setUpModule():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_ENDPOINT_URL"] = start_moto()
    global TOPIC, QUEUE
    TOPIC, QUEUE = provision()
    function_env.update({
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CONFIG_BUCKET": CONFIG_BUCKET,
        "HISTORY_TABLE": TABLE,
        "REPORTS_BUCKET": REPORTS_BUCKET,
        "ALERT_TOPIC_ARN": TOPIC,
        "SCORE_THRESHOLD": "80",  # the demo account scores 74.92 %: an alert must go out
        "ENVIRONMENT_SUFFIX": "e2e",
        "REMEDIATION_MODE": "enforce",
        "MAX_REMEDIATIONS_PER_INVOCATION": "5",
        "ORG_ID": ORG,
        "RUST_LOG": "info",
    })
    start_watch(function_env)


def tearDownModule():
    stop_function()
    if watch is not None:
        watch.terminate()
        try:
            watch.wait(timeout=20)
        except subprocess.TimeoutExpired:
            watch.kill()
    if moto is not None:
        moto.stdin.close()  # moto_launcher stops when its stdin closes
        moto.wait(timeout=20)
    report()
    for leftover in temporary:
        Path(leftover).unlink(missing_ok=True)


def report():
    """Cold start = first invoke's wall time (process start, init, first handler run, and the
    `cargo lambda invoke` client itself); init_ms = what the function logged for its own init."""
    inits = {}
    for ready in logged("ready") if watch_log is not None else []:
        inits.setdefault(ready.get("function"), ready.get("init_ms"))
    print(f"\nmode: {MODE}\nfunction     init_ms  first invoke ms  second invoke ms", file=sys.stderr)
    for function in FUNCTIONS:
        t = timings.get(function, {})
        print(f"{function:<12} {inits.get(function, '-')!s:>7}  {t.get('cold_ms', '-')!s:>15}  {t.get('warm_ms', '-')!s:>16}",
              file=sys.stderr)


class Analyzer(unittest.TestCase):
    def test_hourly_scan_writes_history_reports_and_alerts(self):
        outcome = invoke("analyzer", scheduled_event("2026-11-28T17:00:00Z"))
        self.assertEqual(outcome["status"], "scored")
        self.assertEqual(outcome["score"], "74.92")
        self.assertTrue(outcome["below_threshold"])
        self.assertEqual(outcome["snapshot"]["key"], SNAPSHOT_KEY)
        items = history_items()
        self.assertEqual(len(items), outcome["history_items"])
        summary = [i for i in items if i["ResourceId"]["S"] == f"SUMMARY#{ACCOUNT}#{REGION}"]
        self.assertEqual(len(summary), 1)
        s3 = client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=REPORTS_BUCKET).get("Contents", [])]
        self.assertIn(f"reports/{ACCOUNT}/{REGION}/latest/report.json", keys)
        self.assertIn(f"reports/{ACCOUNT}/{REGION}/latest/report.html", keys)
        report = json.loads(s3.get_object(Bucket=REPORTS_BUCKET, Key=f"reports/{ACCOUNT}/{REGION}/latest/report.json")["Body"].read())
        self.assertEqual(report["score_bp"], outcome["score_bp"])
        self.assertEqual([src["name"] for src in report["input"]["sources"]], [f"s3://{CONFIG_BUCKET}/{SNAPSHOT_KEY}"])
        messages = client("sqs").receive_message(QueueUrl=QUEUE, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
        self.assertEqual(len(messages), 1, messages)
        self.assertIn("74.92", json.loads(messages[0]["Body"])["Message"])

        # An auditor reproduces the score offline: the stored report and a downloaded copy of the
        # snapshot object, through the CLI's `verify`, bit for bit.
        with tempfile.TemporaryDirectory() as audit:
            local = Path(audit)
            (local / "report.json").write_bytes(s3.get_object(Bucket=REPORTS_BUCKET, Key=outcome["reports"]["json_key"])["Body"].read())
            (local / "snapshot.json.gz").write_bytes(s3.get_object(Bucket=CONFIG_BUCKET, Key=SNAPSHOT_KEY)["Body"].read())
            verify = subprocess.run([os.environ["COMPLIANCE_BIN"], "verify", "report.json", "snapshot.json.gz"],
                                    cwd=local, capture_output=True, text=True, timeout=300)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            self.assertIn("reproduced bit for bit", verify.stdout)

        # The same event again (EventBridge retry): the same items, no second summary.
        again = invoke("analyzer", scheduled_event("2026-11-28T17:00:00Z"))
        self.assertEqual(again["score"], "74.92")
        self.assertEqual(len(history_items()), len(items))
        assert_loaded_precompiled(self)


def org_snapshot_event(account: str, stamp: str) -> tuple:
    """A member account's snapshot in the central bucket, and the EventBridge event for it as
    the work queue holds it (key URL-encoded, as S3 events carry keys)."""
    key = (f"{ORG}/AWSLogs/{account}/Config/{REGION}/2026/12/1/ConfigSnapshot/"
           f"{account}_Config_{REGION}_ConfigSnapshot_{stamp}_e2e.json.gz")
    demo = (ROOT / "hosts/cli/demo/config-snapshot-demo.json").read_text().replace("111122223333", account)
    client("s3").put_object(Bucket=CONFIG_BUCKET, Key=key, Body=gzip.compress(demo.encode(), mtime=0))
    event = {"version": "0", "id": f"e2e-{account}", "detail-type": "Object Created", "source": "aws.s3",
             "account": ACCOUNT, "time": "2026-12-01T04:00:09Z", "region": REGION, "resources": [f"arn:aws:s3:::{CONFIG_BUCKET}"],
             "detail": {"version": "0", "bucket": {"name": CONFIG_BUCKET}, "object": {"key": key.replace("_", "%5F"), "size": 1},
                        "reason": "PutObject"}}
    return key, event


def sqs_event(bodies: list) -> dict:
    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body, "eventSource": "aws:sqs",
                         "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:e2e-work", "awsRegion": REGION, "attributes": {}}
                        for i, body in enumerate(bodies)]}


class Organization(unittest.TestCase):
    def test_snapshot_messages_are_scored_and_rolled_up_and_the_org_report_verifies_offline(self):
        accounts = ["210000000001", "210000000002"]
        events = [org_snapshot_event(account, "20261201T040000Z")[1] for account in accounts]
        # A truncated upload fails alone (SQS retries it, then dead-letters it); an unreadable
        # message can never succeed and is logged, not retried; a test event is ignored.
        truncated_key, truncated = org_snapshot_event("210000000003", "20261201T040000Z")
        client("s3").put_object(Bucket=CONFIG_BUCKET, Key=truncated_key, Body=b"\x1f\x8b truncated")
        bodies = [json.dumps(e) for e in events] + [json.dumps(truncated), "{not json", json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})]
        answer = invoke("analyzer", sqs_event(bodies))
        self.assertEqual(answer, {"batchItemFailures": [{"itemIdentifier": "m2"}]}, "only the truncated snapshot fails")

        rolled = invoke("rollup", {"version": "0", "id": "e2e-rollup", "detail-type": "Scheduled Event", "source": "aws.events",
                                   "account": ACCOUNT, "time": "2026-12-01T04:20:00Z", "region": REGION, "resources": [], "detail": {}})
        self.assertEqual(rolled["status"], "rolled-up")
        self.assertEqual(rolled["summaries"], 2)
        self.assertEqual(rolled["score"], "74.92", "two copies of the demo account score as one")
        self.assertTrue(rolled["alert_sent"])
        org_items = [i for i in history_items() if i["ResourceId"]["S"] == f"ORG#{ORG}"]
        self.assertEqual(len(org_items), 1)

        # An auditor reproduces the org report offline from a copy of the reports bucket.
        s3 = client("s3")
        with tempfile.TemporaryDirectory() as audit:
            local = Path(audit)
            for obj in s3.list_objects_v2(Bucket=REPORTS_BUCKET, Prefix="reports/").get("Contents", []):
                target = local / obj["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(s3.get_object(Bucket=REPORTS_BUCKET, Key=obj["Key"])["Body"].read())
            org_report = local / rolled["reports"]["json_key"]
            member_reports = [str(local / "reports" / account) for account in accounts]
            verify = subprocess.run([os.environ["COMPLIANCE_BIN"], "verify", str(org_report), *member_reports],
                                    cwd=local, capture_output=True, text=True, timeout=300)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            self.assertIn("reproduced bit for bit", verify.stdout)

            # `compliance rollup` over the downloaded member reports, with the function's
            # settings, writes the same bytes (inputs named by their S3 keys).
            members = local / "members"
            for account in accounts:
                for path in (local / "reports" / account).rglob("report.json"):
                    if "latest" not in path.parts:
                        target = members / path.relative_to(local)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(path.read_bytes())
            rollup = subprocess.run([os.environ["COMPLIANCE_BIN"], "rollup", str(members), "--org-id", ORG, "--threshold", "80",
                                     "--generated-at", rolled["generated_at"], "--window-hours", "24", "--format", "json",
                                     "--out-dir", str(local / "offline")], cwd=local, capture_output=True, text=True, timeout=300)
            self.assertEqual(rollup.returncode, 0, rollup.stdout + rollup.stderr)
            self.assertEqual((local / "offline" / "rollup.json").read_bytes(), org_report.read_bytes(),
                             "the offline roll-up differs from the Lambda's")


class Evaluator(unittest.TestCase):
    def test_change_notification_is_evaluated_and_reported_through_the_sdk(self):
        event = json.loads((FIXTURES / "s3-bucket-rule-event-from-cloud-custodian.json").read_text())
        event["resultToken"] = "TESTMODE"  # moto implements PutEvaluations only in test mode
        outcome = invoke("evaluator", event)
        self.assertEqual((outcome["evaluations"], outcome["non_compliant"], outcome["test_mode"]), (1, 1, True), outcome)
        ec2 = json.loads((FIXTURES / "rule-event-change-notification-ec2-instance-from-awsdocs.json").read_text())
        ec2["resultToken"] = "TESTMODE"
        second = invoke("evaluator", ec2)
        self.assertEqual(second["evaluations"], 1, second)
        assert_loaded_precompiled(self)

    def test_malformed_event_fails_the_invocation(self):
        failed = invoke("evaluator", {"invokingEvent": "{not json", "resultToken": "TESTMODE"}, expect_error=True)
        self.assertIn("invokingEvent", failed["error"])


class Remediator(unittest.TestCase):
    def test_unencrypted_bucket_gets_kms_and_an_audit_item_opted_out_is_left_alone(self):
        outcome = invoke("remediator", compliance_change(VICTIM))
        self.assertEqual([a["outcome"] for a in outcome["attempts"]], ["REMEDIATED"], outcome)
        rule = client("s3").get_bucket_encryption(Bucket=VICTIM)["ServerSideEncryptionConfiguration"]["Rules"][0]
        self.assertEqual(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "aws:kms")
        self.assertTrue(rule.get("BucketKeyEnabled"))
        audits = [i for i in history_items() if i.get("Kind", {}).get("S") == "REMEDIATION"
                  and i["ResourceId"]["S"] == f"arn:aws:s3:::{VICTIM}"]
        self.assertEqual([a["Outcome"]["S"] for a in audits], ["REMEDIATED"], audits)

        repeat = invoke("remediator", compliance_change(VICTIM))
        self.assertEqual([a["outcome"] for a in repeat["attempts"]], ["ALREADY_KMS"], repeat)
        opted = invoke("remediator", compliance_change(OPTED_OUT))
        self.assertEqual([a["outcome"] for a in opted["attempts"]], ["OPTED_OUT"], opted)
        with self.assertRaises(client("s3").exceptions.ClientError):
            client("s3").get_bucket_encryption(Bucket=OPTED_OUT)
        assert_loaded_precompiled(self)


if __name__ == "__main__":
    unittest.main(verbosity=2)
