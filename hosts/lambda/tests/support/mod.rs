//! The moto emulator for handler tests: one server per test binary on 127.0.0.1, started from
//! the project's virtualenv (scripts/bootstrap-lambda.sh), reset before every test; tests take a
//! lock so they never see each other's resources.

#![allow(dead_code, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use tokio::sync::{Mutex, MutexGuard};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

struct Server {
    port: u16,
    _child: Child,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::const_new(());

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let python = root().join(".venv-lambda/bin/python");
        assert!(python.exists(), "the moto emulator is not installed: run scripts/bootstrap-lambda.sh (scripts/test.sh does)");
        let mut child = Command::new(python)
            .arg(root().join("hosts/lambda/tests/moto_launcher.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start moto");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("moto did not start: {line:?}"));
        Server { port, _child: child }
    })
}

/// A request to the emulator's own API (reset, fault plan); returns the answer's body.
fn call(port: u16, method: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"), "{path}: {answer}");
    answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

/// One test's view of a freshly reset emulator.
pub struct Moto {
    pub endpoint: String,
    pub aws: aws_config::SdkConfig,
    _guard: MutexGuard<'static, ()>,
}

impl Moto {
    pub async fn fresh() -> Self {
        let guard = LOCK.lock().await;
        let port = server().port;
        call(port, "POST", "/_faults", "[]");
        call(port, "POST", "/moto-api/reset", "");
        let endpoint = format!("http://127.0.0.1:{port}");
        let aws = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await;
        Self { endpoint, aws, _guard: guard }
    }

    /// Replaces the fault injector's plan (see moto_launcher.py for the rule format).
    pub fn faults(&self, rules: serde_json::Value) {
        call(server().port, "POST", "/_faults", &rules.to_string());
    }

    /// How many requests each rule of the current plan has acted on.
    pub fn fault_hits(&self) -> Vec<u64> {
        let answer: serde_json::Value = serde_json::from_str(&call(server().port, "GET", "/_faults", "")).unwrap();
        answer.as_array().unwrap().iter().map(|r| r["hits"].as_u64().unwrap()).collect()
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        compliance_lambda::s3_client(&self.aws)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.aws)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.aws)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.aws)
    }

    pub async fn bucket(&self, name: &str) {
        self.s3().create_bucket().bucket(name).send().await.unwrap();
    }

    /// The history table as the stack defines it: keys, and the summaries' hour index.
    pub async fn history_table(&self, name: &str) {
        use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType};
        let attr = |n: &str| AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build().unwrap();
        let key = |n: &str, t| KeySchemaElement::builder().attribute_name(n).key_type(t).build().unwrap();
        self.dynamodb()
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("ResourceId"))
            .attribute_definitions(attr("Timestamp"))
            .key_schema(key("ResourceId", KeyType::Hash))
            .key_schema(key("Timestamp", KeyType::Range))
            .attribute_definitions(attr("HourBucket"))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(compliance_lambda::history::HOUR_INDEX)
                    .key_schema(key("HourBucket", KeyType::Hash))
                    .key_schema(key("Timestamp", KeyType::Range))
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Every item in a table.
    pub async fn scan_table(&self, name: &str) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let pages = self.dynamodb().scan().table_name(name).into_paginator().items().send();
        pages.collect::<Result<Vec<_>, _>>().await.unwrap()
    }

    /// A topic with an SQS queue subscribed, to observe what is published.
    pub async fn topic_with_queue(&self, name: &str) -> (String, String) {
        let topic = self.sns().create_topic().name(name).send().await.unwrap().topic_arn.unwrap();
        let queue_url = self.sqs().create_queue().queue_name(format!("{name}-observer")).send().await.unwrap().queue_url.unwrap();
        let attrs = self.sqs().get_queue_attributes().queue_url(&queue_url).attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn).send().await.unwrap();
        let queue_arn = attrs.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
        self.sns().subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn).send().await.unwrap();
        (topic, queue_url)
    }

    /// Messages waiting in a queue (bodies).
    pub async fn drain(&self, queue_url: &str) -> Vec<String> {
        let out = self.sqs().receive_message().queue_url(queue_url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        out.messages.unwrap_or_default().into_iter().filter_map(|m| m.body).collect()
    }

    pub async fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        self.s3().get_object().bucket(bucket).key(key).send().await.unwrap().body.collect().await.unwrap().into_bytes().to_vec()
    }

    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) {
        self.s3().put_object().bucket(bucket).key(key).body(body.into()).send().await.unwrap();
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn demo_snapshot() -> Vec<u8> {
    std::fs::read(root().join("hosts/cli/demo/config-snapshot-demo.json")).unwrap()
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/aws-config").join(name)).unwrap()
}

pub fn snapshot_key(day: &str, stamp: &str) -> String {
    format!("AWSLogs/{ACCOUNT}/Config/{REGION}/{day}/ConfigSnapshot/{ACCOUNT}_Config_{REGION}_ConfigSnapshot_{stamp}_a1b2c3d4.json.gz")
}
