//! Configuration from environment variables (the names the Pulumi stack sets). A missing or
//! invalid variable fails the cold start with a message naming it.

use compliance_runtime::parse_percent_bp;

/// A setting that is missing or invalid.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// A required variable is not set (or empty).
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    /// A variable does not parse.
    #[error("environment variable {name} is invalid: {reason} (value {value:?})")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Where settings come from: the process environment, or a map in tests.
pub trait Env {
    /// The variable's value, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

fn optional(env: &dyn Env, name: &'static str) -> Option<String> {
    env.var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn required(env: &dyn Env, name: &'static str) -> Result<String, SettingsError> {
    optional(env, name).ok_or(SettingsError::Missing(name))
}

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid { name, value: value.to_owned(), reason: reason.into() }
}

/// `ENVIRONMENT_SUFFIX`: the metrics dimension and part of every resource name.
fn environment(env: &dyn Env) -> Result<String, SettingsError> {
    let value = required(env, "ENVIRONMENT_SUFFIX")?;
    if value.len() > 64 || !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(invalid("ENVIRONMENT_SUFFIX", &value, "use at most 64 letters, digits, '-' or '_'"));
    }
    Ok(value)
}

fn criticality_tag(env: &dyn Env) -> String {
    optional(env, "CRITICALITY_TAG").unwrap_or_else(|| "Criticality".to_owned())
}

fn bucket(env: &dyn Env, name: &'static str) -> Result<String, SettingsError> {
    let value = required(env, name)?;
    if !is_bucket_name(&value) {
        return Err(invalid(name, &value, "not an S3 bucket name (3-63 lowercase letters, digits, '.', '-')"));
    }
    Ok(value)
}

/// Whether `name` is a valid S3 bucket name (the subset that is safe in a key, an ARN and a URL).
pub fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// The analyzer's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzerSettings {
    /// `CONFIG_BUCKET`: the Config delivery bucket.
    pub config_bucket: String,
    /// `CONFIG_DELIVERY_CHANNEL` (default `default`).
    pub delivery_channel: String,
    /// `HISTORY_TABLE`.
    pub history_table: String,
    /// `REPORTS_BUCKET`.
    pub reports_bucket: String,
    /// `ALERT_TOPIC_ARN`.
    pub alert_topic_arn: String,
    /// `SCORE_THRESHOLD` in basis points (default 70 %).
    pub threshold_bp: u32,
    /// `CRITICALITY_TAG` (default `Criticality`).
    pub criticality_tag: String,
    /// `ENVIRONMENT_SUFFIX`.
    pub environment: String,
    /// `WAIVERS_KEY` in `WAIVERS_BUCKET`: the waiver file (SPEC §11) every scan applies; no
    /// key = no waivers (the stack always sets the bucket).
    pub waivers: Option<WaiverObject>,
    /// `ALERT_SCORE`: `score` (default) alerts on `score_bp`; `score-with-waivers` on
    /// `score_with_waivers_bp`, for teams whose accepted risks should not page anyone.
    pub alert_on_score_with_waivers: bool,
    /// `SECURITY_HUB_IMPORT` (`off`, the default, or `on`) and `SECURITY_HUB_MEMBER_ROLE`.
    pub security_hub: Option<SecurityHubImport>,
}

/// The import into Security Hub (SPEC §12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityHubImport {
    /// `SECURITY_HUB_MEMBER_ROLE`: the role the analyzer assumes in a member account to import
    /// that account's findings (organization mode; Security Hub takes a finding only from its
    /// own account). Unset: member accounts' findings are not imported, and their scans say so.
    pub member_role: Option<String>,
}

fn security_hub(env: &dyn Env) -> Result<Option<SecurityHubImport>, SettingsError> {
    match optional(env, "SECURITY_HUB_IMPORT").as_deref() {
        None | Some("off") => Ok(None),
        Some("on") => {
            let member_role = optional(env, "SECURITY_HUB_MEMBER_ROLE");
            if let Some(role) = &member_role
                && (role.len() > 64 || !role.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)))
            {
                return Err(invalid("SECURITY_HUB_MEMBER_ROLE", role, "an IAM role name: at most 64 letters, digits and +=,.@_-"));
            }
            Ok(Some(SecurityHubImport { member_role }))
        }
        Some(other) => Err(invalid("SECURITY_HUB_IMPORT", other, "`on` or `off`")),
    }
}

/// Where the waiver file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverObject {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
}

fn waivers(env: &dyn Env) -> Result<Option<WaiverObject>, SettingsError> {
    match optional(env, "WAIVERS_KEY") {
        None => Ok(None),
        Some(key) => Ok(Some(WaiverObject { bucket: bucket(env, "WAIVERS_BUCKET")?, key })),
    }
}

fn alert_score(env: &dyn Env) -> Result<bool, SettingsError> {
    match optional(env, "ALERT_SCORE").as_deref() {
        None | Some("score") => Ok(false),
        Some("score-with-waivers") => Ok(true),
        Some(other) => Err(invalid("ALERT_SCORE", other, "`score` or `score-with-waivers`")),
    }
}

impl AnalyzerSettings {
    /// Reads and checks every variable.
    pub fn from_env(env: &dyn Env) -> Result<Self, SettingsError> {
        let threshold_bp = threshold(env)?;
        let alert_topic_arn = topic(env)?;
        Ok(Self {
            config_bucket: bucket(env, "CONFIG_BUCKET")?,
            delivery_channel: optional(env, "CONFIG_DELIVERY_CHANNEL").unwrap_or_else(|| "default".to_owned()),
            history_table: required(env, "HISTORY_TABLE")?,
            reports_bucket: bucket(env, "REPORTS_BUCKET")?,
            alert_topic_arn,
            threshold_bp,
            criticality_tag: criticality_tag(env),
            environment: environment(env)?,
            waivers: waivers(env)?,
            alert_on_score_with_waivers: alert_score(env)?,
            security_hub: security_hub(env)?,
        })
    }
}

/// The org roll-up's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupSettings {
    /// `ORG_ID`: the organization (`o-` and 10 to 32 lowercase letters or digits).
    pub org_id: String,
    /// `HISTORY_TABLE`: where the summaries are, and the `ORG#` item goes.
    pub history_table: String,
    /// `HOUR_INDEX` (default `ByHour`): the table's index over the summaries' hour buckets.
    pub hour_index: String,
    /// `REPORTS_BUCKET`: where the org report goes.
    pub reports_bucket: String,
    /// `ALERT_TOPIC_ARN`.
    pub alert_topic_arn: String,
    /// `SCORE_THRESHOLD` in basis points (default 70 %).
    pub threshold_bp: u32,
    /// `WINDOW_HOURS` (default 24, 1–168): summaries older than this do not count; it should
    /// cover the Config delivery frequency of the member accounts.
    pub window_hours: u32,
    /// `FORGET_AFTER_HOURS` (default 24, 1–8760): an account-region unseen for longer is no
    /// longer listed as missing.
    pub forget_after_hours: u32,
    /// `ENVIRONMENT_SUFFIX`.
    pub environment: String,
}

fn hours(env: &dyn Env, name: &'static str, default: u32, max: u32) -> Result<u32, SettingsError> {
    let value = optional(env, name).unwrap_or_else(|| default.to_string());
    value.parse::<u32>().ok().filter(|h| (1..=max).contains(h)).ok_or_else(|| invalid(name, &value, format!("a whole number of hours from 1 to {max}")))
}

fn threshold(env: &dyn Env) -> Result<u32, SettingsError> {
    let threshold = optional(env, "SCORE_THRESHOLD").unwrap_or_else(|| "70".to_owned());
    parse_percent_bp(&threshold).map_err(|reason| invalid("SCORE_THRESHOLD", &threshold, reason))
}

fn topic(env: &dyn Env) -> Result<String, SettingsError> {
    let alert_topic_arn = required(env, "ALERT_TOPIC_ARN")?;
    if !alert_topic_arn.starts_with("arn:") || alert_topic_arn.split(':').count() != 6 {
        return Err(invalid("ALERT_TOPIC_ARN", &alert_topic_arn, "not an SNS topic ARN (arn:aws:sns:region:account:name)"));
    }
    Ok(alert_topic_arn)
}

impl RollupSettings {
    /// Reads and checks every variable.
    pub fn from_env(env: &dyn Env) -> Result<Self, SettingsError> {
        let org_id = required(env, "ORG_ID")?;
        let body = org_id.strip_prefix("o-").unwrap_or_default();
        if !(10..=32).contains(&body.len()) || !body.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return Err(invalid("ORG_ID", &org_id, "not an organization id (o- and 10 to 32 lowercase letters or digits)"));
        }
        Ok(Self {
            org_id,
            history_table: required(env, "HISTORY_TABLE")?,
            hour_index: optional(env, "HOUR_INDEX").unwrap_or_else(|| crate::history::HOUR_INDEX.to_owned()),
            reports_bucket: bucket(env, "REPORTS_BUCKET")?,
            alert_topic_arn: topic(env)?,
            threshold_bp: threshold(env)?,
            window_hours: hours(env, "WINDOW_HOURS", 24, 168)?,
            forget_after_hours: hours(env, "FORGET_AFTER_HOURS", 24, 8760)?,
            environment: environment(env)?,
        })
    }
}

/// The evaluator's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatorSettings {
    /// `CRITICALITY_TAG` (default `Criticality`).
    pub criticality_tag: String,
    /// `ENVIRONMENT_SUFFIX`.
    pub environment: String,
}

impl EvaluatorSettings {
    /// Reads and checks every variable.
    pub fn from_env(env: &dyn Env) -> Result<Self, SettingsError> {
        Ok(Self { criticality_tag: criticality_tag(env), environment: environment(env)? })
    }
}

/// What the remediator does with a bucket that needs fixing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemediationMode {
    /// Change the bucket's default encryption.
    Enforce,
    /// Only record what would be changed.
    DryRun,
}

impl RemediationMode {
    /// The `REMEDIATION_MODE` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::DryRun => "dry-run",
        }
    }
}

/// The remediator's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediatorSettings {
    /// `HISTORY_TABLE`: where audit items go.
    pub history_table: String,
    /// `REMEDIATION_MODE`: `enforce` or `dry-run` (default `dry-run`, the safe choice).
    pub mode: RemediationMode,
    /// `REMEDIATION_KMS_KEY_ID`: a customer key; unset = the AWS-managed `aws/s3` key.
    pub kms_key_id: Option<String>,
    /// `MAX_REMEDIATIONS_PER_INVOCATION` (default 25, 1–1000).
    pub max_per_invocation: usize,
    /// `ENVIRONMENT_SUFFIX`.
    pub environment: String,
}

impl RemediatorSettings {
    /// Reads and checks every variable.
    pub fn from_env(env: &dyn Env) -> Result<Self, SettingsError> {
        let mode = match optional(env, "REMEDIATION_MODE").as_deref() {
            None | Some("dry-run") => RemediationMode::DryRun,
            Some("enforce") => RemediationMode::Enforce,
            Some(other) => return Err(invalid("REMEDIATION_MODE", other, "use `enforce` or `dry-run`")),
        };
        let cap = optional(env, "MAX_REMEDIATIONS_PER_INVOCATION").unwrap_or_else(|| "25".to_owned());
        let max_per_invocation = cap
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| invalid("MAX_REMEDIATIONS_PER_INVOCATION", &cap, "a whole number from 1 to 1000"))?;
        let kms_key_id = optional(env, "REMEDIATION_KMS_KEY_ID");
        if let Some(key) = &kms_key_id
            && (key.len() > 2048 || key.chars().any(char::is_whitespace))
        {
            return Err(invalid("REMEDIATION_KMS_KEY_ID", key, "a KMS key id, key ARN or alias"));
        }
        Ok(Self { history_table: required(env, "HISTORY_TABLE")?, mode, kms_key_id, max_per_invocation, environment: environment(env)? })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const ANALYZER: &[(&str, &str)] = &[
        ("CONFIG_BUCKET", "compliance-config-dev"),
        ("HISTORY_TABLE", "compliance-history-dev"),
        ("REPORTS_BUCKET", "compliance-reports-dev"),
        ("ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:compliance-alerts-dev"),
        ("ENVIRONMENT_SUFFIX", "dev"),
    ];

    #[test]
    fn analyzer_defaults_and_errors_name_the_variable() {
        let s = AnalyzerSettings::from_env(&env(ANALYZER)).unwrap();
        assert_eq!((s.threshold_bp, s.criticality_tag.as_str(), s.delivery_channel.as_str()), (7000, "Criticality", "default"));
        for missing in ANALYZER.iter().map(|(k, _)| *k) {
            let partial: Vec<_> = ANALYZER.iter().copied().filter(|(k, _)| *k != missing).collect();
            let error = AnalyzerSettings::from_env(&env(&partial)).unwrap_err().to_string();
            assert!(error.contains(missing), "{error}");
        }
        for (name, bad) in [("SCORE_THRESHOLD", "seventy"), ("SCORE_THRESHOLD", "101"), ("CONFIG_BUCKET", "Bad_Bucket"), ("ALERT_TOPIC_ARN", "topic")] {
            let mut e = env(ANALYZER);
            e.insert(name.to_owned(), bad.to_owned());
            let error = AnalyzerSettings::from_env(&e).unwrap_err().to_string();
            assert!(error.contains(name) && error.contains(bad), "{error}");
        }
        let mut e = env(ANALYZER);
        e.insert("SCORE_THRESHOLD".to_owned(), "72.5".to_owned());
        assert_eq!(AnalyzerSettings::from_env(&e).unwrap().threshold_bp, 7250);
    }

    #[test]
    fn the_waiver_file_is_a_key_in_a_bucket() {
        let s = AnalyzerSettings::from_env(&env(ANALYZER)).unwrap();
        assert_eq!((s.waivers, s.alert_on_score_with_waivers), (None, false));
        let with = |extra: &[(&str, &str)]| {
            let mut e = env(ANALYZER);
            e.extend(env(extra));
            AnalyzerSettings::from_env(&e)
        };
        let s = with(&[("WAIVERS_BUCKET", "compliance-config-dev"), ("WAIVERS_KEY", "governance/waivers.yaml"), ("ALERT_SCORE", "score-with-waivers")]).unwrap();
        assert_eq!(s.waivers, Some(WaiverObject { bucket: "compliance-config-dev".to_owned(), key: "governance/waivers.yaml".to_owned() }));
        assert!(s.alert_on_score_with_waivers);
        assert_eq!(with(&[("WAIVERS_BUCKET", "b-1"), ("WAIVERS_KEY", "")]).unwrap().waivers, None, "the stack's default: no key");
        assert_eq!(with(&[("WAIVERS_KEY", "w.yaml")]).unwrap_err(), SettingsError::Missing("WAIVERS_BUCKET"));
        assert!(with(&[("WAIVERS_BUCKET", "Bad_Bucket"), ("WAIVERS_KEY", "w.yaml")]).unwrap_err().to_string().contains("WAIVERS_BUCKET"));
        assert!(with(&[("ALERT_SCORE", "waived")]).unwrap_err().to_string().contains("ALERT_SCORE"));
    }

    #[test]
    fn remediator_is_safe_by_default() {
        let base = [("HISTORY_TABLE", "t"), ("ENVIRONMENT_SUFFIX", "dev")];
        let s = RemediatorSettings::from_env(&env(&base)).unwrap();
        assert_eq!((s.mode, s.max_per_invocation, s.kms_key_id), (RemediationMode::DryRun, 25, None));
        let s = RemediatorSettings::from_env(&env(&[base[0], base[1], ("REMEDIATION_MODE", "enforce"), ("REMEDIATION_KMS_KEY_ID", ""), ("MAX_REMEDIATIONS_PER_INVOCATION", "3")])).unwrap();
        assert_eq!((s.mode, s.max_per_invocation, s.kms_key_id), (RemediationMode::Enforce, 3, None));
        for (name, bad) in [("REMEDIATION_MODE", "yes"), ("MAX_REMEDIATIONS_PER_INVOCATION", "0"), ("MAX_REMEDIATIONS_PER_INVOCATION", "many")] {
            let error = RemediatorSettings::from_env(&env(&[base[0], base[1], (name, bad)])).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
        assert_eq!(RemediatorSettings::from_env(&env(&[base[1]])).unwrap_err(), SettingsError::Missing("HISTORY_TABLE"));
        assert!(EvaluatorSettings::from_env(&env(&[("ENVIRONMENT_SUFFIX", "dev prod")])).unwrap_err().to_string().contains("ENVIRONMENT_SUFFIX"));
    }

    #[test]
    fn rollup_settings_check_the_org_id_and_hours() {
        let base = [
            ("ORG_ID", "o-a1b2c3d4e5"),
            ("HISTORY_TABLE", "t"),
            ("REPORTS_BUCKET", "compliance-reports-dev"),
            ("ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:compliance-alerts-dev"),
            ("ENVIRONMENT_SUFFIX", "dev"),
        ];
        let s = RollupSettings::from_env(&env(&base)).unwrap();
        assert_eq!((s.window_hours, s.forget_after_hours, s.threshold_bp, s.hour_index.as_str()), (24, 24, 7000, "ByHour"));
        for (name, bad) in [("ORG_ID", "o-short"), ("ORG_ID", "r-a1b2c3d4e5"), ("ORG_ID", "o-A1B2C3D4E5"), ("WINDOW_HOURS", "0"), ("WINDOW_HOURS", "169"), ("FORGET_AFTER_HOURS", "x")] {
            let mut e = env(&base);
            e.insert(name.to_owned(), bad.to_owned());
            let error = RollupSettings::from_env(&e).unwrap_err().to_string();
            assert!(error.contains(name) && error.contains(bad), "{error}");
        }
    }
}
